/**
 * `npm run bench:instructions`: the gateway's instructions per request, counted
 * by valgrind's callgrind rather than timed, so that two builds can be compared
 * when the difference is smaller than the machine's drift (CPU time per request at
 * concurrency 1 moves by 2x between phases; see docs/performance.md).
 *
 * The gateway (BENCH_DIST, default `dist`; the admin app always runs from `dist`)
 * runs under callgrind with V8's `--single-threaded` (compilation and GC on the
 * main thread, where callgrind's call graph tells them apart). After BENCH_WARMUP
 * sequential requests (default 12 000: V8 has optimized the request path by then)
 * with the counting off, it counts BENCH_REQUESTS (2 000) more, JSON and streamed,
 * against the instant upstream, with a limited key, and prints per request the
 * instructions of the request path, of V8's optimizing compiler (it still
 * recompiles now and then) and of the GC. Repeated runs of one build vary by up to
 * ~8%, with how much V8 recompiles in the counted window (the more it does, the
 * more of the request path runs unoptimized): compare the lowest of a few runs
 * (BENCH_RUNS) of each build. Needs valgrind (Debian's package); ~2 minutes a run.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import {
  BENCH_MASTER_KEY,
  benchEnv,
  createBenchDatabase,
  createLimitedKey,
  waitForHttp,
} from './support/bench-process';
import { startInstantUpstream } from './support/instant-upstream';

const root = join(__dirname, '..');
const DIST = process.env.BENCH_DIST ?? 'dist';
const MODES = (process.env.BENCH_MODE ?? 'json,stream').split(',') as Array<'json' | 'stream'>;
const WARMUP = Number(process.env.BENCH_WARMUP ?? 12_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
/** Runs per mode, each with a gateway of its own; the lowest is the least disturbed by V8 recompiling. */
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const PORTS = { gateway: 18_404, admin: 18_405 };
/** valgrind names its control pipes after $HOST, which the apps' environment sets. */
const HOST = '127.0.0.1';

type Category = 'mutator' | 'compile' | 'gc';

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0)
    throw new Error('valgrind is not installed (apt-get install -y valgrind)');
  if (DIST === 'dist') spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const upstream = await startInstantUpstream();
  const database = await createBenchDatabase();
  const work = mkdtempSync(join(tmpdir(), 'gw-instructions-'));
  const env = {
    ...benchEnv(upstream.url, database, work),
    HOST,
    GATEWAY_PORT: String(PORTS.gateway),
    ADMIN_PORT: String(PORTS.admin),
  };
  const adminUrl = `http://${HOST}:${PORTS.admin}`;
  const admin = spawn(process.execPath, [join(root, 'dist/apps/admin/src/main.js')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
  try {
    await waitForHttp(`${adminUrl}/health/ready`);
    const key = await createLimitedKey(adminUrl, BENCH_MASTER_KEY, 'instructions');
    process.stdout.write(
      `Build: ${DIST}; ${WARMUP} requests of warm-up, then ${REQUESTS} counted (sequential, instant upstream, limited key).\n`,
    );
    for (const mode of MODES) {
      const paths: number[] = [];
      for (let run = 1; run <= RUNS; run++) {
        const counts = await countMode(mode, env, key, join(work, `callgrind-${mode}-${run}`));
        paths.push(counts.mutator);
        const total = counts.mutator + counts.compile + counts.gc;
        process.stdout.write(
          `${mode}: ${fmt(counts.mutator)} instructions per request on the request path ` +
            `(+ compile ${fmt(counts.compile)}, gc ${fmt(counts.gc)}, main thread ${fmt(total)})\n`,
        );
      }
      if (RUNS > 1) process.stdout.write(`${mode}: lowest of ${RUNS} runs ${fmt(Math.min(...paths))}\n`);
    }
  } finally {
    admin.kill('SIGTERM');
    await new Promise((resolve) => admin.once('exit', resolve));
    await database.drop();
    await upstream.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs the gateway under callgrind for one mode; instructions per counted request, by category. */
async function countMode(
  mode: 'json' | 'stream',
  env: NodeJS.ProcessEnv,
  key: string,
  out: string,
): Promise<Record<Category, number>> {
  const vgdb = `${out}-vgdb`;
  const gateway = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      '--instr-atstart=no',
      '--separate-threads=yes',
      `--vgdb-prefix=${vgdb}`,
      process.execPath,
      '--single-threaded',
      join(root, DIST, 'apps/gateway/src/main.js'),
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env },
  );
  let stderr = '';
  gateway.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const control = (...args: string[]) =>
    execFileSync('callgrind_control', [`--vgdb-prefix=${vgdb}`, ...args, String(gateway.pid)], {
      env: { ...process.env, HOST },
      stdio: 'ignore',
    });
  const agent = new Agent({ connections: 1 });
  try {
    await waitForHttp(`http://${HOST}:${PORTS.gateway}/health/ready`, 600_000);
    const body = JSON.stringify({
      model: 'openai/bench-model',
      messages: [{ role: 'user', content: 'Say hello in five words.' }],
      ...(mode === 'stream' ? { stream: true } : {}),
    });
    const send = async () => {
      const res = await request(`http://${HOST}:${PORTS.gateway}/v1/chat/completions`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${text}`);
    };
    for (let i = 0; i < WARMUP; i++) await send();
    await new Promise((resolve) => setTimeout(resolve, 500));
    control('-i', 'on');
    for (let i = 0; i < REQUESTS; i++) await send();
    control('-i', 'off');
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${stderr.slice(-2000)}`, {
      cause: error,
    });
  } finally {
    await agent.close();
    await stop(gateway);
  }
  // The main thread's file is the first (`-01`); the others are V8's and libuv's helper threads.
  const dir = join(out, '..');
  const base = out.slice(dir.length + 1);
  const main = readdirSync(dir)
    .filter((f) => f.startsWith(`${base}-`) && /-\d+$/.test(f))
    .sort()[0];
  return categorize(join(dir, main));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

/**
 * The main thread's instructions per counted request, split by callgrind's
 * inclusive counts: those under V8's optimizing compiler (`Runtime_CompileOptimized`)
 * and under its collector (`Heap::CollectGarbage`), and the rest, the request path.
 */
function categorize(file: string): Record<Category, number> {
  const listing = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], {
    maxBuffer: 256 * 1024 * 1024,
  }).toString();
  const inclusive = (pattern: RegExp): number => {
    const line = listing.split('\n').find((l) => pattern.test(l));
    return line ? Number(/^\s*([\d,]+)/.exec(line)?.[1].replaceAll(',', '') ?? 0) : 0;
  };
  const total = inclusive(/PROGRAM TOTALS/);
  const compile = inclusive(/Runtime_CompileOptimized\(/);
  const gc = inclusive(/v8::internal::Heap::CollectGarbage\(/);
  if (total === 0) throw new Error(`callgrind counted nothing in ${file}`);
  return { mutator: (total - compile - gc) / REQUESTS, compile: compile / REQUESTS, gc: gc / REQUESTS };
}

function fmt(n: number): string {
  return `${Math.round(n / 1000)}k`;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
