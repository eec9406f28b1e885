import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, unique } from '../support/tenancy';

/** Route strategies end to end: the official SDK calls route aliases whose targets are fake upstreams. */
describe('routing strategies', () => {
  const fast = new FakeOpenAIServer({ apiKey: 'k' });
  const slow = new FakeOpenAIServer({ apiKey: 'k' });
  const third = new FakeOpenAIServer({ apiKey: 'k' });
  let platform: TestPlatform;
  let api: ReturnType<typeof adminApi>;
  let client: OpenAI;

  beforeAll(async () => {
    await Promise.all([fast.start(), slow.start(), third.start()]);
    platform = await startPlatform();
    api = adminApi(platform);
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    for (const [name, server] of [
      ['fast', fast],
      ['slow', slow],
      ['third', third],
    ] as const) {
      const res = await api.post('/api/providers', {
        name,
        kind: 'openai-compatible',
        baseUrl: server.baseURL,
        apiKey: 'k',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([fast.close(), slow.close(), third.close()]);
  });
  beforeEach(() => {
    for (const server of [fast, slow, third]) server.reset();
  });

  const route = async (strategy: string, targets: Array<{ provider: string; weight?: number }>) => {
    const alias = unique(strategy);
    const res = await api.post('/api/routes', {
      alias,
      strategy,
      // A model of its own: latency samples are kept per provider and model, across routes.
      targets: targets.map((t) => ({ model: alias, ...t })),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return alias;
  };
  /** Which provider answered. */
  const answer = async (model: string) => {
    const { response } = await client.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'ping' }] })
      .withResponse();
    return response.headers.get('x-gateway-provider');
  };

  it('weighted: shares requests in proportion to the weights', async () => {
    const alias = await route('weighted', [
      { provider: 'fast', weight: 3 },
      { provider: 'slow', weight: 1 },
    ]);
    const n = 400;
    let first = 0;
    for (let i = 0; i < n; i++) if ((await answer(alias)) === 'fast') first++;
    // Expected 0.75, standard deviation ~0.022: ±0.1 is over four of them (a false failure ~1 in 100,000).
    expect(first / n).toBeGreaterThan(0.65);
    expect(first / n).toBeLessThan(0.85);
  });

  it('round-robin: cycles through the targets in order', async () => {
    const alias = await route('round-robin', [{ provider: 'fast' }, { provider: 'slow' }, { provider: 'third' }]);
    const answered = [];
    for (let i = 0; i < 6; i++) answered.push(await answer(alias));
    expect(answered).toEqual(['fast', 'slow', 'third', 'fast', 'slow', 'third']);
  });

  it('least-latency: measures each target, then prefers the faster one, and follows a change', async () => {
    slow.setDefaultBehaviour({ delayMs: 150 });
    const alias = await route('least-latency', [{ provider: 'slow' }, { provider: 'fast' }]);
    // Unmeasured targets go first, in route order.
    expect([await answer(alias), await answer(alias)]).toEqual(['slow', 'fast']);
    for (let i = 0; i < 5; i++) expect(await answer(alias)).toBe('fast');
    // fast becomes the slower one: once most of its recent calls are slow, slow wins.
    slow.setDefaultBehaviour({});
    fast.setDefaultBehaviour({ delayMs: 300 });
    const answered = [];
    for (let i = 0; i < 12; i++) answered.push(await answer(alias));
    expect(answered.slice(-3)).toEqual(['slow', 'slow', 'slow']);
  });

  it('fallback: tries the targets in order, the first one that answers wins', async () => {
    fast.setDefaultBehaviour({ status: 404 });
    const alias = await route('fallback', [{ provider: 'fast' }, { provider: 'slow' }, { provider: 'third' }]);
    expect(await answer(alias)).toBe('slow');
    expect(third.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});
