import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { TracingService } from '@app/usage';

/** One server span per request when tracing is on; its name becomes `METHOD /route/pattern` once matched. */
@Injectable()
export class TracingMiddleware implements NestMiddleware {
  constructor(private readonly tracing: TracingService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    if (!this.tracing.enabled) return next();
    const attributes = {
      'http.request.method': req.method,
      'url.path': req.originalUrl.split('?')[0],
      'gateway.request_id': (req as Request & { id?: string }).id ?? '',
    };
    this.tracing.inServerSpan(`${req.method}`, req.headers, attributes, (end) => {
      const finish = () => {
        const route = (req.route as { path?: unknown } | undefined)?.path;
        end(res.statusCode, typeof route === 'string' ? route : undefined);
      };
      res.once('finish', finish);
      res.once('close', finish);
      next();
    });
  }
}
