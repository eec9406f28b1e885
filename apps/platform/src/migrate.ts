// `npm run migrate`: applies pending migrations to the configured database and exits.
// The apps do the same at boot; this is for deploy pipelines that migrate first.
import { openDatabase } from '@app/db';
import { runMain } from '@app/server';

runMain(async (config) => {
  const database = await openDatabase({ ...config.database, log: (message) => process.stdout.write(`${message}\n`) });
  const { applied = [], alreadyApplied = 0 } = database.migrations ?? {};
  process.stdout.write(
    applied.length
      ? `Applied ${applied.length} migration(s); ${alreadyApplied} were already applied.\n`
      : `Database is up to date (${alreadyApplied} migrations).\n`,
  );
  await database.close();
});
