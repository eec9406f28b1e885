import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { assignRequestId } from './request-id';

/** Polled by probes and scrapers: never logged. */
const UNLOGGED_PATHS = new Set(['/health', '/metrics']);

/**
 * The per-request half of logging, in place of pino-http's middleware: the
 * request id (the caller's `x-request-id` or a new one, echoed, kept as
 * `req.id`) and one line when the response ends, at info/warn/error by status,
 * carrying the id. pino-http built two child loggers per request and
 * serialised the request into one of them even when the line was below the log
 * level; here a line below the level costs nothing. Lines logged on a
 * request's behalf elsewhere name its id themselves: no logger is bound to the
 * request's async context, because on Node 20 the first `AsyncLocalStorage`
 * run installs promise hooks that tax every later request.
 */
export class RequestLogging {
  constructor(private readonly root: Logger) {}

  /**
   * Assigns the request id (set on the response at once unless `echoLater`: see
   * `assignRequestId`) and schedules the request's log line.
   */
  begin(req: IncomingMessage, res: ServerResponse, echoLater = false): void {
    req.id = assignRequestId(req, res, !echoLater);
    if (UNLOGGED_PATHS.has(req.url ?? '')) return;
    const started = Date.now();
    res.once('close', () => this.completed(req, res, started));
  }

  private completed(req: IncomingMessage, res: ServerResponse, started: number): void {
    const status = res.statusCode;
    const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (!this.root.isLevelEnabled(level)) return;
    const line = {
      requestId: req.id,
      req: { method: req.method, url: req.url },
      res: { statusCode: status },
      responseTime: Date.now() - started,
    };
    if (status >= 500) {
      this.root.error({ ...line, err: new Error(`failed with status code ${status}`) }, 'request errored');
    } else {
      this.root[level](line, 'request completed');
    }
  }
}
