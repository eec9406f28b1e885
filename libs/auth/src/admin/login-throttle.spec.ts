import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@app/config';
import { GatewayError } from '@app/contracts';
import { RedisConnections } from '@app/server';
import { TcpProxy } from '@app/testing';
import { LOGIN_FAILURES_PER_EMAIL, LOGIN_FAILURES_PER_IP, LoginThrottle } from './login-throttle';

const redisUrl = process.env.TEST_REDIS_URL;
const modes: Array<[string, string | undefined]> = [['memory', undefined]];
if (redisUrl) modes.push(['redis', redisUrl]);
else modes.push(['redis (skipped: TEST_REDIS_URL is not set)', undefined]);

const connections: RedisConnections[] = [];
afterAll(() => Promise.all(connections.map((c) => c.onApplicationShutdown())));

function throttle(redis: string | undefined): LoginThrottle {
  const connection = new RedisConnections(loadConfig({ REDIS_URL: redis }));
  connections.push(connection);
  return new LoginThrottle(connection);
}

async function refusal(promise: Promise<void>): Promise<GatewayError | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error as GatewayError;
  }
}

describe.each(modes)('LoginThrottle (%s)', (mode, redis) => {
  const skip = mode.includes('skipped');

  it.skipIf(skip)('locks an email out after its failures, for every replica, until a success clears it', async () => {
    const [a, b] = [throttle(redis), throttle(redis)];
    const email = `${randomUUID()}@example.com`;
    for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) {
      await a.assertAllowed(email, `ip-${i}-${randomUUID()}`);
      await a.recordFailure(email, `ip-${i}-${randomUUID()}`);
    }
    const checker = redis ? b : a;
    const error = await refusal(checker.assertAllowed(email.toUpperCase(), randomUUID()));
    expect(error).toMatchObject({ code: 'rate_limit_exceeded', status: 429 });
    expect(error?.retryAfter).toBeGreaterThan(800);
    await checker.recordSuccess(email);
    await expect(checker.assertAllowed(email, randomUUID())).resolves.toBeUndefined();
  });

  it.skipIf(skip)('locks an address out after its failures across emails', async () => {
    const t = throttle(redis);
    const ip = `ip-${randomUUID()}`;
    for (let i = 0; i < LOGIN_FAILURES_PER_IP; i++) await t.recordFailure(`${randomUUID()}@example.com`, ip);
    const error = await refusal(t.assertAllowed(`${randomUUID()}@example.com`, ip));
    expect(error?.message).toMatch(/from this address/);
    await expect(t.assertAllowed(`${randomUUID()}@example.com`, `ip-${randomUUID()}`)).resolves.toBeUndefined();
  });
});

describe.skipIf(!redisUrl)('LoginThrottle when Redis goes away', () => {
  it('keeps throttling in the process, without failing or holding up logins', async () => {
    const { proxy, url } = await TcpProxy.before(redisUrl!);
    try {
      const connection = new RedisConnections(loadConfig({ REDIS_URL: url, REDIS_COMMAND_TIMEOUT_MS: '100' }));
      connections.push(connection);
      const t = new LoginThrottle(connection);
      const email = `${randomUUID()}@example.com`;
      await t.assertAllowed(email, 'ip'); // through Redis: the connection is up
      proxy.blackhole();
      const started = performance.now();
      for (let i = 0; i < LOGIN_FAILURES_PER_EMAIL; i++) {
        await t.assertAllowed(email, `ip-${i}`);
        await t.recordFailure(email, `ip-${i}`);
      }
      expect(await refusal(t.assertAllowed(email, 'ip-x'))).toMatchObject({ code: 'rate_limit_exceeded' });
      // One command timeout, then the process's own counts without waiting.
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await proxy.close();
    }
  });
});
