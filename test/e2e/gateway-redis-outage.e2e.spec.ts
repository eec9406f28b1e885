import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer, TcpProxy, within } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const redisUrl = process.env.TEST_REDIS_URL;
const reason = redisUrl ? '' : ' (skipped: TEST_REDIS_URL is not set; cutting Redis needs a real one)';

describe.skipIf(!redisUrl)(`the gateway while Redis goes silent${reason}`, () => {
  let proxy: TcpProxy | undefined;
  let platform: TestPlatform | undefined;
  let key: string;

  const admin = async (path: string, body: object) => {
    const res = await fetch(`${platform!.adminUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    const redis = await TcpProxy.before(redisUrl!);
    proxy = redis.proxy;
    platform = await startPlatform({
      env: {
        REDIS_URL: redis.url,
        REDIS_PREFIX: `outage-${randomBytes(4).toString('hex')}:`,
        REDIS_COMMAND_TIMEOUT_MS: '200',
      },
    });
    // Limits on, so every request asks Redis for its rate window.
    const team = await admin('/api/teams', { name: `outage-${Date.now()}`, rpm: 10_000 });
    key = String((await admin('/api/keys', { teamId: team.id, name: 'outage', rpm: 10_000 })).key);
  });
  afterAll(async () => {
    await platform?.close();
    await proxy?.close();
  });

  it('keeps answering at once, counting limits in the process, instead of waiting for Redis', async () => {
    const gatewayUrl = platform!.gatewayUrl;
    const client = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 });
    const ask = () =>
      client.chat.completions
        .create({ model: 'mock/echo-1', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
    const before = await ask();
    expect(before.response.headers.get('x-ratelimit-remaining-requests')).toBe('9999');

    proxy!.blackhole();
    const answers = await within(
      5_000,
      'requests still waiting',
      (async () => {
        const all = [];
        for (let n = 0; n < 20; n++) all.push(await ask());
        return all;
      })(),
    );
    expect(answers.map((a) => a.response.status)).toEqual(Array(20).fill(200));
    // Counted in this process, which has not seen the request Redis counted.
    expect(answers[19].response.headers.get('x-ratelimit-remaining-requests')).toBe('9980');
    expect((await fetch(`${gatewayUrl}/health`)).status).toBe(200);
  });

  it('shuts down promptly while Redis is still silent', async () => {
    const closing = platform!.close();
    platform = undefined;
    await within(10_000, 'still shutting down', closing);
  });
});

describe.skipIf(!redisUrl)(`the gateway starting while Redis is down${reason}`, () => {
  it.each([
    ['refuses connections', (proxy: TcpProxy) => proxy.refuse()],
    ['accepts connections but never answers', (proxy: TcpProxy) => proxy.blackhole()],
  ])('boots and answers when Redis %s', async (_case, cut) => {
    const redis = await TcpProxy.before(redisUrl!);
    cut(redis.proxy);
    let platform: TestPlatform | undefined;
    try {
      platform = await within(
        30_000,
        'still booting',
        startPlatform({
          apps: ['gateway'],
          env: {
            REDIS_URL: redis.url,
            REDIS_PREFIX: `outage-boot-${randomBytes(4).toString('hex')}:`,
            REDIS_COMMAND_TIMEOUT_MS: '200',
          },
        }),
      );
      const client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
      const answer = await client.chat.completions.create({
        model: 'mock/echo-1',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(answer.choices[0].message.content).toContain('hi');
    } finally {
      await platform?.close();
      await redis.proxy.close();
    }
  });
});

describe.skipIf(!redisUrl)(`circuits opened while a replica could not hear Redis${reason}`, () => {
  const upstream = new FakeOpenAIServer();
  let proxy: TcpProxy | undefined;
  let first: TestPlatform | undefined;
  let second: TestPlatform | undefined;

  /** The circuit of `name` as an instance lists it (`/v1/providers`). */
  const circuit = async (platform: TestPlatform, name: string) => {
    const res = await fetch(`${platform.gatewayUrl}/v1/providers`, {
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
    });
    return ((await res.json()) as { data: Array<{ name: string; circuit: string }> }).data.find((p) => p.name === name)
      ?.circuit;
  };
  const until = async (check: () => Promise<boolean>, timeoutMs: number) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && !(await check());) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  afterAll(async () => {
    await second?.close();
    await first?.close();
    await proxy?.close();
    await upstream.close();
  });

  it('reach it once Redis answers again', async () => {
    await upstream.start();
    const env = { CIRCUIT_FAILURE_THRESHOLD: '2', CIRCUIT_COOLDOWN_MS: '60000', UPSTREAM_MAX_RETRIES: '0' };
    first = await startPlatform({ env: { ...env, REDIS_URL: redisUrl } });
    const redis = await TcpProxy.before(redisUrl!);
    proxy = redis.proxy;
    second = await startPlatform({
      database: first.database,
      apps: ['gateway'],
      env: { ...env, REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '200' },
    });
    const name = `shaky-${randomBytes(3).toString('hex')}`;
    const created = await fetch(`${first.adminUrl}/api/providers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, kind: 'openai-compatible', baseUrl: upstream.baseURL, apiKey: 'k' }),
    });
    expect(created.status).toBe(201);
    await until(async () => (await circuit(second!, name)) === 'closed', 5_000);
    expect(await circuit(second, name)).toBe('closed');

    proxy.refuse();
    upstream.enqueue({ status: 500, times: 2, match: (r) => r.method === 'POST' });
    const client = new OpenAI({ baseURL: `${first.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    for (let i = 0; i < 2; i++) {
      await expect(
        client.chat.completions.create({ model: `${name}/m`, messages: [{ role: 'user', content: 'hi' }] }),
      ).rejects.toMatchObject({ status: 502 });
    }
    expect(await circuit(first, name)).toBe('open');
    // The second instance missed the news while it was cut off from Redis.
    expect(await circuit(second, name)).toBe('closed');

    proxy.restore();
    await until(async () => (await circuit(second!, name)) === 'open', 15_000);
    expect(await circuit(second, name)).toBe('open');
  });
});
