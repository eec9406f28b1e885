import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE, type Database } from '@app/db';
import { FakeOpenAIServer } from '@app/testing';
import { startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, createKey, createTeam } from '../support/tenancy';

const redisUrl = process.env.TEST_REDIS_URL;
const chat = (platform: TestPlatform, key: string, model = 'openai/gpt-4o-mini') =>
  call(`${platform.gatewayUrl}/v1/chat/completions`, {
    token: key,
    body: { model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 20 },
  });

async function burst(platforms: TestPlatform[], key: string, count: number) {
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) => chat(platforms[i % platforms.length], key)),
  );
  return {
    ok: responses.filter((r) => r.status === 200),
    limited: responses.filter((r) => r.status === 429),
    other: responses.filter((r) => r.status !== 200 && r.status !== 429),
  };
}

/** Rate limits, budgets and model access on the real completions endpoint. */
describe('limits on /v1/chat/completions', () => {
  const upstream = new FakeOpenAIServer();
  let platform: TestPlatform;

  beforeAll(async () => {
    const env = { OPENAI_API_KEY: 'sk-up', OPENAI_BASE_URL: await upstream.start() };
    platform = await startPlatform({ env });
  });
  afterAll(async () => {
    await platform?.close();
    await upstream.close();
  });

  it('admits exactly the RPM limit of concurrent requests and puts the rate-limit headers on every response', async () => {
    const teamId = await createTeam(platform, { rpm: 3 });
    const { key } = await createKey(platform, teamId, { tpm: 100_000 });
    const { ok, limited, other } = await burst([platform], key, 8);
    expect(other.map((r) => r.body)).toEqual([]);
    expect(ok).toHaveLength(3);
    expect(limited).toHaveLength(5);
    for (const res of ok) {
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
      expect(Number(res.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(100_000);
    }
    expect(ok.map((r) => r.headers.get('x-ratelimit-remaining-requests')).sort()).toEqual(['0', '1', '2']);
    for (const res of limited) {
      expect(res.body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(res.headers.get('x-ratelimit-limit-tokens')).toBe('100000');
    }
  });

  it('refuses a model outside the allowed list with 403 before any upstream call', async () => {
    const teamId = await createTeam(platform, { allowedModels: ['openai/*'] });
    const { key } = await createKey(platform, teamId, { allowedModels: ['openai/gpt-4o'] });
    const before = upstream.requests.length;
    const res = await chat(platform, key, 'openai/gpt-4o-mini');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('model_not_allowed');
    expect(upstream.requests.length).toBe(before);
    expect((await chat(platform, key, 'openai/gpt-4o')).status).toBe(200);
  });

  it('checks a key and its team list by list: the key may use a route it names when its team allows every target', async () => {
    const alias = `team-route-${randomUUID().slice(0, 8)}`;
    const mixed = `mixed-route-${randomUUID().slice(0, 8)}`;
    const api = adminApi(platform);
    const route = (name: string, targets: Array<{ provider: string; model: string }>) =>
      api.post('/api/routes', { alias: name, strategy: 'fallback', targets });
    expect((await route(alias, [{ provider: 'openai', model: 'gpt-4o' }])).status).toBe(201);
    expect(
      (
        await route(mixed, [
          { provider: 'openai', model: 'gpt-4o' },
          { provider: 'mock', model: 'echo-1' },
        ])
      ).status,
    ).toBe(201);
    const teamId = await createTeam(platform, { allowedModels: ['openai/*'] });
    const { key } = await createKey(platform, teamId, { allowedModels: [alias, mixed] });
    expect((await chat(platform, key, alias)).status).toBe(200);
    // The team does not allow the mock behind the other route; nor does the key name openai's models.
    expect((await chat(platform, key, mixed)).status).toBe(403);
    expect((await chat(platform, key, 'openai/gpt-4o')).status).toBe(403);
    const models = await call(`${platform.gatewayUrl}/v1/models`, { token: key });
    expect(models.body.data.map((m: { id: string }) => m.id)).toEqual([alias]);
  });

  it('answers 429 budget_exceeded once the spend in usage records reaches the budget', async () => {
    const teamId = await createTeam(platform);
    const { id, key } = await createKey(platform, teamId, { budgetUsd: 1, budgetPeriod: 'monthly' });
    const database = platform.gateway!.app.get<Database>(DATABASE);
    await database.driver.query(
      `INSERT INTO usage_records (request_id, team_id, api_key_id, endpoint, model_requested, cost_usd, latency_ms, status)
       VALUES ($1, $2, $3, 'chat', 'openai/gpt-4o', 1.25, 10, 200)`,
      [randomUUID(), teamId, id],
    );
    const res = await chat(platform, key);
    expect(res.status).toBe(429);
    expect(res.body.error).toMatchObject({ code: 'budget_exceeded', type: 'insufficient_quota' });
    expect(res.body.error.message).toMatch(
      /has spent \$1\.2500 of its \$1\.00 monthly budget; it resets at \d{4}-\d\d-01T00:00:00\.000Z/,
    );
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe.skipIf(!redisUrl)(
  `limits on /v1/chat/completions across two gateways sharing Redis${redisUrl ? '' : ' (skipped: TEST_REDIS_URL is not set)'}`,
  () => {
    const upstream = new FakeOpenAIServer();
    let first: TestPlatform;
    let second: TestPlatform;

    beforeAll(async () => {
      const env = { OPENAI_API_KEY: 'sk-up', OPENAI_BASE_URL: await upstream.start(), REDIS_URL: redisUrl };
      first = await startPlatform({ env });
      second = await startPlatform({ database: first.database, apps: ['gateway'], env });
    });
    afterAll(async () => {
      await second?.close();
      await first?.close();
      await upstream.close();
    });

    it('lets both gateways together admit no more than the key RPM', async () => {
      const teamId = await createTeam(first);
      const { key } = await createKey(first, teamId, { rpm: 5 });
      const { ok, limited, other } = await burst([first, second], key, 14);
      expect(other.map((r) => r.body)).toEqual([]);
      expect(ok).toHaveLength(5);
      expect(limited).toHaveLength(9);
    });
  },
);
