import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '@app/config';
import { GatewayError } from '@app/contracts';
import { type Database, SpendRepository, isDatabaseUnavailable, openDatabase } from '@app/db';
import { RedisConnections } from '@app/server';
import { TcpProxy, createTestDatabase, hasTestPostgres, type TestDatabase, within } from '@app/testing';
import type { Limits, Principal } from '../principal';
import { budgetWindow } from './budget-period';
import { type LimitTicket, RequestLimiter, SPEND_DEGRADED_MS, SPEND_RELOAD_WAIT_MS } from './request-limiter.service';

const redisUrl = process.env.TEST_REDIS_URL;
const NO_REDIS_REASON = 'skipped: TEST_REDIS_URL is not set (these cases need a real Redis)';

let testDb: TestDatabase;
let database: Database;
const connections: RedisConnections[] = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  const config = loadConfig({ ...testDb.env });
  database = await openDatabase({ ...config.database, migrate: false });
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.onApplicationShutdown()));
  await database?.close();
  await testDb?.drop();
});

/** A limiter as one gateway process would have it: its own Redis connection (or none). */
function limiter(redis?: string): RequestLimiter {
  const connection = new RedisConnections(loadConfig({ REDIS_URL: redis }));
  connections.push(connection);
  return new RequestLimiter(connection, new SpendRepository(database.prisma), loadConfig({}));
}

function principal(
  key: Partial<Limits> = {},
  team: Partial<Limits> = {},
  ids = { key: randomUUID(), team: randomUUID() },
): Principal {
  return {
    kind: 'api_key',
    role: 'member',
    teamId: ids.team,
    apiKeyId: ids.key,
    label: 'sk-test1234…',
    teamName: 'test team',
    allowedModels: [],
    keyLimits: { budgetPeriod: 'total', ...key },
    teamLimits: { budgetPeriod: 'total', ...team },
  };
}

async function admitAll(limiters: RequestLimiter[], who: Principal[], count: number, tokens: number) {
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => limiters[i % limiters.length].admit(who[i % who.length], tokens)),
  );
  const admitted = results
    .filter((r): r is PromiseFulfilledResult<LimitTicket> => r.status === 'fulfilled')
    .map((r) => r.value);
  const rejected = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as GatewayError);
  return { admitted, rejected };
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected a rejection');
}

async function insertUsage(row: { teamId: string; apiKeyId: string; costUsd: number; createdAt: Date }): Promise<void> {
  await database.driver.query(
    `INSERT INTO usage_records (request_id, created_at, team_id, api_key_id, endpoint, model_requested, cost_usd, latency_ms, status)
     VALUES ($1, $2, $3, $4, 'chat', 'mock/m', $5, 10, 200)`,
    [randomUUID(), row.createdAt, row.teamId, row.apiKeyId, row.costUsd],
  );
}

const modes: Array<[string, string | undefined]> = [['memory', undefined]];
if (redisUrl) modes.push(['redis', redisUrl]);

