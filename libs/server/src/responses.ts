import type { ServerResponse } from 'node:http';
import { jsonText } from '@app/contracts';

/**
 * A JSON answer on a plain Node response (what Express's `res.json` sends, without
 * needing Express): status, `content-type`, `content-length`, extra headers.
 */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>): void {
  const text = jsonText(value);
  if (headers) for (const name in headers) res.setHeader(name, headers[name]);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
