import { defineConfig } from 'prisma/config';

// Prisma 7 reads no .env and `env('DATABASE_URL')` throws when the variable is unset, which
// would break `prisma generate` for everyone on the embedded PGlite default. The url is only
// needed by Prisma's own migrate/db commands, so pass it through only when it is set.
const databaseUrl = process.env.DATABASE_URL;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
  },
  ...(databaseUrl ? { datasource: { url: databaseUrl } } : {}),
});
