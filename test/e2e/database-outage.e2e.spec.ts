import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy, createTestDatabase, hasTestPostgres, type TestDatabase } from '@app/testing';
import { startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, createKey, createTeam, unique } from '../support/tenancy';

const QUERY_TIMEOUT_MS = 1_000;
const KEY_TTL_MS = 1_000;
/** The longest a request may wait on a silent database: the pool's connect timeout (5 s), or the query timeout. */
const SILENT_DATABASE_BOUND_MS = 5_000 + QUERY_TIMEOUT_MS + 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `fn`'s result and how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

/**
 * The platform on PostgreSQL behind a TCP proxy that a test cuts: refused (the
 * database down) or blackholed (a partition: connections stay open, nothing
 * answers). Requests that need the database get 503 `database_unavailable` in a
 * bounded time; keys the gateway verified before keep working; once the database
 * is back, everything answers again at once.
 */
describe.skipIf(!hasTestPostgres())('a database that stops answering', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let platform: TestPlatform;
  let teamId: string;
  let known: { id: string; key: string };
  let unseen: { id: string; key: string };

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const proxied = await TcpProxy.before(database.env.DATABASE_URL!);
    proxy = proxied.proxy;
    platform = await startPlatform({
      database,
      env: {
        DATABASE_URL: proxied.url,
        DB_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
        KEY_CACHE_TTL_MS: String(KEY_TTL_MS),
      },
    });
    teamId = await createTeam(platform);
    known = await createKey(platform, teamId);
    unseen = await createKey(platform, teamId);
  });

  afterAll(async () => {
    proxy?.restore();
    await platform?.close();
    await proxy?.close();
    await database?.drop();
  });

  const client = (key: string) => new OpenAI({ apiKey: key, baseURL: `${platform.gatewayUrl}/v1`, maxRetries: 0 });
  const chat = (key: string) =>
    client(key).chat.completions.create({ model: 'mock/echo-1', messages: [{ role: 'user', content: 'still here?' }] });
  const streamed = async (key: string) => {
    let text = '';
    const stream = await client(key).chat.completions.create({
      model: 'mock/echo-1',
      messages: [{ role: 'user', content: 'still here?' }],
      stream: true,
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    return text;
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.fail('expected the request to fail'),
      (error: unknown) => error as InstanceType<typeof OpenAI.APIError>,
    );
  const expectUnavailable = (res: { status: number; body: unknown; headers: Headers }) => {
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: {
        message: 'The database is not answering at the moment. Retry shortly.',
        type: 'service_unavailable',
        param: null,
        code: 'database_unavailable',
      },
    });
    expect(res.headers.get('retry-after')).toBe('5');
  };

  it('down: the admin API answers 503 at once, a verified key keeps working, an unseen one gets 503', async () => {
    expect((await chat(known.key)).choices[0].message.content).toContain('still here?');
    proxy.refuse();
    try {
      await sleep(KEY_TTL_MS + 200); // the verified key is due for a reload
      const teams = await timed(() => adminApi(platform).get('/api/teams'));
      expectUnavailable(teams.value);
      expect(teams.ms).toBeLessThan(2_000);
      expectUnavailable(await adminApi(platform).post('/api/teams', { name: unique('outage') }));

      const answer = await timed(() => chat(known.key));
      expect(answer.value.choices[0].message.content).toContain('still here?');
      expect(answer.ms).toBeLessThan(2_000);
      expect(await streamed(known.key)).toContain('still here?');

      const refused = await failure(chat(unseen.key));
      expect(refused.status).toBe(503);
      expect(refused.code).toBe('database_unavailable');
    } finally {
      proxy.restore();
    }
    expect((await adminApi(platform).get('/api/teams')).status).toBe(200);
  });

  it('partitioned: nothing waits past its bound, and everything answers again once the network heals', async () => {
    expect((await chat(known.key)).choices[0].message.content).toContain('still here?');
    proxy.blackhole();
    try {
      await sleep(KEY_TTL_MS + 200);
      // The first request waits at most ~1 s for the key's reload, the next ones not at all.
      const first = await timed(() => chat(known.key));
      expect(first.value.choices[0].message.content).toContain('still here?');
      expect(first.ms).toBeLessThan(3_000);
      const next = await timed(() => streamed(known.key));
      expect(next.value).toContain('still here?');
      expect(next.ms).toBeLessThan(1_000);

      const refused = await timed(() => failure(chat(unseen.key)));
      expect(refused.value.status).toBe(503);
      expect(refused.value.code).toBe('database_unavailable');
      expect(refused.ms).toBeLessThan(SILENT_DATABASE_BOUND_MS);

      const [teams, created, ready] = await Promise.all([
        timed(() => adminApi(platform).get('/api/teams')),
        timed(() => adminApi(platform).post('/api/teams', { name: unique('partition') })),
        timed(() => call(`${platform.gatewayUrl}/health/ready`)),
      ]);
      expectUnavailable(teams.value);
      expectUnavailable(created.value);
      expect(ready.value.status).toBe(503);
      for (const t of [teams, created, ready]) expect(t.ms).toBeLessThan(SILENT_DATABASE_BOUND_MS);
    } finally {
      proxy.restore();
    }
    // Connections left waiting on the partition are not reused: the next calls answer at once.
    const teams = await timed(() => adminApi(platform).get('/api/teams'));
    expect(teams.value.status).toBe(200);
    expect(teams.ms).toBeLessThan(2_000);
    expect((await adminApi(platform).post('/api/teams', { name: unique('healed') })).status).toBe(201);
    expect((await chat(unseen.key)).choices[0].message.content).toContain('still here?');
    // A key revoked now is refused: what stood in for the database is gone.
    expect((await adminApi(platform).post(`/api/keys/${known.id}/revoke`)).status).toBe(200);
    expect((await failure(chat(known.key))).status).toBe(401);
  });
});
