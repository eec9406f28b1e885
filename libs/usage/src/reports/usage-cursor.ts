import { GatewayError } from '@app/contracts';

/** An opaque page cursor: the (createdAt, id) of the last record shown. */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

/** @throws GatewayError 400 for anything {@link encodeCursor} did not produce. */
export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [time, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(time ?? '');
  if (extra !== undefined || !id || !/^\d{1,19}$/.test(id) || Number.isNaN(createdAt.getTime())) {
    throw new GatewayError('invalid_request_error', 'Invalid `cursor`: pass the `nextCursor` of the previous page.', {
      param: 'cursor',
    });
  }
  return { createdAt, id };
}
