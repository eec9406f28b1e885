import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { AppConfig } from '@app/config';
import { RequestLogging } from './request-logging';

/** Headers and fields never written to the log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.password',
  '*.secret',
];

/**
 * JSON logs through nestjs-pino, one line per request with its id; prompts and
 * completions never appear because bodies are not serialised. The per-request
 * part is {@link RequestLogging} (mounted first by `createHttpApp`); nestjs-pino
 * is the apps' Nest logger only, bound to no route (`forRoutes: []`): binding
 * each request's logger to its async context would install Node 20's
 * `AsyncLocalStorage` promise hooks, ~60-100 µs on every streamed request.
 */
@Module({})
export class ServerLoggerModule {
  static forRoot(config: AppConfig, app: string): DynamicModule {
    const root = pino({
      level: config.logLevel,
      name: app,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    });
    return {
      module: ServerLoggerModule,
      imports: [LoggerModule.forRoot({ pinoHttp: { logger: root }, useExisting: true, forRoutes: [] })],
      providers: [{ provide: RequestLogging, useValue: new RequestLogging(root) }],
      exports: [LoggerModule, RequestLogging],
    };
  }
}