describe.each(modes)('RequestLimiter (%s)', (_mode, redis) => {
  it('admits exactly the RPM limit of concurrent requests, then 429 with retry-after and headers', async () => {
    const l = limiter(redis);
    const p = principal({ rpm: 5 });
    const { admitted, rejected } = await admitAll([l], [p], 20, 10);
    expect(admitted).toHaveLength(5);
    expect(rejected).toHaveLength(15);
    const error = rejected[0];
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.status).toBe(429);
    expect(error.message).toMatch(/API key sk-test1234…: 5 requests per minute/);
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.retryAfter).toBeLessThanOrEqual(60);
    expect(error.headers).toMatchObject({ 'x-ratelimit-limit-requests': '5', 'x-ratelimit-remaining-requests': '0' });
    const remaining = admitted.map((t) => Number(t.headers['x-ratelimit-remaining-requests'])).sort();
    expect(remaining).toEqual([0, 1, 2, 3, 4]);
  });

  it('admits exactly the TPM limit by estimate and frees tokens when the actual usage is lower', async () => {
    const l = limiter(redis);
    const p = principal({ tpm: 1_000 });
    const first = await admitAll([l], [p], 30, 100);
    expect(first.admitted).toHaveLength(10);
    expect(first.rejected.every((e) => e.code === 'rate_limit_exceeded')).toBe(true);
    expect(first.rejected[0].headers).toMatchObject({
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '0',
    });
    // Each request really used 40 tokens: 600 come back.
    for (const ticket of first.admitted) ticket.settle({ totalTokens: 40, costUsd: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await admitAll([l], [p], 10, 100);
    expect(second.admitted).toHaveLength(6);
  });

  it('rejects one request larger than the TPM limit outright', async () => {
    const error = await rejection(limiter(redis).admit(principal({ tpm: 500 }), 800));
    expect(error.code).toBe('rate_limit_exceeded');
    expect(error.message).toMatch(/Request too large/);
  });

  it("shares a team's limit between its keys", async () => {
    const l = limiter(redis);
    const team = randomUUID();
    const keys = [
      principal({ rpm: 100 }, { rpm: 6 }, { key: randomUUID(), team }),
      principal({ rpm: 100 }, { rpm: 6 }, { key: randomUUID(), team }),
    ];
    const { admitted, rejected } = await admitAll([l], keys, 20, 1);
    expect(admitted).toHaveLength(6);
    expect(rejected[0].message).toMatch(/team "test team"/);
  });

  it('blocks a key once settled spend reaches its budget, naming the budget and its reset', async () => {
    const l = limiter(redis);
    const p = principal({ budgetUsd: 1, budgetPeriod: 'daily' });
    const ticket = await l.admit(p, 10);
    ticket.settle({ totalTokens: 10, costUsd: 0.6 });
    ticket.settle({ totalTokens: 10, costUsd: 0.6 }); // a second settle is ignored
    await new Promise((resolve) => setTimeout(resolve, 50));
    (await l.admit(p, 10)).settle({ totalTokens: 10, costUsd: 0.5 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const error = await rejection(l.admit(p, 10));
    expect(error.code).toBe('budget_exceeded');
    expect(error.status).toBe(429);
    const resetsAt = budgetWindow('daily').resetsAt;
    expect(error.message).toContain('API key sk-test1234… has spent $1.1000 of its $1.00 daily budget');
    expect(error.message).toContain(`resets at ${resetsAt?.toISOString()}`);
    expect(error.retryAfter).toBeGreaterThan(0);
    expect(await l.budgetStatus(p)).toMatchObject({ key: { budgetUsd: 1, spentUsd: 1.1, period: 'daily' } });
  });

  it('loads the spend of the current period from usage records on first use', async () => {
    const ids = { key: randomUUID(), team: randomUUID() };
    const now = new Date();
    const lastMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15));
    await insertUsage({ teamId: ids.team, apiKeyId: ids.key, costUsd: 3, createdAt: now });
    await insertUsage({ teamId: ids.team, apiKeyId: randomUUID(), costUsd: 2.5, createdAt: now });
    await insertUsage({ teamId: ids.team, apiKeyId: ids.key, costUsd: 100, createdAt: lastMonth });
    const l = limiter(redis);
    // The team spent 5.5 this month: under a 6 budget, over a 5 one.
    await expect(l.admit(principal({}, { budgetUsd: 6, budgetPeriod: 'monthly' }, ids), 1)).resolves.toBeDefined();
    const team = await rejection(
      limiter(redis).admit(principal({}, { budgetUsd: 5, budgetPeriod: 'monthly' }, ids), 1),
    );
    expect(team.code).toBe('budget_exceeded');
    expect(team.message).toMatch(/team "test team" has spent \$5\.5000 of its \$5\.00 monthly budget/);
    // A total budget counts every period: 103 spent.
    const total = await rejection(limiter(redis).admit(principal({ budgetUsd: 50 }, {}, ids), 1));
    expect(total.message).toMatch(/has spent \$103\.0000 of its \$50\.00 total budget; a total budget does not reset/);
    // A key's limits are fixed at its creation: the way out is a new key, not an admin raising them.
    expect(total.message).toMatch(/a key with a larger budget can be issued/);
    expect(total.retryAfter).toBeUndefined();
  });

  it('lets the master key through with no headers', async () => {
    const ticket = await limiter(redis).admit(
      { kind: 'master', role: 'admin', teamId: null, label: 'master', allowedModels: [] },
      1e9,
    );
    expect(ticket.headers).toEqual({});
  });
});

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('RequestLimiter.admitNow', () => {
  it('decides at once in memory once the spend is loaded: the ticket returned, a refusal thrown', async () => {
    const l = limiter();
    const p = principal({ rpm: 2, budgetUsd: 100 });
    // The budget's spend is not known yet: it is loaded from the usage records, behind a promise.
    const first = l.admitNow(p, 1);
    expect(first).toBeInstanceOf(Promise);
    await first;
    const second = l.admitNow(p, 1);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as LimitTicket).headers['x-ratelimit-remaining-requests']).toBe('0');
    // Refused at once: thrown, not a rejected promise.
    const refusal = thrownBy(() => l.admitNow(p, 1));
    expect(refusal).toBeInstanceOf(GatewayError);
    expect((refusal as GatewayError).code).toBe('rate_limit_exceeded');
    // The promise form refuses the same way.
    expect((await rejection(l.admit(p, 1))).code).toBe('rate_limit_exceeded');
  });

  it.skipIf(!redisUrl)(
    `asks Redis behind a promise when replicas share the limits${redisUrl ? '' : ` (${NO_REDIS_REASON})`}`,
    async () => {
      const admitted = limiter(redisUrl).admitNow(principal({ rpm: 5 }), 1);
      expect(admitted).toBeInstanceOf(Promise);
      expect((await admitted).headers['x-ratelimit-remaining-requests']).toBe('4');
    },
  );
});

