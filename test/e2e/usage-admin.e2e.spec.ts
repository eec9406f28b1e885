import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestPostgres } from '@app/testing';
import { UsageRecorder, UsageWriter } from '@app/usage';
import { startPlatform, type TestPlatform } from '../support/platform';
import { type Json, adminApi, createKey, createTeam, createUserAndLogin } from '../support/tenancy';
import { usageEvent } from '../support/usage';

const kinds: Array<'pglite' | 'postgres'> = hasTestPostgres() ? ['pglite', 'postgres'] : ['pglite'];
const HOUR = 3_600_000;

const FIELDS = [
  'requests',
  'errors',
  'promptTokens',
  'completionTokens',
  'cachedTokens',
  'totalTokens',
  'costUsd',
] as const;
type Totals = Record<(typeof FIELDS)[number], number>;

function totalsOf(records: Json[]): Totals {
  const t: Totals = {
    requests: 0,
    errors: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    totalTokens: 0,
    costUsd: 0,
  };
  for (const r of records) {
    t.requests++;
    if (r.status >= 400) t.errors++;
    t.promptTokens += r.promptTokens;
    t.completionTokens += r.completionTokens;
    t.cachedTokens += r.cachedTokens;
    t.totalTokens += r.totalTokens;
    t.costUsd += r.costUsd;
  }
  return t;
}

function expectTotals(actual: Json, expected: Totals): void {
  for (const field of FIELDS) {
    if (field === 'costUsd') expect(actual.costUsd, field).toBeCloseTo(expected.costUsd, 7);
    else expect(actual[field], field).toBe(expected[field]);
  }
}

function sumOf(items: Json[]): Totals {
  const t = totalsOf([]);
  for (const item of items) for (const field of FIELDS) t[field] += item[field];
  return t;
}

