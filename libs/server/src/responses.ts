import type { ServerResponse } from 'node:http';
import { jsonText, withFields } from '@app/contracts';
import { withRequestId } from './request-id';

/**
 * A JSON answer on a plain Node response (what Express's `res.json` sends, without
 * needing Express): status, `content-type`, `content-length`, extra headers, and
 * the request id, all handed to `writeHead` at once (see `assignRequestId`).
 */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void {
  const text = jsonText(value);
  const head = withFields(headers ?? {}, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.writeHead(status, withRequestId(res, head));
  res.end(text);
}