describe.skipIf(!redisUrl)(
  `RequestLimiter across two processes sharing Redis${redisUrl ? '' : ` (${NO_REDIS_REASON})`}`,
  () => {
    it('lets two limiters together admit no more than the RPM limit', async () => {
      const processes = [limiter(redisUrl), limiter(redisUrl)];
      const p = principal({ rpm: 7 });
      const { admitted } = await admitAll(processes, [p], 40, 1);
      expect(admitted).toHaveLength(7);
    });

    it('lets two limiters together admit no more than the TPM limit', async () => {
      const processes = [limiter(redisUrl), limiter(redisUrl), limiter(redisUrl)];
      const p = principal({ tpm: 2_000 }, { tpm: 100_000 });
      const { admitted } = await admitAll(processes, [p], 60, 150);
      expect(admitted).toHaveLength(13);
    });

    it('shares budget spend: what one process settles, the other enforces', async () => {
      const [a, b] = [limiter(redisUrl), limiter(redisUrl)];
      const p = principal({}, { budgetUsd: 2, budgetPeriod: 'monthly' });
      await b.admit(p, 1); // b has loaded the (empty) spend
      (await a.admit(p, 1)).settle({ totalTokens: 1, costUsd: 2.5 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await rejection(b.admit(p, 1))).code).toBe('budget_exceeded');
    });
  },
);

