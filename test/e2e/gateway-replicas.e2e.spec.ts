import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const redisUrl = process.env.TEST_REDIS_URL;
const reason = redisUrl ? '' : ' (skipped: TEST_REDIS_URL is not set; sharing circuits between processes needs Redis)';

describe.skipIf(!redisUrl)(`circuit breakers shared by two gateway instances through Redis${reason}`, () => {
  const upstream = new FakeOpenAIServer();
  const provider = `flaky-${randomBytes(3).toString('hex')}`;
  let first: TestPlatform;
  let second: TestPlatform;

  beforeAll(async () => {
    await upstream.start();
    const env = {
      REDIS_URL: redisUrl,
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CIRCUIT_COOLDOWN_MS: '60000',
      UPSTREAM_MAX_RETRIES: '0',
    };
    first = await startPlatform({ env });
    second = await startPlatform({ database: first.database, apps: ['gateway'], env });
    const res = await fetch(`${first.adminUrl}/api/providers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: provider, kind: 'openai-compatible', baseUrl: upstream.baseURL, apiKey: 'k' }),
    });
    expect(res.status).toBe(201);
    // The second instance learns of the new provider through the catalog's change bus.
    for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
      const models = await fetch(`${second.gatewayUrl}/v1/providers`, {
        headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
      });
      if (JSON.stringify(await models.json()).includes(provider)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await upstream.close();
  });

  const client = (platform: TestPlatform) =>
    new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  const ask = (platform: TestPlatform) =>
    client(platform).chat.completions.create({ model: `${provider}/m`, messages: [{ role: 'user', content: 'hi' }] });
  const posts = () => upstream.requests.filter((r) => r.method === 'POST').length;

  it('skips a provider on the second instance once the first opened its circuit', async () => {
    upstream.enqueue({ status: 500, times: 2, match: (r) => r.method === 'POST' });
    await expect(ask(first)).rejects.toMatchObject({ status: 502 });
    await expect(ask(first)).rejects.toMatchObject({ status: 502 });
    expect(posts()).toBe(2);

    // The second instance saw no failure itself; the opened circuit reaches it through Redis.
    const deadline = Date.now() + 3_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = await ask(second).then(
        () => 200,
        (error: { status: number }) => error.status,
      );
      if (status === 503) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(503);
    // And it stays open there: a call the second placed before the news arrived
    // (answered late, with success) does not close it; nothing more reaches the upstream.
    const reached = posts();
    for (let i = 0; i < 3; i++) await expect(ask(second)).rejects.toMatchObject({ status: 503 });
    expect(posts()).toBe(reached);
  });

  it('keeps it open when a call placed before it opened answers late, on either instance', async () => {
    const slow = `slow-${randomBytes(3).toString('hex')}`;
    const res = await fetch(`${first.adminUrl}/api/providers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: slow, kind: 'openai-compatible', baseUrl: upstream.baseURL, apiKey: 'k' }),
    });
    expect(res.status).toBe(201);
    const askSlow = (platform: TestPlatform) =>
      client(platform).chat.completions.create({ model: `${slow}/m`, messages: [{ role: 'user', content: 'hi' }] });
    const status = (platform: TestPlatform) =>
      askSlow(platform).then(
        () => 200,
        (error: { status: number }) => error.status,
      );
    for (const deadline = Date.now() + 5_000; Date.now() < deadline && (await status(second)) !== 200;) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // The second instance places a call that the upstream answers (with success) only
    // after the first has opened the circuit and the news has reached the second.
    upstream.enqueue({ delayMs: 1_000, match: (r) => r.method === 'POST' });
    const before = posts();
    const late = status(second);
    while (posts() === before) await new Promise((resolve) => setTimeout(resolve, 5));
    upstream.enqueue({ status: 500, times: 2, match: (r) => r.method === 'POST' });
    expect(await status(first)).toBe(502);
    expect(await status(first)).toBe(502);
    const circuitOnSecond = async () => {
      const res = await fetch(`${second.gatewayUrl}/v1/providers`, {
        headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
      });
      const { data } = (await res.json()) as { data: Array<{ name: string; circuit: string }> };
      return data.find((p) => p.name === slow)?.circuit;
    };
    for (const deadline = Date.now() + 3_000; Date.now() < deadline && (await circuitOnSecond()) !== 'open';) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await circuitOnSecond()).toBe('open');
    expect(await late).toBe(200);

    const reached = posts();
    expect(await status(second)).toBe(503);
    expect(await status(first)).toBe(503);
    expect(posts()).toBe(reached);
  });

  it('passes unknown request fields through to the provider', async () => {
    const other = `plain-${randomBytes(3).toString('hex')}`;
    await fetch(`${first.adminUrl}/api/providers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: other, kind: 'openai-compatible', baseUrl: upstream.baseURL, apiKey: 'k' }),
    });
    await client(first).chat.completions.create({
      model: `${other}/m`,
      messages: [{ role: 'user', content: 'hi' }],
      // A vendor extension the gateway does not know (vLLM's, for instance).
      top_k: 7,
      guided_choice: ['a', 'b'],
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    const body = upstream.requests.filter((r) => r.method === 'POST').at(-1)!.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: 'm', top_k: 7, guided_choice: ['a', 'b'] });
  });
});
