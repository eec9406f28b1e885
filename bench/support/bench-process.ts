import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU time of a process so far, in ms (Linux /proc). */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

export function processRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A fresh PostgreSQL database for the run (BENCH_DATABASE_URL's server, or the
 * local one); the embedded database when no server answers.
 */
export async function createBenchDatabase(): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  const server = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const name = `gw_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  try {
    await admin.connect();
  } catch {
    process.stdout.write('No PostgreSQL reachable: benchmarking on the embedded database.\n');
    return { env: {}, drop: async () => undefined };
  }
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface BenchApps {
  admin: ChildProcess;
  gateway: ChildProcess;
  gatewayUrl: string;
  adminUrl: string;
  /** SIGTERM to both, resolved once both have exited (the gateway flushes its usage first). */
  stop(): Promise<void>;
}

/**
 * The built admin app and gateway (`dist/`), each in its own process as in
 * production (docker-compose), on one database: the admin app migrates it, then
 * the gateway starts; resolves once both answer `/health/ready`.
 */
export async function startApps(
  root: string,
  env: NodeJS.ProcessEnv,
  ports: { gateway: number; admin: number },
): Promise<BenchApps> {
  const withPorts = { ...env, HOST: '127.0.0.1', GATEWAY_PORT: String(ports.gateway), ADMIN_PORT: String(ports.admin) };
  const start = (entry: string) =>
    spawn(process.execPath, [join(root, entry)], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: withPorts });
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
  const admin = start('dist/apps/admin/src/main.js');
  await waitForHttp(`${adminUrl}/health/ready`);
  const gateway = start('dist/apps/gateway/src/main.js');
  await waitForHttp(`${gatewayUrl}/health/ready`);
  return {
    admin,
    gateway,
    adminUrl,
    gatewayUrl,
    stop: async () => {
      for (const child of [gateway, admin]) {
        if (child.exitCode !== null) continue;
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  };
}

/** POSTs to the admin API as `key`; the JSON answer, or an error naming the path. */
export async function adminPost(
  adminUrl: string,
  key: string,
  path: string,
  body: object,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${adminUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

export const BENCH_MASTER_KEY = 'sk-bench-master-key-0123456789';

/** The apps' environment for a benchmark: production mode, quiet logs, the instant upstream as OpenAI, the run's database. */
export function benchEnv(upstreamUrl: string, database: { env: Record<string, string> }, dataDir: string) {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    MASTER_KEY: BENCH_MASTER_KEY,
    SECRET_KEY: 'bench-secret-key-0123456789abcdef0123456789',
    DATA_DIR: dataDir,
    OPENAI_API_KEY: 'sk-bench-upstream',
    OPENAI_BASE_URL: upstreamUrl,
    ...database.env,
  };
}

/** A team and a key with limits far above any run (so every request is counted against them); the key's secret. */
export async function createLimitedKey(adminUrl: string, masterKey: string, name: string): Promise<string> {
  const call = (path: string, body: object) => adminPost(adminUrl, masterKey, path, body);
  const team = await call('/api/teams', { name: `${name}-${Date.now()}`, rpm: 100_000_000, tpm: 1_000_000_000 });
  const key = await call('/api/keys', {
    teamId: team.id,
    name,
    rpm: 100_000_000,
    tpm: 1_000_000_000,
    budgetUsd: 1_000_000,
  });
  return String(key.key);
}
