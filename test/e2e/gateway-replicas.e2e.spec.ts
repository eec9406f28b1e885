import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const redisUrl = process.env.TEST_REDIS_URL;
const reason = redisUrl ? '' : ' (skipped: TEST_REDIS_URL is not set; sharing circuits between processes needs Redis)';

describe.skipIf(!redisUrl)(`circuit breakers shared by two gateway instances through Redis${reason}`, () => {
  const upstream = new FakeOpenAIServer();
  /** Another upstream, made to fail where a test needs it. */
  const broken = new FakeOpenAIServer();
  /** An upstream whose model list a test changes (its `models` array, as the fake reads it). */
  const tag = randomBytes(3).toString('hex');
  const listed = [`old-${tag}`, 'bad\nid'];
  const changing = new FakeOpenAIServer({ models: listed });
  const provider = `flaky-${randomBytes(3).toString('hex')}`;
  let first: TestPlatform;
  let second: TestPlatform;

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${first.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const addProvider = (name: string, baseUrl = upstream.baseURL) =>
    admin('POST', '/api/providers', { name, kind: 'openai-compatible', baseUrl, apiKey: 'k' });
  /** The providers an instance lists (`/v1/providers`), with their circuit state. */
  const providers = async (platform: TestPlatform) => {
    const res = await fetch(`${platform.gatewayUrl}/v1/providers`, {
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
    });
    return ((await res.json()) as { data: Array<{ name: string; circuit: string }> }).data;
  };
  /** Retries `check` every `everyMs` until it holds or `timeoutMs` pass. */
  const until = async (check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 20) => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline && !(await check());) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  };

  beforeAll(async () => {
    await Promise.all([upstream.start(), broken.start(), changing.start()]);
    const env = {
      REDIS_URL: redisUrl,
      CIRCUIT_FAILURE_THRESHOLD: '2',
      CIRCUIT_COOLDOWN_MS: '60000',
      UPSTREAM_MAX_RETRIES: '0',
    };
    first = await startPlatform({ env });
    second = await startPlatform({ database: first.database, apps: ['gateway'], env });
    expect((await addProvider(provider)).status).toBe(201);
    // The second instance learns of the new provider through the catalog's change bus.
    await until(async () => (await providers(second)).some((p) => p.name === provider), 5_000, 50);
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
    await Promise.all([upstream.close(), broken.close(), changing.close()]);
  });

  const client = (platform: TestPlatform) =>
    new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  const ask = (platform: TestPlatform) =>
    client(platform).chat.completions.create({ model: `${provider}/m`, messages: [{ role: 'user', content: 'hi' }] });
  const posts = () => upstream.requests.filter((r) => r.method === 'POST').length;
  /** The HTTP status a call ends with. */
  const statusOf = (call: Promise<unknown>) =>
    call.then(
      () => 200,
      (error: { status: number }) => error.status,
    );

  it('skips a provider on the second instance once the first opened its circuit', async () => {
    upstream.enqueue({ status: 500, times: 2, match: (r) => r.method === 'POST' });
    await expect(ask(first)).rejects.toMatchObject({ status: 502 });
    await expect(ask(first)).rejects.toMatchObject({ status: 502 });
    expect(posts()).toBe(2);

    // The second instance saw no failure itself; the opened circuit reaches it through Redis.
    let status = 0;
    await until(async () => (status = await statusOf(ask(second))) === 503, 3_000);
    expect(status).toBe(503);
    // And it stays open there: a call the second placed before the news arrived
    // (answered late, with success) does not close it; nothing more reaches the upstream.
    const reached = posts();
    for (let i = 0; i < 3; i++) await expect(ask(second)).rejects.toMatchObject({ status: 503 });
    expect(posts()).toBe(reached);
  });

  it('keeps it open when a call placed before it opened answers late, on either instance', async () => {
    const slow = `slow-${randomBytes(3).toString('hex')}`;
    expect((await addProvider(slow)).status).toBe(201);
    const askSlow = (platform: TestPlatform) =>
      client(platform).chat.completions.create({ model: `${slow}/m`, messages: [{ role: 'user', content: 'hi' }] });
    const status = (platform: TestPlatform) => statusOf(askSlow(platform));
    await until(async () => (await status(second)) === 200, 5_000, 50);

    // The second instance places a call that the upstream answers (with success) only
    // after the first has opened the circuit and the news has reached the second.
    upstream.enqueue({ delayMs: 1_000, match: (r) => r.method === 'POST' });
    const before = posts();
    const late = status(second);
    await until(() => posts() > before, 3_000, 5);
    expect(posts()).toBe(before + 1);
    upstream.enqueue({ status: 500, times: 2, match: (r) => r.method === 'POST' });
    expect(await status(first)).toBe(502);
    expect(await status(first)).toBe(502);
    const circuitOnSecond = async () => (await providers(second)).find((p) => p.name === slow)?.circuit;
    await until(async () => (await circuitOnSecond()) === 'open', 3_000, 10);
    expect(await circuitOnSecond()).toBe('open');
    expect(await late).toBe(200);

    const reached = posts();
    expect(await status(second)).toBe(503);
    expect(await status(first)).toBe(503);
    expect(posts()).toBe(reached);
  });

  it('starts a provider afresh on every instance when it is reconfigured, or deleted and created again', async () => {
    const name = `phoenix-${randomBytes(3).toString('hex')}`;
    const askPhoenix = (platform: TestPlatform) =>
      statusOf(
        client(platform).chat.completions.create({ model: `${name}/m`, messages: [{ role: 'user', content: 'hi' }] }),
      );
    const openOnBoth = async () => {
      broken.enqueue({ status: 500, times: 2, match: (r) => r.method === 'POST' });
      expect([await askPhoenix(first), await askPhoenix(first)]).toEqual([502, 502]);
      await until(async () => (await askPhoenix(second)) === 503, 3_000);
      expect([await askPhoenix(first), await askPhoenix(second)]).toEqual([503, 503]);
    };
    const created = await addProvider(name, broken.baseURL);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await until(async () => (await providers(second)).some((p) => p.name === name), 5_000, 50);

    await openOnBoth();
    expect((await admin('PATCH', `/api/providers/${id}`, { baseUrl: upstream.baseURL })).status).toBe(200);
    expect([await askPhoenix(first), await askPhoenix(second)]).toEqual([200, 200]);

    expect((await admin('PATCH', `/api/providers/${id}`, { baseUrl: broken.baseURL })).status).toBe(200);
    await openOnBoth();
    expect((await admin('DELETE', `/api/providers/${id}`)).status).toBe(204);
    expect((await addProvider(name)).status).toBe(201);
    expect([await askPhoenix(first), await askPhoenix(second)]).toEqual([200, 200]);
  });

  it('passes unknown request fields through to the provider', async () => {
    const other = `plain-${randomBytes(3).toString('hex')}`;
    expect((await addProvider(other)).status).toBe(201);
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

  it('gives every instance the model list a discovery asked for on one of them found, at once', async () => {
    const name = `disc-${tag}`;
    const created = await addProvider(name, changing.baseURL);
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    /** Whether a bare model name (which resolves only when discovered) is served by an instance. */
    const serves = async (platform: TestPlatform, model: string) =>
      (await statusOf(
        client(platform).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
      )) === 200;
    await until(async () => (await serves(first, listed[0])) && (await serves(second, listed[0])), 5_000, 50);
    expect(await serves(second, listed[0])).toBe(true);
    // An id a request cannot name (a control character in it) is not listed.
    const ids = await fetch(`${first.gatewayUrl}/v1/models`, {
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
    });
    const names = ((await ids.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(names).toContain(`${name}/${listed[0]}`);
    expect(names.some((model) => model.includes('\n'))).toBe(false);

    // The upstream's list changes; a refresh asked for on the first instance reaches the second.
    listed.splice(0, listed.length, `new-${tag}`);
    const refreshed = await fetch(`${first.gatewayUrl}/v1/providers/${name}/models?refresh=true`, {
      headers: { authorization: `Bearer ${TEST_MASTER_KEY}` },
    });
    expect(refreshed.status).toBe(200);
    await until(() => serves(second, `new-${tag}`), 3_000);
    expect(await serves(second, `new-${tag}`)).toBe(true);
    expect(await serves(second, `old-${tag}`)).toBe(false);

    // The same from the admin API's discovery.
    listed.splice(0, listed.length, `newer-${tag}`);
    expect((await admin('GET', `/api/providers/${id}/models`)).status).toBe(200);
    expect(await serves(first, `newer-${tag}`)).toBe(true);
    await until(() => serves(second, `newer-${tag}`), 3_000);
    expect(await serves(second, `newer-${tag}`)).toBe(true);
  });
});
