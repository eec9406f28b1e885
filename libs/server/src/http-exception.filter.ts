import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { type ErrorCode, GatewayError, errorEnvelope, withFields } from '@app/contracts';
import { databaseErrorReason, isDatabaseUnavailable, isUnstorableText } from '@app/db';
import { requestIdOf } from './request-id';
import { sendJson } from './responses';

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'invalid_request_error',
  401: 'unauthorized',
  403: 'permission_denied',
  404: 'not_found',
  409: 'conflict',
  413: 'request_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limit_exceeded',
  502: 'upstream_error',
  503: 'service_unavailable',
  504: 'upstream_timeout',
};

/** What a client is told to wait when the database does not answer (the pool's connect timeout is 5 s). */
const DATABASE_RETRY_AFTER_S = 5;

/** Turns anything thrown into a response in the OpenAI error envelope. */
export function toGatewayError(exception: unknown, req?: IncomingMessage): GatewayError {
  if (exception instanceof GatewayError) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request_error');
    const message =
      status === 404 && req ? `Unknown route: ${req.method} ${pathOf(req)}` : httpExceptionMessage(exception);
    return new GatewayError(code, message, { status });
  }
  const bodyError = exception as { type?: string; status?: number; limit?: number };
  if (bodyError?.type === 'entity.parse.failed') {
    return new GatewayError('invalid_json', 'The request body is not valid JSON.');
  }
  if (bodyError?.type === 'entity.too.large') {
    return new GatewayError(
      'request_too_large',
      `The request body is larger than the limit of ${bodyError.limit} bytes.`,
    );
  }
  if (bodyError?.type === 'encoding.unsupported' || bodyError?.type === 'charset.unsupported') {
    return new GatewayError('unsupported_media_type', 'The request body uses an unsupported encoding.');
  }
  const readError = clientBodyError(exception);
  if (readError) return readError;
  if (isUnstorableText(exception)) {
    return new GatewayError(
      'invalid_request_error',
      'A text field contains a character PostgreSQL cannot store (NUL, \\u0000).',
      { cause: exception },
    );
  }
  if (isDatabaseUnavailable(exception)) {
    return new GatewayError('database_unavailable', 'The database is not answering at the moment. Retry shortly.', {
      retryAfter: DATABASE_RETRY_AFTER_S,
      cause: exception,
    });
  }
  return new GatewayError('internal_error', 'Internal server error.', { cause: exception });
}

/**
 * The body parser's other client errors (http-errors with a 4xx status it chose
 * to expose): a compressed body that does not inflate as its `content-encoding`
 * says (zlib's and brotli's codes), a body shorter than its `content-length`.
 */
function clientBodyError(exception: unknown): GatewayError | undefined {
  const error = exception as { status?: unknown; expose?: unknown; code?: unknown; message?: unknown };
  if (typeof error?.status !== 'number' || error.status < 400 || error.status >= 500 || error.expose !== true) return;
  const reason = typeof error.message === 'string' ? error.message : 'unreadable';
  const message =
    typeof error.code === 'string' && /^(Z_|ERR__ERROR_)/.test(error.code)
      ? `The request body does not decode as its content-encoding says (${reason}).`
      : `The request body could not be read (${reason}).`;
  return new GatewayError(STATUS_CODES[error.status] ?? 'invalid_request_error', message, { status: error.status });
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

function isHealthReport(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'details' in body && 'status' in body;
}

/**
 * Writes a {@link GatewayError} as JSON (headers, `retry-after`, and the body,
 * by default the OpenAI envelope); once the response has started, cuts it.
 */
export function sendError(res: ServerResponse, error: GatewayError, body: object = error.toEnvelope()): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let headers =
    error.retryAfter === undefined
      ? error.headers
      : withFields(error.headers ?? {}, { 'retry-after': String(Math.max(0, Math.ceil(error.retryAfter))) });
  // A body refused before it was all read (413, 415) is not read on: the connection closes after the answer.
  if ((error.status === 413 || error.status === 415) && res.req && !res.req.complete) {
    headers = withFields(headers ?? {}, { connection: 'close' });
  }
  sendJson(res, error.status, body, headers);
}

const unhandled = new Logger('HttpExceptionFilter');
/** When a database outage was last logged: once a minute is enough to see it, not once a request. */
let databaseWarnedAt = 0;

/**
 * Anything thrown while serving `req`, as its {@link GatewayError}; an
 * unexpected failure (500 `internal_error`) is logged once with the request id,
 * a database that does not answer at most once a minute.
 */
export function failureOf(exception: unknown, req: IncomingMessage): GatewayError {
  const error = toGatewayError(exception, req);
  if (error.status >= 500 && error.code === 'internal_error') {
    unhandled.error({ err: exception, requestId: requestIdOf(req) }, 'Unhandled error');
  } else if (error.code === 'database_unavailable' && Date.now() - databaseWarnedAt >= 60_000) {
    databaseWarnedAt = Date.now();
    unhandled.warn(
      { requestId: requestIdOf(req) },
      `The database is not answering, requests that need it get 503: ${databaseErrorReason(exception)}`,
    );
  }
  return error;
}

/** An error's response body for a route with an error shape of its own; `undefined` for the OpenAI envelope. */
export type ErrorBody = (error: GatewayError, req: IncomingMessage) => object | undefined;

/** The one exception filter of each app. Unknown errors are 500, logged once with the request id. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  constructor(private readonly errorBody?: ErrorBody) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (exception instanceof HttpException && isHealthReport(exception.getResponse())) {
      // Terminus' readiness report is the body monitoring tools expect: keep it as is.
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    const error = failureOf(exception, req);
    sendError(res, error, this.errorBody?.(error, req));
  }
}

export { errorEnvelope };
