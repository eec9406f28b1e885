// `npm run bench:auth`: shows that the API-key check and the request limiter add no
// database query per request once warm. It boots the real gateway app in process
// (embedded PGlite in a temporary directory, or DATABASE_URL's PostgreSQL; REDIS_URL when set),
// counts every statement that reaches the SQL driver under Prisma, and sends N
// authenticated requests to GET /v1/me after a warm-up. Counts queries; does not time.
//
//   --requests N   requests to count (default 2000)   --concurrency C (default 20)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { LastUsedTracker, type Principal, RequestLimiter, generateApiKey } from '@app/auth';
import { loadConfig, resolveSecrets } from '@app/config';
import { ApiKeyRepository, DATABASE, type Database, PgliteDriver, PostgresDriver, TeamRepository } from '@app/db';
import { listen, shutdownHttpApps } from '@app/server';
import { createGatewayApp } from '../apps/gateway/src/gateway.app';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** Wraps the driver under Prisma so every statement sent to the database is counted. */
function countQueries(database: Database): { count: () => number; reset: () => void } {
  let queries = 0;
  const driver = database.driver;
  if (driver instanceof PgliteDriver) {
    const db: PGlite = driver.db;
    const query = db.query.bind(db);
    const exec = db.exec.bind(db);
    db.query = ((...args: Parameters<PGlite['query']>) => {
      queries++;
      return query(...args);
    }) as PGlite['query'];
    db.exec = (...args: Parameters<PGlite['exec']>) => {
      queries++;
      return exec(...args);
    };
  } else if (driver instanceof PostgresDriver) {
    // Pool.query and Prisma's transactions both end in Client#query.
    const query = Client.prototype.query as (...args: unknown[]) => unknown;
    (Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function (
      this: Client,
      ...args: unknown[]
    ) {
      queries++;
      return query.apply(this, args);
    };
  }
  return { count: () => queries, reset: () => (queries = 0) };
}

async function send(url: string, key: string, total: number, concurrency: number): Promise<number> {
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
      await res.arrayBuffer();
      if (res.status === 200) ok++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ok;
}

async function main(): Promise<void> {
  const requests = arg('--requests', 2_000);
  const concurrency = arg('--concurrency', 20);
  const dataDir = mkdtempSync(join(tmpdir(), 'gw-bench-auth-'));
  const config = resolveSecrets(
    loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: process.env.DATABASE_URL,
      REDIS_URL: process.env.REDIS_URL,
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
    }),
  );
  const gateway = await createGatewayApp(config);
  const url = `${await listen(gateway, 0, '127.0.0.1')}/v1/me`;
  const app = gateway.app;
  try {
    const actor = { actorType: 'system' as const, actorId: null, ip: null };
    const team = await app.get(TeamRepository).create(
      {
        name: `bench-${Date.now()}`,
        budgetUsd: 1_000,
        budgetPeriod: 'monthly',
        rpmLimit: 1_000_000,
        tpmLimit: 1_000_000_000,
        allowedModels: [],
      },
      actor,
    );
    const generated = generateApiKey();
    await app.get(ApiKeyRepository).create(
      {
        teamId: team.id,
        name: 'bench',
        keyHash: generated.hash,
        prefix: generated.prefix,
        createdById: null,
        expiresAt: null,
        allowedModels: [],
        rpmLimit: 1_000_000,
        tpmLimit: null,
        budgetUsd: 100,
        budgetPeriod: 'daily',
      },
      actor,
    );
    const counter = countQueries(app.get<Database>(DATABASE));

    // Warm-up: the first request looks the key up and loads the budgets' spend.
    counter.reset();
    await send(url, generated.plaintext, 20, 1);
    const warmup = counter.count();

    counter.reset();
    const ok = await send(url, generated.plaintext, requests, concurrency);
    const httpQueries = counter.count();

    // The limiter itself, as the completions pipeline calls it: admit + settle with a cost.
    const limiter = app.get(RequestLimiter);
    const principal: Principal = {
      kind: 'api_key',
      role: 'member',
      teamId: team.id,
      apiKeyId: 'bench',
      label: generated.prefix,
      teamName: team.name,
      allowedModels: [],
      keyLimits: { rpm: 1_000_000, tpm: 1_000_000_000, budgetUsd: 1_000, budgetPeriod: 'daily' },
      teamLimits: { rpm: 1_000_000, budgetUsd: 1_000, budgetPeriod: 'monthly', tpm: 1_000_000_000 },
    };
    (await limiter.admit(principal, 10)).settle({ totalTokens: 10, costUsd: 0.0001 });
    counter.reset();
    for (let i = 0; i < requests; i++)
      (await limiter.admit(principal, 100)).settle({ totalTokens: 90, costUsd: 0.0001 });
    const limiterQueries = counter.count();

    counter.reset();
    await app.get(LastUsedTracker).flush();
    const flushQueries = counter.count();

    const lines = [
      `database: ${config.database.url ? 'PostgreSQL' : 'embedded PGlite'}, redis: ${config.redisUrl ? 'yes' : 'no'}`,
      `warm-up: ${warmup} queries for 20 requests (key lookup and budget spend load)`,
      `GET /v1/me: ${ok}/${requests} requests answered 200, ${httpQueries} database queries`,
      `queries per request: ${httpQueries / requests}`,
      `RequestLimiter.admit + settle: ${requests} calls, ${limiterQueries} database queries (queries per admit: ${limiterQueries / requests})`,
      `lastUsedAt flush (every 15 s and at shutdown): ${flushQueries} statement(s) for all keys seen`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exitCode = httpQueries === 0 && limiterQueries === 0 && ok === requests ? 0 : 1;
  } finally {
    await shutdownHttpApps([gateway], 2_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
