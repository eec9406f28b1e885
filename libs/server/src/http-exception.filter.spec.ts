import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresDriver } from '@app/db';
import { toGatewayError } from './http-exception.filter';

/** The error of a TCP connection to a port nothing listens on (as an upstream or Redis would raise it). */
function refusedSocket(): Promise<Error> {
  return new Promise((resolve) => {
    const socket = connect(9, '127.0.0.1');
    socket.on('error', resolve);
  });
}

describe('toGatewayError and socket errors', () => {
  const driver = PostgresDriver.create('postgresql://nobody@127.0.0.1:9/nothing', { max: 1 });
  afterAll(() => driver.close());

  it('answers a socket error from anywhere but the database as the 500 it is, not 503 database_unavailable', async () => {
    const socket = await refusedSocket();
    expect(socket).toMatchObject({ code: 'ECONNREFUSED' });
    for (const error of [socket, new Error('the upstream call failed', { cause: socket })]) {
      expect(toGatewayError(error)).toMatchObject({ code: 'internal_error', status: 500 });
    }
  });

  it('answers the database refusing connections with 503 database_unavailable, however it is wrapped', async () => {
    const refused = await driver.query('SELECT 1').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    for (const error of [refused, new Error('loading the key failed', { cause: refused })]) {
      expect(toGatewayError(error)).toMatchObject({ code: 'database_unavailable', status: 503, retryAfter: 5 });
    }
  });
});
