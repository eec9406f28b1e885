import { DatabaseUnavailableError } from './database';
import { fromDatabaseLayer } from './database-origin';

/**
 * Node's socket errors: the server cannot be reached, or the connection broke. Any
 * socket raises them, so they say "database" only on an error from the database layer.
 */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

/**
 * PostgreSQL's own codes for "not now": too many connections (53300), the server
 * shutting down or starting (57P01-57P03).
 */
const SERVER_CODES = new Set(['53300', '57P01', '57P02', '57P03']);

/**
 * Prisma's codes for the same: can't reach (P1001), timed out (P1002, P1008),
 * connection closed (P1017), no connection from the pool in time (P2024).
 */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/** The driver adapter's kinds of the same (under Prisma's `meta.driverAdapterError`). */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/**
 * node-postgres' own messages for a connection it lost or could not get in time:
 * a query unanswered within `query_timeout`, no pool connection within
 * `connectionTimeoutMillis`, a connection ended under a query.
 */
const DRIVER_MESSAGES = [
  'Query read timeout',
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'is not queryable',
];

/**
 * Whether `error` (or one of its causes) says the database cannot answer now:
 * unreachable, partitioned, restarting or out of connections. Such a failure is
 * the platform's `503 service_unavailable` (try again), not a bug's 500; an SQL
 * error the server reported about the statement itself is not one. A socket error
 * counts only from the database layer (an error of its, or a cause of one): from
 * anywhere else (an upstream, Redis) it is no database outage.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let fromDatabase = false;
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
    fromDatabase ||= fromDatabaseLayer(e);
    if (saysUnavailable(e, fromDatabase)) return true;
    const next = (e as { cause?: unknown }).cause;
    if (next === e) break;
    e = next;
  }
  return false;
}

/**
 * Whether one error says the database cannot answer now (its causes aside): by a
 * code or message only PostgreSQL, node-postgres or Prisma use, or, when it comes
 * from the database layer, by a socket error.
 */
function saysUnavailable(e: object, fromDatabase: boolean): boolean {
  const { code, message, meta } = e as {
    code?: unknown;
    message?: unknown;
    meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
  };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return fromDatabase;
    if (PRISMA_CODES.has(code) || SERVER_CODES.has(code)) return true;
    // An interactive transaction that got no connection in time (P2028 also names other transaction misuse).
    if (code === 'P2028' && typeof message === 'string' && message.includes('Unable to start a transaction'))
      return true;
    // SQLSTATE class 08: connection exception.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  const adapter = meta?.driverAdapterError?.cause;
  if (typeof adapter?.kind === 'string' && ADAPTER_KINDS.has(adapter.kind)) return true;
  if (typeof adapter?.originalCode === 'string' && SERVER_CODES.has(adapter.originalCode)) return true;
  return typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.includes(m));
}

/**
 * PostgreSQL's "character not storable" codes: a NUL in a text value (22021) or a
 * `\u0000` in a JSON value (22P05). Either is the client's bad input, not a bug.
 */
const UNSTORABLE_TEXT_CODES = new Set(['22021', '22P05']);

/**
 * Whether `error` (or one of its causes) is PostgreSQL refusing a character it
 * cannot store, as Prisma reports it through the driver adapter (pg and PGlite alike:
 * `meta.driverAdapterError.cause.originalCode`) or as the driver raised it (`code`).
 */
export function isUnstorableText(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const { code, meta } = e as {
      code?: unknown;
      meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
    };
    if (typeof code === 'string' && UNSTORABLE_TEXT_CODES.has(code)) return true;
    const original = meta?.driverAdapterError?.cause?.originalCode;
    if (typeof original === 'string' && UNSTORABLE_TEXT_CODES.has(original)) return true;
    const next = (e as { cause?: unknown }).cause;
    if (next === e) break;
    e = next;
  }
  return false;
}

/**
 * A one-line reason for logs: the last line of the message (Prisma's messages
 * start with the call site and end with the driver's reason).
 */
export function databaseErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message.split('\n').filter((line) => line.trim() !== '');
  return lines.at(-1)?.trim() ?? 'unknown error';
}
