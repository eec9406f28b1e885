// `npm run bench:usage`: loads 2 million synthetic usage records (30 days, 10 teams,
// 50 keys, 8 models, 3 agents) into a PostgreSQL database of its own, builds the
// hourly rollup the writer maintains, and times the dashboard's queries through
// the same UsageReports service the admin API uses. Target: each under 200 ms.
//
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL, DATABASE_URL): the server to use.
//   --rows N   rows to load (default 2000000)   --reload   rebuild even if loaded
//   --drop     drop the benchmark database afterwards (it is kept by default, so re-runs skip loading)
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectRoot } from '@app/config';
import { type Database, UsageRepository, openDatabase } from '@app/db';
import { databaseUrl, withServer } from '@app/testing';
import { UsageReports } from '@app/usage';

const DB_NAME = 'gw_bench_usage';
const RUNS = 7;
const TARGET_MS = 200;

interface Args {
  rows: number;
  reload: boolean;
  drop: boolean;
}

function parseArgs(argv: string[]): Args {
  const rowsAt = argv.indexOf('--rows');
  const rows = rowsAt >= 0 ? Number(argv[rowsAt + 1]) : 2_000_000;
  if (!Number.isInteger(rows) || rows < 1000) throw new Error('--rows must be an integer >= 1000');
  return { rows, reload: argv.includes('--reload'), drop: argv.includes('--drop') };
}

async function ensureDatabase(serverUrl: string, name = DB_NAME): Promise<Database> {
  await withServer(serverUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  });
  return openDatabase({
    url: databaseUrl(serverUrl, name),
    dataDir: join(projectRoot(), 'data'),
    migrationsDir: join(projectRoot(), 'prisma', 'migrations'),
    connectTimeoutMs: 10_000,
    poolSize: 4,
  });
}

const TEAMS = 10;
const KEYS_PER_TEAM = 5;
// [provider, model, input $/MTok, output $/MTok]
const MODELS: Array<[string, string, number, number]> = [
  ['openai', 'gpt-4o', 2.5, 10],
  ['openai', 'gpt-4o-mini', 0.15, 0.6],
  ['openai', 'gpt-4.1', 2, 8],
  ['anthropic', 'claude-sonnet-4', 3, 15],
  ['anthropic', 'claude-3-5-haiku', 0.8, 4],
  ['gemini', 'gemini-2.5-flash', 0.3, 2.5],
  ['gemini', 'gemini-2.5-pro', 1.25, 10],
  ['ollama', 'llama3:8b', 0, 0],
];