describe.each(kinds)('usage and pricing admin API (%s)', (kind) => {
  let platform: TestPlatform;
  let api: ReturnType<typeof adminApi>;
  const teams: string[] = [];
  const keys: string[] = [];
  // A window of 60 hours ending at a whole hour an hour ago: well inside every default range.
  const end = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR);
  const start = new Date(end.getTime() - 60 * HOUR);

  /** Every record of the window, read page by page with a small page size. */
  async function allRecords(query = ''): Promise<Json[]> {
    const out: Json[] = [];
    let cursor: string | null = null;
    do {
      const page: Json = await api.get(
        `/api/usage/records?from=${start.toISOString()}&to=${end.toISOString()}&limit=37${query}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      out.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    return out;
  }

  beforeAll(async () => {
    platform = await startPlatform({ databaseKind: kind });
    api = adminApi(platform);
    for (let t = 0; t < 2; t++) {
      teams.push(await createTeam(platform));
      keys.push((await createKey(platform, teams[t])).id);
    }
    const recorder = platform.gateway!.app.get(UsageRecorder);
    const models: Array<[string, string]> = [
      ['openai', 'gpt-4o'],
      ['openai', 'gpt-4o-mini'],
      ['anthropic', 'claude-3-5-haiku-20241022'],
      ['ollama', 'llama3:8b'],
    ];
    // 300 requests spread over the window (and a few outside it), over teams, keys, models, agents and statuses.
    for (let i = 0; i < 300; i++) {
      const [provider, model] = models[i % models.length];
      const team = i % 3;
      recorder.record(
        usageEvent({
          startedAt: new Date(start.getTime() + ((i * 12_345_678) % (60 * HOUR))),
          teamId: team < 2 ? teams[team] : null,
          apiKeyId: team < 2 ? keys[team] : null,
          agentId: i % 5 === 0 ? 'support-bot' : null,
          provider,
          modelRequested: model,
          modelServed: i % 11 === 0 ? null : model,
          status: i % 11 === 0 ? 502 : i % 13 === 0 ? 429 : 200,
          usage:
            i % 11 === 0
              ? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }
              : { promptTokens: 100 + i, completionTokens: 10 + (i % 50), cachedTokens: i % 4 === 0 ? 50 : 0 },
        }),
      );
    }
    for (const offset of [-2 * HOUR, 2 * HOUR]) {
      recorder.record(usageEvent({ startedAt: new Date((offset < 0 ? start : end).getTime() + offset) }));
    }
    await platform.gateway!.app.get(UsageWriter).flush();
  });
  afterAll(() => platform?.close());

  it('finds the requests of an x-request-id, each billed even when a client reuses the id', async () => {
    const requestId = `client-chosen-${randomUUID()}`;
    const recorder = platform.gateway!.app.get(UsageRecorder);
    const at = new Date(end.getTime() + 30 * 60_000);
    recorder.record(usageEvent({ requestId, startedAt: at }));
    recorder.record(usageEvent({ requestId, startedAt: new Date(at.getTime() + 1) }));
    await platform.gateway!.app.get(UsageWriter).flush();
    const res = await api.get(`/api/usage/records?requestId=${requestId}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(2);
    expect(new Set(res.body.data.map((r: Json) => r.eventId)).size).toBe(2);
  });

  it('pages through the request log by cursor, newest first, without gaps or repeats', async () => {
    const records = await allRecords();
    expect(records).toHaveLength(300);
    expect(new Set(records.map((r) => r.requestId)).size).toBe(300);
    const times = records.map((r) => Date.parse(r.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(records[0]).toMatchObject({ id: expect.any(String), endpoint: 'chat', stream: false, ttftMs: null });
  });

  it.each([
    // Rows are evaluated when the test runs, after beforeAll made the teams and keys.
    ['team', (r: Json) => r.teamId === teams[0], () => `&teamId=${teams[0]}`],
    ['key', (r: Json) => r.apiKeyId === keys[1], () => `&apiKeyId=${keys[1]}`],
    ['served or requested model', (r: Json) => (r.modelServed ?? r.modelRequested) === 'gpt-4o', () => '&model=gpt-4o'],
    ['provider', (r: Json) => r.provider === 'anthropic', () => '&provider=anthropic'],
    ['errors', (r: Json) => r.status >= 400, () => '&status=error'],
    ['successes', (r: Json) => r.status < 400, () => '&status=success'],
    ['a status class', (r: Json) => r.status >= 500 && r.status < 600, () => '&status=5xx'],
    ['an exact status', (r: Json) => r.status === 429, () => '&status=429'],
  ])('filters records by %s', async (_name, keep, query) => {
    const everything = await allRecords();
    const filtered = await allRecords(query());
    const expected = everything.filter((r) => keep(r));
    expect(expected.length).toBeGreaterThan(0);
    expect(filtered.map((r) => r.requestId).sort()).toEqual(expected.map((r) => r.requestId).sort());
  });

  it.each([
    ['day', 'model', (r: Json) => r.modelServed ?? r.modelRequested],
    ['day', 'team', (r: Json) => r.teamId],
    ['hour', 'key', (r: Json) => r.apiKeyId],
    ['day', 'provider', (r: Json) => r.provider],
    ['hour', 'agent', (r: Json) => r.agentId],
  ])('summarises by %s grouped by %s exactly as the records add up', async (interval, groupBy, keyOf) => {
    const records = await allRecords();
    const res = await api.get(
      `/api/usage/summary?from=${start.toISOString()}&to=${end.toISOString()}&interval=${interval}&groupBy=${groupBy}`,
    );
    expect(res.status).toBe(200);
    const summary = res.body;
    expect(summary).toMatchObject({ from: start.toISOString(), to: end.toISOString(), interval, groupBy });
    expectTotals(summary.totals, totalsOf(records));
    expectTotals(sumOf(summary.groups), totalsOf(records));
    expectTotals(sumOf(summary.series), totalsOf(records));
    for (const group of summary.groups) expectTotals(group, totalsOf(records.filter((r) => keyOf(r) === group.key)));
    const unit = interval === 'hour' ? HOUR : 24 * HOUR;
    for (const point of summary.series) expect(Date.parse(point.bucket) % unit).toBe(0);
    if (groupBy === 'team') expect(summary.groups.find((g: Json) => g.key === teams[0])?.label).toMatch(/^team-/);
  });

  it('summarises one team and folds groups beyond `top` into __other__', async () => {
    const records = (await allRecords()).filter((r) => r.teamId === teams[1]);
    const res = await api.get(
      `/api/usage/summary?from=${start.toISOString()}&to=${end.toISOString()}&teamId=${teams[1]}&groupBy=model&top=2`,
    );
    expect(res.status).toBe(200);
    expectTotals(res.body.totals, totalsOf(records));
    expect(res.body.groups.map((g: Json) => g.key)).toEqual([expect.any(String), expect.any(String), '__other__']);
    expectTotals(sumOf(res.body.groups), totalsOf(records));
  });

  it('shows members only their own team', async () => {
    const member = await createUserAndLogin(platform, { role: 'member', teamId: teams[0] });
    const own = (await allRecords()).filter((r) => r.teamId === teams[0]);
    const summary = await api.get(
      `/api/usage/summary?from=${start.toISOString()}&to=${end.toISOString()}&groupBy=team`,
      member.token,
    );
    expect(summary.status).toBe(200);
    expect(summary.body.groups.map((g: Json) => g.key)).toEqual([teams[0]]);
    expectTotals(summary.body.totals, totalsOf(own));
    const records = await api.get(
      `/api/usage/records?from=${start.toISOString()}&to=${end.toISOString()}&limit=500`,
      member.token,
    );
    expect(records.body.data.map((r: Json) => r.requestId).sort()).toEqual(own.map((r) => r.requestId).sort());
    expect((await api.get(`/api/usage/records?teamId=${teams[1]}`, member.token)).status).toBe(404);
    expect((await api.get(`/api/usage/summary?teamId=${teams[1]}`, member.token)).status).toBe(404);
    expect((await api.get('/api/usage/summary')).status).toBe(200);
    expect((await api.get('/api/usage/summary', 'not-a-token')).status).toBe(401);
  });

  it.each([
    ['summary', 'from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z', /from.*before.*to/],
    ['summary', 'interval=hour&from=2026-01-01T00:00:00Z&to=2026-01-20T00:00:00Z', /at most 7 days/],
    ['summary', 'from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', /at most 400 days/],
    ['summary', 'groupBy=colour', /groupBy/],
    ['summary', 'interval=minute', /interval/],
    ['summary', 'from=yesterday', /from/],
    ['summary', 'top=500', /top/],
    ['summary', 'teamId=team-1', /teamId/],
    ['records', 'limit=10000', /limit/],
    ['records', 'limit=0', /limit/],
    ['records', 'cursor=bm90LWEtY3Vyc29y', /cursor/],
    ['records', 'status=teapot', /status/],
    ['records', 'colour=blue', /colour|unrecognized/i],
    ['records', 'from=2026-02-02T00:00:00Z&to=2026-02-01T00:00:00Z', /from.*before.*to/],
  ])('rejects a bad %s query (%s) with 400 and the reason', async (route, query, reason) => {
    const res = await api.get(`/api/usage/${route}?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request_error' });
    expect(res.body.error.message).toMatch(reason);
  });

  it('lists the seeded prices and lets admins add, change and remove entries, audited', async () => {
    const list = await api.get('/api/pricing');
    expect(list.status).toBe(200);
    expect(list.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          provider: 'openai',
          model: 'gpt-4o',
          inputPerMTok: 2.5,
          outputPerMTok: 10,
          cachedInputPerMTok: 1.25,
        }),
        expect.objectContaining({ provider: 'anthropic', model: 'claude-3-5-haiku', inputPerMTok: 0.8 }),
        expect.objectContaining({ provider: 'gemini', model: 'gemini-2.5-flash' }),
        expect.objectContaining({ provider: 'ollama', model: '*', inputPerMTok: 0, outputPerMTok: 0 }),
      ]),
    );
    const model = `custom-${randomUUID().slice(0, 8)}`;
    const created = await api.post('/api/pricing', {
      provider: 'groq',
      model,
      inputPerMTok: 0.59,
      outputPerMTok: 0.79,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      provider: 'groq',
      model,
      inputPerMTok: 0.59,
      outputPerMTok: 0.79,
      cachedInputPerMTok: null,
      currency: 'USD',
    });
    expect(
      (await api.post('/api/pricing', { provider: 'groq', model, inputPerMTok: 1, outputPerMTok: 1 })).status,
    ).toBe(409);
    const patched = await api.patch(`/api/pricing/${created.body.id}`, {
      outputPerMTok: 0.99,
      cachedInputPerMTok: 0.3,
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ inputPerMTok: 0.59, outputPerMTok: 0.99, cachedInputPerMTok: 0.3 });
    expect((await api.get(`/api/pricing/${created.body.id}`)).body.outputPerMTok).toBe(0.99);
    expect((await api.get(`/api/pricing/resolve?provider=groq&model=${model}`)).body.match).toMatchObject({
      provider: 'groq',
      model,
    });

    // The one OpenAI model of legacy completions is priced.
    expect(
      (await api.get('/api/pricing/resolve?provider=openai&model=gpt-3.5-turbo-instruct')).body.match,
    ).toMatchObject({ provider: 'openai', model: 'gpt-3.5-turbo-instruct', inputPerMTok: 1.5, outputPerMTok: 2 });

    const member = await createUserAndLogin(platform, { role: 'member', teamId: teams[0] });
    expect((await api.get('/api/pricing', member.token)).status).toBe(200);
    expect(
      (await api.post('/api/pricing', { provider: 'x', model: 'y', inputPerMTok: 1, outputPerMTok: 1 }, member.token))
        .status,
    ).toBe(403);
    expect((await api.delete(`/api/pricing/${created.body.id}`, member.token)).status).toBe(403);

    expect((await api.delete(`/api/pricing/${created.body.id}`)).status).toBe(204);
    expect((await api.get(`/api/pricing/${created.body.id}`)).status).toBe(404);
    expect((await api.delete(`/api/pricing/${created.body.id}`)).status).toBe(404);
    expect((await api.patch(`/api/pricing/not-a-uuid`, { inputPerMTok: 1 })).status).toBe(404);
    const audit = await api.get(`/api/audit?targetType=price&targetId=${created.body.id}`);
    expect(audit.body.data.map((a: Json) => a.action).sort()).toEqual(['price.create', 'price.delete', 'price.update']);
  });

  it.each([
    [{ provider: 'openai', model: 'm', inputPerMTok: -1, outputPerMTok: 1 }, /inputPerMTok/],
    [{ provider: 'openai', model: 'm', inputPerMTok: '2.5', outputPerMTok: 1 }, /inputPerMTok.*number/],
    [{ provider: 'openai', model: 'm', inputPerMTok: 'free', outputPerMTok: 1 }, /inputPerMTok/],
    [{ provider: 'openai', model: 'm', inputPerMTok: 1, outputPerMTok: 1e9 }, /outputPerMTok/],
    [{ provider: 'openai', model: 'm', inputPerMTok: 0.123456789, outputPerMTok: 1 }, /8 decimal/],
    [
      { provider: 'openai', model: 'm', inputPerMTok: 1, outputPerMTok: 1, cachedInputPerMTok: -0.5 },
      /cachedInputPerMTok/,
    ],
    [{ provider: 'openai', model: 'm', inputPerMTok: 1 }, /outputPerMTok/],
    [{ provider: 'open ai', model: 'm', inputPerMTok: 1, outputPerMTok: 1 }, /provider/],
    [{ provider: 'openai', model: 'm', inputPerMTok: 1, outputPerMTok: 1, extra: true }, /extra|unrecognized/i],
  ])('rejects the price %j with 400 and the reason', async (body, reason) => {
    const res = await api.post('/api/pricing', body);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(reason);
  });

  it('rejects an empty or bad price change with 400', async () => {
    const [first] = (await api.get('/api/pricing')).body;
    expect((await api.patch(`/api/pricing/${first.id}`, {})).status).toBe(400);
    expect((await api.patch(`/api/pricing/${first.id}`, { outputPerMTok: -3 })).status).toBe(400);
  });

  it("applies an edited price to the gateway's next request at once", async () => {
    const recorder = platform.gateway!.app.get(UsageRecorder);
    const usage = { promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 0 };
    const cost = () =>
      recorder.record(
        usageEvent({ provider: 'openai', modelRequested: 'gpt-4.1-nano', modelServed: 'gpt-4.1-nano', usage }),
      ).costUsd;
    expect(cost()).toBeCloseTo(0.1, 10);
    const entry = (await api.get('/api/pricing')).body.find(
      (p: Json) => p.provider === 'openai' && p.model === 'gpt-4.1-nano',
    );
    expect((await api.patch(`/api/pricing/${entry.id}`, { inputPerMTok: 0.2 })).status).toBe(200);
    await expect.poll(cost, { timeout: 2_000, interval: 20 }).toBeCloseTo(0.2, 10);
    expect((await api.delete(`/api/pricing/${entry.id}`)).status).toBe(204);
    // No entry left: the provider default `openai/*` does not exist, so it is unpriced.
    await expect.poll(cost, { timeout: 2_000, interval: 20 }).toBe(0);
  });
});
