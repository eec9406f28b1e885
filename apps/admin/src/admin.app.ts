import { AdminBootstrapService, type BootstrapResult } from '@app/auth';
import { platformVersion, type AppConfig } from '@app/config';
import { createHttpApp, type HttpApp } from '@app/server';
import { AdminModule } from './admin.module';

/** Builds the admin app (not yet listening). */
export function createAdminApp(config: AppConfig): Promise<HttpApp> {
  return createHttpApp(AdminModule.forRoot(config), config, {
    name: 'admin',
    title: 'LLM Gateway Admin API',
    description:
      'Providers, routes, agents, tools, teams, users, keys and usage. Log in at POST /api/auth/login or use the master key.',
    version: platformVersion(),
    storesBodies: true,
  });
}

/** Creates the first admin account if there is none; see {@link AdminBootstrapService}. */
export function ensureFirstAdmin(admin: HttpApp): Promise<BootstrapResult | undefined> {
  return admin.app.get(AdminBootstrapService).ensureAdmin();
}
