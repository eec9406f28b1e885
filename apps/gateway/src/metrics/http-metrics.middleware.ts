import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { GatewayMetrics } from '@app/usage';

/** Counts every HTTP request by method, matched route pattern (never the raw path) and status. */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: GatewayMetrics) {}

  use(req: Request, res: Response, next: NextFunction): void {
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      this.metrics.observeHttp(req.method, typeof route === 'string' ? route : undefined, res.statusCode);
    });
    next();
  }
}