async function load(db: Database, rows: number): Promise<void> {
  const sql = db.driver;
  await sql.query('TRUNCATE usage_records, usage_hourly, usage_daily');
  await sql.query(`DELETE FROM api_keys WHERE name LIKE 'bench-%'`);
  await sql.query(`DELETE FROM teams WHERE name LIKE 'bench-%'`);
  await sql.query(`DELETE FROM agents WHERE id LIKE 'bench-%'`);
  await sql.query(
    `INSERT INTO teams (id, name, updated_at)
     SELECT md5('team' || t)::uuid, 'bench-team-' || t, now() FROM generate_series(0, ${TEAMS - 1}) t`,
  );
  await sql.query(
    `INSERT INTO api_keys (id, team_id, name, key_hash, prefix, updated_at)
     SELECT md5('key' || k)::uuid, md5('team' || (k / ${KEYS_PER_TEAM}))::uuid, 'bench-key-' || k, md5('hash' || k), 'sk-b' || k, now()
     FROM generate_series(0, ${TEAMS * KEYS_PER_TEAM - 1}) k`,
  );
  await sql.query(
    `INSERT INTO agents (id, name, model, instructions, updated_at)
     SELECT 'bench-agent-' || a, 'Bench agent ' || a, 'gpt-4o', 'bench', now() FROM generate_series(0, 2) a`,
  );
  const models = MODELS.map(([p, m, i, o]) => `('${p}', '${m}', ${i}, ${o})`).join(', ');
  const chunk = 250_000;
  for (let start = 1; start <= rows; start += chunk) {
    const end = Math.min(rows, start + chunk - 1);
    const began = performance.now();
    // Rows arrive in time order (ids follow created_at, as in production); traffic is skewed
    // towards the first teams; 10% of requests go through an agent; ~5% fail.
    await sql.query(`
      WITH m(provider, model, input_price, output_price) AS (VALUES ${models}),
      mi AS (SELECT row_number() OVER () - 1 AS i, * FROM m),
      g AS (
        SELECT n,
               now() - interval '30 days' + (n::float8 / ${rows}) * interval '30 days' AS created_at,
               floor(power(random(), 2) * ${TEAMS})::int AS team,
               floor(random() * ${KEYS_PER_TEAM})::int AS key,
               floor(random() * ${MODELS.length})::int AS model,
               random() AS r, (random() * 2000)::int AS prompt, (random() * 800)::int AS completion
        FROM generate_series(${start}, ${end}) n
      )
      INSERT INTO usage_records (request_id, created_at, team_id, api_key_id, agent_id, endpoint, provider, model_requested,
        model_served, prompt_tokens, completion_tokens, cached_tokens, total_tokens, cost_usd, latency_ms, ttft_ms, stream,
        status, error_code, fallback_count, retry_count)
      SELECT 'bench-' || g.n, g.created_at, md5('team' || g.team)::uuid, md5('key' || (g.team * ${KEYS_PER_TEAM} + g.key))::uuid,
             CASE WHEN g.r < 0.1 THEN 'bench-agent-' || (g.n % 3) END, CASE WHEN g.r < 0.9 THEN 'chat' ELSE 'embeddings' END,
             mi.provider, mi.model, mi.model,
             CASE WHEN g.r > 0.95 THEN 0 ELSE g.prompt END, CASE WHEN g.r > 0.95 THEN 0 ELSE g.completion END,
             CASE WHEN g.r < 0.3 THEN g.prompt / 2 ELSE 0 END,
             CASE WHEN g.r > 0.95 THEN 0 ELSE g.prompt + g.completion END,
             CASE WHEN g.r > 0.95 THEN 0 ELSE (g.prompt * mi.input_price + g.completion * mi.output_price) / 1e6 END,
             200 + (g.r * 3000)::int, CASE WHEN g.r < 0.5 THEN 150 + (g.r * 400)::int END, g.r < 0.5,
             CASE WHEN g.r > 0.98 THEN 502 WHEN g.r > 0.95 THEN 429 ELSE 200 END,
             CASE WHEN g.r > 0.98 THEN 'upstream_error' WHEN g.r > 0.95 THEN 'rate_limit_exceeded' END,
             CASE WHEN g.r > 0.97 THEN 1 ELSE 0 END, CASE WHEN g.r > 0.96 THEN 1 ELSE 0 END
      FROM g JOIN mi ON mi.i = g.model`);
    process.stdout.write(
      `  loaded ${end.toLocaleString('en')} rows (${Math.round(performance.now() - began)} ms for this chunk)\n`,
    );
  }
  const began = performance.now();
  // The same rollups the writer maintains batch by batch, built in one pass each.
  for (const [table, unit] of [
    ['usage_hourly', 'hour'],
    ['usage_daily', 'day'],
  ]) {
    await sql.query(`
      INSERT INTO ${table} (bucket, team_id, api_key_id, provider, model, agent_id, requests, errors, prompt_tokens,
        completion_tokens, cached_tokens, cost_usd, latency_ms_sum)
      SELECT date_trunc('${unit}', created_at, 'UTC'), coalesce(team_id::text, ''), coalesce(api_key_id::text, ''),
             coalesce(provider, ''), coalesce(model_served, model_requested), coalesce(agent_id, ''),
             count(*), count(*) FILTER (WHERE status >= 400), sum(prompt_tokens), sum(completion_tokens), sum(cached_tokens),
             sum(cost_usd), sum(latency_ms)
      FROM usage_records GROUP BY 1, 2, 3, 4, 5, 6`);
  }
  process.stdout.write(`  rollups built (${Math.round(performance.now() - began)} ms)\n`);
  await sql.query('VACUUM ANALYZE usage_records');
  await sql.query('VACUUM ANALYZE usage_hourly');
  await sql.query('VACUUM ANALYZE usage_daily');
}

