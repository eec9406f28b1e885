import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { assignRequestId } from './request-id';

/** Polled by probes and scrapers: never logged. */
const UNLOGGED_PATHS = new Set(['/health', '/metrics']);

type LoggedRequest = IncomingMessage & { id?: string; log?: Logger };

/**
 * The per-request half of logging, in place of pino-http's middleware: the
 * request id (the caller's `x-request-id` or a new one, echoed), a child logger
 * carrying it as `req.log` (nestjs-pino makes it the request's logging context,
 * so every line logged on its behalf has the id), and one line when the response
 * ends, at info/warn/error by status. pino-http built two child loggers per
 * request and serialised the request into one of them even when the line was
 * below the log level; here a line below the level costs nothing.
 */
export class RequestLogging {
  constructor(private readonly root: Logger) {}

  readonly middleware = (req: LoggedRequest, res: ServerResponse, next: () => void): void => {
    const requestId = assignRequestId(req, res);
    req.id = requestId;
    req.log = this.root.child({ requestId });
    if (!UNLOGGED_PATHS.has(req.url ?? '')) {
      const started = Date.now();
      res.once('close', () => this.completed(req, res, started));
    }
    next();
  };

  private completed(req: LoggedRequest, res: ServerResponse, started: number): void {
    const status = res.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (!req.log?.isLevelEnabled(level)) return;
    const line = {
      req: { method: req.method, url: req.url },
      res: { statusCode: status },
      responseTime: Date.now() - started,
    };
    if (status >= 500) {
      req.log.error({ ...line, err: new Error(`failed with status code ${status}`) }, 'request errored');
    } else {
      req.log[level](line, 'request completed');
    }
  }
}
