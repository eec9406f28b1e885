import { Logger } from '@nestjs/common';
import { installSignalHandlers, listen, runMain } from '@app/server';
import { createAdminApp, ensureFirstAdmin } from './admin.app';

runMain(async (config) => {
  const admin = await createAdminApp(config);
  const bootstrap = await ensureFirstAdmin(admin);
  const url = await listen(admin, config.adminPort, config.host);
  installSignalHandlers([admin], config.shutdownTimeoutMs);
  new Logger('Admin').log(`Admin listening on ${url} (API docs at ${url}/docs)`);
  if (bootstrap?.generatedPassword) {
    process.stdout.write(
      `\nFirst admin: ${bootstrap.email} / ${bootstrap.generatedPassword} (shown once; change it after logging in)\n\n`,
    );
  }
});
