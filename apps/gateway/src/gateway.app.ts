import { platformVersion, type AppConfig } from '@app/config';
import { createHttpApp, type HttpApp } from '@app/server';
import { messagesErrorBody } from './completions/messages.controller';
import { GatewayModule } from './gateway.module';

/** Builds the gateway app (not yet listening). */
export function createGatewayApp(config: AppConfig): Promise<HttpApp> {
  return createHttpApp(GatewayModule.forRoot(config), config, {
    name: 'gateway',
    title: 'LLM Gateway API',
    description:
      'OpenAI-compatible API over every configured provider. Authenticate with `Authorization: Bearer <key>` or `x-api-key`.',
    version: platformVersion(),
    hotRoutes: true,
    errorBody: messagesErrorBody,
    exposedHeaders: [
      'x-ratelimit-limit-requests',
      'x-ratelimit-remaining-requests',
      'x-ratelimit-limit-tokens',
      'x-ratelimit-remaining-tokens',
      'x-gateway-provider',
      'x-gateway-model',
      'x-gateway-fallbacks',
    ],
  });
}