describe.skipIf(!redisUrl)(`RequestLimiter when Redis goes away${redisUrl ? '' : ` (${NO_REDIS_REASON})`}`, () => {
  let proxy: TcpProxy;
  let proxied: string;

  beforeEach(async () => {
    ({ proxy, url: proxied } = await TcpProxy.before(redisUrl!));
  });
  afterEach(() => proxy.close());

  /** A limiter reaching Redis through the proxy, with a short command timeout. */
  function limiterThroughProxy(): { limiter: RequestLimiter; connection: RedisConnections } {
    const connection = new RedisConnections(loadConfig({ REDIS_URL: proxied, REDIS_COMMAND_TIMEOUT_MS: '100' }));
    connections.push(connection);
    return {
      limiter: new RequestLimiter(connection, new SpendRepository(database.prisma), loadConfig({})),
      connection,
    };
  }

  /** Admits one after the other; how long each took, in ms, and the last ticket. */
  async function admitInTurn(l: RequestLimiter, p: Principal, count: number) {
    const took: number[] = [];
    let last: LimitTicket | undefined;
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      last = await l.admit(p, 1);
      took.push(performance.now() - started);
    }
    return { took, last: last! };
  }

  it.each(['refused', 'silent'] as const)(
    'counts in the process while Redis is %s, without each request waiting for Redis, and shares again once it is back',
    async (outage) => {
      const { limiter: l, connection } = limiterThroughProxy();
      const p = principal({ rpm: 1_000 });
      await l.admit(p, 1); // through Redis: the connection is up
      if (outage === 'refused') proxy.refuse();
      else proxy.blackhole();

      const { took, last } = await within(5_000, 'admissions still waiting', admitInTurn(l, p, 20));
      // Counted here: Redis's count (1) is not seen.
      expect(last.headers['x-ratelimit-remaining-requests']).toBe('980');
      // At most the first waits for Redis to fail (a command timeout); the rest go straight to the fallback.
      expect(took.filter((ms) => ms >= 50).length).toBeLessThanOrEqual(1);

      proxy.restore();
      const deadline = Date.now() + 5_000;
      while (!(connection.answering && connection.client?.status === 'ready')) {
        if (Date.now() > deadline) throw new Error('Redis did not come back');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const shared = principal({ rpm: 6 });
      const { admitted } = await admitAll([l, limiter(redisUrl)], [shared], 12, 1);
      expect(admitted).toHaveLength(6);
    },
  );
});

