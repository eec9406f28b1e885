// The all-in-one launcher: both apps in one process, sharing one database
// connection (required by the embedded PGlite). It is the composition root,
// the one place allowed to import from both apps.
import { installSignalHandlers, listen, runMain } from '@app/server';
import { createAdminApp, ensureFirstAdmin } from '../../admin/src/admin.app';
import { createGatewayApp } from '../../gateway/src/gateway.app';

runMain(async (config) => {
  const gateway = await createGatewayApp(config);
  const admin = await createAdminApp(config);
  const bootstrap = await ensureFirstAdmin(admin);
  const gatewayUrl = await listen(gateway, config.gatewayPort, config.host);
  const adminUrl = await listen(admin, config.adminPort, config.host);
  installSignalHandlers([gateway, admin], config.shutdownTimeoutMs);
  const lines = [
    '',
    `  LLM gateway is running (${config.database.url ? 'PostgreSQL' : `embedded database in ${config.database.dataDir}`})`,
    `  OpenAI-compatible API  ${gatewayUrl}/v1     docs ${gatewayUrl}/docs`,
    `  Dashboard and admin API ${adminUrl}         docs ${adminUrl}/docs`,
  ];
  if (bootstrap?.generatedPassword) {
    lines.push(`  First admin login      ${bootstrap.email} / ${bootstrap.generatedPassword}   (shown once)`);
  } else if (bootstrap) {
    lines.push(`  First admin login      ${bootstrap.email} (password from ADMIN_PASSWORD)`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
});