interface Timing {
  name: string;
  medianMs: number;
  maxMs: number;
  rows: number;
}

async function time(name: string, fn: () => Promise<number>): Promise<Timing> {
  await fn(); // warm-up: plan cache, buffers
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const began = performance.now();
    rows = await fn();
    samples.push(performance.now() - began);
  }
  samples.sort((a, b) => a - b);
  return { name, medianMs: samples[Math.floor(RUNS / 2)], maxMs: samples[RUNS - 1], rows };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!serverUrl)
    throw new Error(
      'Set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432/postgres',
    );
  const db = await ensureDatabase(serverUrl);
  try {
    const [{ count }] = await db.driver.query<{ count: string }>('SELECT count(*) AS count FROM usage_records');
    if (args.reload || Number(count) !== args.rows) {
      process.stdout.write(`Loading ${args.rows.toLocaleString('en')} synthetic usage records into ${DB_NAME}...\n`);
      const began = performance.now();
      await load(db, args.rows);
      process.stdout.write(`Loaded in ${((performance.now() - began) / 1000).toFixed(1)} s\n\n`);
    } else {
      process.stdout.write(
        `Reusing ${Number(count).toLocaleString('en')} rows in ${DB_NAME} (--reload to rebuild)\n\n`,
      );
    }
    const [{ hourly, daily }] = await db.driver.query<{ hourly: string; daily: string }>(
      'SELECT (SELECT count(*) FROM usage_hourly) AS hourly, (SELECT count(*) FROM usage_daily) AS daily',
    );
    const reports = new UsageReports(new UsageRepository(db));
    const [{ id: busyTeam }] = await db.driver.query<{ id: string }>(`SELECT md5('team0')::uuid::text AS id`);
    const [{ id: smallTeam }] = await db.driver.query<{ id: string }>(
      `SELECT md5('team${TEAMS - 1}')::uuid::text AS id`,
    );
    const now = new Date();
    const from = new Date(now.getTime() - 30 * 24 * 3600_000);
    const weekAgo = new Date(now.getTime() - 7 * 24 * 3600_000);
    const dayAgo = new Date(now.getTime() - 24 * 3600_000);
    // A cursor ~50,000 records deep into the busiest team's log (page 1,000 at 50 per page).
    const [deep] = await db.driver.query<{ created_at: Date; id: string }>(
      `SELECT created_at, id::text FROM usage_records WHERE team_id = $1 ORDER BY created_at DESC, id DESC OFFSET 50000 LIMIT 1`,
      [busyTeam],
    );
    const deepCursor = Buffer.from(`${deep.created_at.toISOString()}|${deep.id}`).toString('base64url');
    const timings = [
      await time(
        'summary: 30 days by day, grouped by model',
        async () =>
          (await reports.summary({ from, to: now, interval: 'day', groupBy: 'model', top: 10 })).series.length,
      ),
      await time(
        'summary: 30 days by day, grouped by team',
        async () => (await reports.summary({ from, to: now, interval: 'day', groupBy: 'team', top: 10 })).series.length,
      ),
      await time(
        'summary: 30 days by day, grouped by key',
        async () => (await reports.summary({ from, to: now, interval: 'day', groupBy: 'key', top: 10 })).series.length,
      ),
      await time(
        'summary: 7 days by hour, grouped by provider',
        async () =>
          (await reports.summary({ from: weekAgo, to: now, interval: 'hour', groupBy: 'provider', top: 10 })).series
            .length,
      ),
      await time(
        'summary: 24 hours by hour, grouped by model',
        async () =>
          (await reports.summary({ from: dayAgo, to: now, interval: 'hour', groupBy: 'model', top: 10 })).series.length,
      ),
      await time(
        'summary: one team, 30 days by day, by model',
        async () =>
          (await reports.summary({ from, to: now, interval: 'day', groupBy: 'model', teamId: busyTeam, top: 10 }))
            .series.length,
      ),
      await time('records: page 1 (50), all teams', async () => (await reports.records({ limit: 50 })).data.length),
      await time(
        'records: page 1 (50), busiest team',
        async () => (await reports.records({ teamId: busyTeam, limit: 50 })).data.length,
      ),
      await time(
        'records: page 1 (50), smallest team',
        async () => (await reports.records({ teamId: smallTeam, limit: 50 })).data.length,
      ),
      await time(
        'records: deep cursor (~50,000 in), busiest team',
        async () => (await reports.records({ teamId: busyTeam, limit: 50, cursor: deepCursor })).data.length,
      ),
      await time(
        'records: page 1, team + model + errors only',
        async () =>
          (await reports.records({ teamId: busyTeam, model: 'gpt-4o', status: { min: 400, max: 599 }, limit: 50 })).data
            .length,
      ),
    ];
    printTable(args.rows, Number(hourly), Number(daily), timings);
    if (timings.some((t) => t.medianMs > TARGET_MS)) process.exitCode = 1;
    await writerThroughput(serverUrl);
  } finally {
    await db.close();
    if (args.drop)
      await withServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`));
  }
}

/**
 * What the batching writer sustains: batches of 500 rows through the same
 * statement the writer runs (insert + hourly and daily rollups), into a fresh
 * database of its own, dropped afterwards.
 */
async function writerThroughput(serverUrl: string): Promise<void> {
  const name = `${DB_NAME}_writer`;
  const db = await ensureDatabase(serverUrl, name);
  try {
    const repository = new UsageRepository(db);
    const total = 100_000;
    const batch = 500;
    const began = performance.now();
    for (let start = 0; start < total; start += batch) {
      const rows = Array.from({ length: batch }, (_, i) => {
        const n = start + i;
        const [provider, model] = MODELS[n % MODELS.length];
        return {
          eventId: randomUUID(),
          requestId: `writer-${began}-${n}`,
          createdAt: new Date(Date.now() - (n % 720) * 3_600_000),
          teamId: null,
          apiKeyId: null,
          agentId: null,
          sessionId: null,
          userId: null,
          endpoint: 'chat',
          provider,
          modelRequested: model,
          modelServed: model,
          routeAlias: null,
          promptTokens: 500,
          completionTokens: 100,
          cachedTokens: 0,
          costUsd: 0.0012,
          latencyMs: 800,
          ttftMs: 120,
          stream: true,
          status: 200,
          errorCode: null,
          fallbackCount: 0,
          retryCount: 0,
          discarded: false,
        };
      });
      await repository.insertUsageBatch(rows);
    }
    const seconds = (performance.now() - began) / 1000;
    process.stdout.write(
      `\nwriter: ${total.toLocaleString('en')} rows in batches of ${batch} (insert + hourly and daily rollups, one statement each): ` +
        `${seconds.toFixed(1)} s, ${Math.round(total / seconds).toLocaleString('en')} rows/s\n`,
    );
  } finally {
    await db.close();
    await withServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }
}

function printTable(rows: number, hourly: number, daily: number, timings: Timing[]): void {
  const width = Math.max(...timings.map((t) => t.name.length));
  const line = (cells: string[]) =>
    `| ${cells[0].padEnd(width)} | ${cells
      .slice(1)
      .map((c) => c.padStart(10))
      .join(' | ')} |`;
  process.stdout.write(
    `usage_records: ${rows.toLocaleString('en')} rows; usage_hourly: ${hourly.toLocaleString('en')} rows; usage_daily: ${daily.toLocaleString('en')} rows; ${RUNS} runs each after a warm-up\n\n`,
  );
  process.stdout.write(`${line(['query', 'median ms', 'max ms', 'rows', `< ${TARGET_MS} ms`])}\n`);
  process.stdout.write(`|${'-'.repeat(width + 2)}|${Array(4).fill('-'.repeat(12)).join('|')}|\n`);
  for (const t of timings) {
    process.stdout.write(
      `${line([t.name, t.medianMs.toFixed(1), t.maxMs.toFixed(1), String(t.rows), t.medianMs < TARGET_MS ? 'yes' : 'NO'])}\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