describe.skipIf(!hasTestPostgres())('RequestLimiter when the usage log cannot be read', () => {
  const RELOAD_MS = 300;
  let usageDb: TestDatabase;
  let proxied: Database;
  let proxy: TcpProxy;

  beforeAll(async () => {
    usageDb = await createTestDatabase('postgres');
    const cut = await TcpProxy.before(usageDb.env.DATABASE_URL!);
    proxy = cut.proxy;
    const config = loadConfig({ ...usageDb.env, DATABASE_URL: cut.url, DB_QUERY_TIMEOUT_MS: '500' });
    proxied = await openDatabase({ ...config.database, migrate: false });
  });
  afterEach(() => proxy.restore());
  afterAll(async () => {
    await proxied?.close();
    await proxy?.close();
    await usageDb?.drop();
  });

  /** A limiter reading the usage log through the proxy, its spend due for a reload every RELOAD_MS. */
  function proxiedLimiter(redis: string | undefined): RequestLimiter {
    const connection = new RedisConnections(loadConfig({ REDIS_URL: redis }));
    connections.push(connection);
    return new RequestLimiter(
      connection,
      new SpendRepository(proxied.prisma),
      loadConfig({ BUDGET_SPEND_RELOAD_MS: String(RELOAD_MS) }),
    );
  }

  async function logUsage(ids: { key: string; team: string }, costUsd: number, createdAt: string): Promise<void> {
    await proxied.driver.query(
      `INSERT INTO usage_records (request_id, created_at, team_id, api_key_id, endpoint, model_requested, cost_usd, latency_ms, status)
       VALUES ($1, ${createdAt}, $2, $3, 'chat', 'mock/m', $4, 10, 200)`,
      [randomUUID(), ids.team, ids.key, costUsd],
    );
  }

  const cases = modes.flatMap(([mode, redis]) =>
    (['refused', 'silent'] as const).map((outage) => [mode, outage, redis] as const),
  );

  it.each(cases)(
    '(%s) %s: a budget due for its reload counts from the spend last known; one never loaded fails as unavailable',
    async (_mode, outage, redis) => {
      const l = proxiedLimiter(redis);
      const ids = { key: randomUUID(), team: randomUUID() };
      await logUsage(ids, 4, 'now()');
      const p = principal({ budgetUsd: 10 }, {}, ids);
      (await l.admit(p, 1)).settle({ totalTokens: 1, costUsd: 3 }); // 4 loaded, 3 added: 7
      await new Promise((resolve) => setTimeout(resolve, 50));

      if (outage === 'refused') proxy.refuse();
      else proxy.blackhole();
      await new Promise((resolve) => setTimeout(resolve, RELOAD_MS + 100)); // the spend is due for its reload
      const started = Date.now();
      const ticket = await within(3_000, 'admission waiting on the database', l.admit(p, 1));
      expect(Date.now() - started).toBeLessThan(2_000);
      // Due again, within the outage window: it stands in without a query, at once.
      await new Promise((resolve) => setTimeout(resolve, RELOAD_MS + 100));
      const again = Date.now();
      await l.admit(p, 1);
      expect(Date.now() - again).toBeLessThan(SPEND_RELOAD_WAIT_MS / 2);
      ticket.settle({ totalTokens: 1, costUsd: 4 }); // 11: over the budget
      await new Promise((resolve) => setTimeout(resolve, 50));
      const spent = await rejection(l.admit(p, 1));
      expect(spent.code).toBe('budget_exceeded');
      expect(spent.message).toContain('has spent $11.0000 of its $10.00 total budget');

      const never = await rejection(
        within(8_000, 'admission waiting on the database', l.admit(principal({ budgetUsd: 10 }), 1)),
      );
      expect(isDatabaseUnavailable(never)).toBe(true);

      proxy.restore();
      // Past the outage window (counted from the last failure) and the stand-in's reload.
      await new Promise((resolve) => setTimeout(resolve, SPEND_DEGRADED_MS + RELOAD_MS));
      // Reloaded from the usage log once it answers (the 3 and 4 settled here were not logged).
      await l.admit(p, 1);
      expect(await l.budgetStatus(p)).toMatchObject({ key: { spentUsd: 4 } });
    },
  );

  it.each(cases)(
    '(%s) %s: a daily budget whose new day begins in the outage counts from 0; one not known the day before still fails',
    async (_mode, outage, redis) => {
      const l = proxiedLimiter(redis);
      const ids = { key: randomUUID(), team: randomUUID() };
      const midnight = budgetWindow('daily').resetsAt!.getTime();
      await logUsage(ids, 4, `now() - interval '1 hour'`);
      const p = principal({ budgetUsd: 10, budgetPeriod: 'daily' }, {}, ids);
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(midnight - 30_000);
        (await l.admit(p, 1)).settle({ totalTokens: 1, costUsd: 3 }); // 4 loaded, 3 added: 7 on the day before
        await new Promise((resolve) => setTimeout(resolve, 50));

        if (outage === 'refused') proxy.refuse();
        else proxy.blackhole();
        vi.setSystemTime(midnight + 60_000);
        const started = performance.now();
        const ticket = await within(3_000, 'admission waiting on the database', l.admit(p, 1));
        expect(performance.now() - started).toBeLessThan(2_000);
        expect(await l.budgetStatus(p)).toMatchObject({ key: { spentUsd: 0, period: 'daily' } });
        ticket.settle({ totalTokens: 1, costUsd: 9 });
        await new Promise((resolve) => setTimeout(resolve, 50));
        (await l.admit(p, 1)).settle({ totalTokens: 1, costUsd: 2 }); // 9 + 2 of the new day: 11
        await new Promise((resolve) => setTimeout(resolve, 50));
        const spent = await rejection(l.admit(p, 1));
        expect(spent.code).toBe('budget_exceeded');
        expect(spent.message).toContain('has spent $11.0000 of its $10.00 daily budget');

        const unknown = principal({ budgetUsd: 10, budgetPeriod: 'daily' });
        const never = await rejection(within(8_000, 'admission waiting on the database', l.admit(unknown, 1)));
        expect(isDatabaseUnavailable(never)).toBe(true);
      } finally {
        vi.useRealTimers();
      }
    },
  );
});
