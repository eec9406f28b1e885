import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@app/config';
import { TcpProxy } from '@app/testing';
import { RedisConnections } from './redis.module';

const redisUrl = process.env.TEST_REDIS_URL;

/** Polls `check` every 50 ms until it holds, failing after `timeoutMs`. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Connections whose path to Redis goes silent while new connections pass (a NAT or
 * load balancer that lost the flow): a real Redis behind a proxy that stops passing
 * what the open connections send.
 */
describe.skipIf(!redisUrl)('RedisConnections on a path that went silent', () => {
  let proxy: TcpProxy | undefined;
  let connections: RedisConnections | undefined;
  afterEach(async () => {
    await connections?.onApplicationShutdown();
    await proxy?.close();
  });

  async function throughProxy(): Promise<RedisConnections> {
    const cut = await TcpProxy.before(redisUrl!);
    proxy = cut.proxy;
    connections = new RedisConnections(
      loadConfig({ REDIS_URL: cut.url, REDIS_COMMAND_TIMEOUT_MS: '100', REDIS_PREFIX: `silent-${process.pid}:` }),
    );
    return connections;
  }

  it('drops a command connection whose commands keep timing out for a new one, and shares again', async () => {
    const redis = await throughProxy();
    const incr = () =>
      redis.sharedOr(
        (client) => client.incr('silent-counter').then(() => 'shared'),
        () => 'local',
      );
    expect(await incr()).toBe('shared');
    proxy!.silenceOpen();
    // Each timeout makes callers skip Redis for a while; the second in a row opens a new connection.
    await until(async () => (await incr()) === 'shared', 10_000, 'Redis was not shared again');
  });

  it('drops a subscriber connection that stops answering, and hears the channel again on a new one', async () => {
    const redis = await throughProxy();
    const subscriber = redis.createSubscriber();
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => heard.push(message));
    await redis.subscribe(subscriber, 'silent-channel', (reason) => {
      throw new Error(reason);
    });
    // Published straight to Redis, as another replica would.
    const publisher = new Redis(redisUrl!);
    try {
      const publish = (message: string) => publisher.publish(redis.channel('silent-channel'), message);
      await publish('before');
      await until(() => heard.includes('before'), 2_000, 'the first message was not heard');
      proxy!.silenceOpen();
      // No command of the subscriber's times out: a PING that goes unanswered gets it a new connection.
      await until(
        async () => {
          await publish('after');
          return heard.includes('after');
        },
        10_000,
        'the subscriber did not hear the channel again',
      );
    } finally {
      publisher.disconnect();
    }
  });
});
