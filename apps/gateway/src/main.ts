import { Logger } from '@nestjs/common';
import { installSignalHandlers, listen, runMain } from '@app/server';
import { createGatewayApp } from './gateway.app';

runMain(async (config) => {
  const gateway = await createGatewayApp(config);
  const url = await listen(gateway, config.gatewayPort, config.host);
  installSignalHandlers([gateway], config.shutdownTimeoutMs);
  new Logger('Gateway').log(`Gateway listening on ${url}/v1 (docs at ${url}/docs)`);
});
