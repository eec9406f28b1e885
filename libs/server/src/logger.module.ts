import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from '@app/config';
import { assignRequestId } from './request-id';

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
 * completions never appear because bodies are not serialised.
 */
@Module({})
export class ServerLoggerModule {
  static forRoot(config: AppConfig, app: string): DynamicModule {
    return {
      module: ServerLoggerModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            name: app,
            // The first middleware already assigned the id (and echoed it); reuse it.
            genReqId: (req, res) => (req as { id?: string }).id ?? assignRequestId(req, res),
            customAttributeKeys: { reqId: 'requestId' },
            redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
            quietReqLogger: true,
            serializers: {
              req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: req.url }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
            customLogLevel: (_req, res, error) =>
              error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
            autoLogging: { ignore: (req) => req.url === '/health' || req.url === '/metrics' },
          },
        }),
      ],
      exports: [LoggerModule],
    };
  }
}
