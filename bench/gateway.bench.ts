/**
 * `npm run bench`: the gateway's overhead under load, against an upstream that
 * answers instantly. Starts the instant upstream, the built admin app and the
 * built gateway (each in its own process, as in production), creates a team key with limits on, then drives JSON and
 * streaming chat completions with autocannon at several concurrencies, each
 * against the upstream directly and through the gateway in the same run.
 * Prints (and writes to docs/benchmark.md): req/s, p50/p99, added latency,
 * throughput ratio, the gateway's CPU time per request and its RSS, each cell
 * the median of BENCH_ROUNDS (3) rounds after a warm-up round, and in every
 * cell, as the floor, the CPU per request of a bare Node reverse proxy
 * (support/bare-proxy.ts) measured right after the gateway; then streams paced
 * as a model writes them (one event per packet), through the gateway and the bare
 * proxy; then the sub-millisecond latencies at concurrency 1 (the bare proxy's too).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import {
  BENCH_MASTER_KEY,
  benchEnv,
  createBenchDatabase,
  createLimitedKey,
  processCpuMs,
  processRssMb,
  startApps,
} from './support/bench-process';
import { PACED_EVENTS, PACED_MARKER } from './support/instant-upstream';

const root = join(__dirname, '..');
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,64,256').split(',').map(Number);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
/** Measured rounds after the warm-up; each cell reports the median of its rounds (the machine is shared, so one sample varies by ±15%). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Concurrent paced streams: enough for a few hundred streams per round at the upstream's pace. */
const PACED_CONNECTIONS = 32;
const PORTS = { gateway: 18_400, admin: 18_401 };

interface Row {
  mode: string;
  connections: number;
  directRps: number;
  gatewayRps: number;
  directP50: number;
  gatewayP50: number;
  directP99: number;
  gatewayP99: number;
  cpuUsPerRequest: number;
  /** The bare proxy's CPU per request in the same cell and round. */
  bareCpuUsPerRequest: number;
  errors: number;
}

async function main(): Promise<void> {
  spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const upstream = await startUpstreamProcess();
  const bare = await startScript('bare-proxy.ts', upstream.url);
  const database = await createBenchDatabase();
  const env = benchEnv(upstream.url, database, mkdtempSync(join(tmpdir(), 'gw-bench-')));
  const apps = await startApps(root, env, PORTS);
  const { gateway, gatewayUrl } = apps;
  try {
    const key = await createLimitedKey(apps.adminUrl, BENCH_MASTER_KEY, 'bench');
    const samples = new Map<string, Row[]>();
    const rss: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      for (const mode of ['json', 'stream'] as const) {
        for (const connections of CONCURRENCY) {
          const row = await compare(
            mode,
            connections,
            upstream.url,
            { url: `${gatewayUrl}/v1`, proc: gateway },
            bare,
            key,
          );
          const label = round === 0 ? 'warm-up' : `round ${round}/${ROUNDS}`;
          process.stdout.write(
            `${label} ${mode} c=${connections}: ${Math.round(row.gatewayRps)} req/s, ${Math.round(row.cpuUsPerRequest)} µs CPU/request (bare proxy ${Math.round(row.bareCpuUsPerRequest)})\n`,
          );
          if (round > 0) samples.set(`${mode}:${connections}`, [...(samples.get(`${mode}:${connections}`) ?? []), row]);
        }
      }
      rss.push(processRssMb(gateway.pid!));
    }
    const rows = [...samples.values()].map(medianRow);
    const paced = await pacedStreams({ url: `${gatewayUrl}/v1`, proc: gateway }, bare, key);
    const sequential = await sequentialLatency(upstream.url, `${gatewayUrl}/v1`, bare.url, key);
    report(rows, rss, sequential, paced);
  } finally {
    bare.process.kill('SIGTERM');
    await apps.stop();
    upstream.process.kill('SIGTERM');
    await database.drop();
  }
}

async function startUpstreamProcess(): Promise<{ url: string; process: ChildProcess }> {
  return startScript('instant-upstream.ts');
}

/** Starts a script of bench/support that prints its URL. */
async function startScript(script: string, ...args: string[]): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'support', script), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) =>
    child.stdout.once('data', (data: Buffer) => resolve(data.toString().trim())),
  );
  return { url, process: child };
}

type Mode = 'json' | 'stream' | 'paced';

function body(mode: Mode): string {
  return JSON.stringify({
    model: 'openai/bench-model',
    messages: [{ role: 'user', content: `${mode === 'paced' ? `${PACED_MARKER} ` : ''}Say hello in five words.` }],
    ...(mode === 'json' ? {} : { stream: true }),
  });
}

async function load(url: string, mode: Mode, connections: number, key: string) {
  return autocannon({
    url: `${url}/chat/completions`,
    method: 'POST',
    connections,
    duration: DURATION,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body(mode),
  });
}

/** Drives `url` for DURATION seconds; the CPU `proc` spent per request meanwhile, in µs. */
async function measured(url: string, proc: ChildProcess, mode: Mode, connections: number, key: string) {
  const cpuBefore = processCpuMs(proc.pid!);
  const result = await load(url, mode, connections, key);
  const requests = result.requests.total;
  return { result, cpuUs: requests ? ((processCpuMs(proc.pid!) - cpuBefore) * 1000) / requests : 0 };
}

/** One cell: the upstream directly, then the gateway, then the bare proxy, each for DURATION seconds. */
async function compare(
  mode: 'json' | 'stream',
  connections: number,
  direct: string,
  gateway: { url: string; proc: ChildProcess },
  bare: { url: string; process: ChildProcess },
  key: string,
): Promise<Row> {
  const base = await load(direct, mode, connections, key);
  const { result: through, cpuUs } = await measured(gateway.url, gateway.proc, mode, connections, key);
  const floor = await measured(bare.url, bare.process, mode, connections, key);
  return {
    mode,
    connections,
    directRps: base.requests.average,
    gatewayRps: through.requests.average,
    directP50: base.latency.p50,
    gatewayP50: through.latency.p50,
    directP99: base.latency.p99,
    gatewayP99: through.latency.p99,
    cpuUsPerRequest: cpuUs,
    bareCpuUsPerRequest: floor.cpuUs,
    errors: through.errors + through.non2xx,
  };
}

/** Each figure of a cell as the median of its rounds. */
function medianRow(rounds: Row[]): Row {
  const median = (pick: (row: Row) => number) => {
    const values = rounds.map(pick).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)];
  };
  return {
    mode: rounds[0].mode,
    connections: rounds[0].connections,
    directRps: median((r) => r.directRps),
    gatewayRps: median((r) => r.gatewayRps),
    directP50: median((r) => r.directP50),
    gatewayP50: median((r) => r.gatewayP50),
    directP99: median((r) => r.directP99),
    gatewayP99: median((r) => r.gatewayP99),
    cpuUsPerRequest: median((r) => r.cpuUsPerRequest),
    bareCpuUsPerRequest: median((r) => r.bareCpuUsPerRequest),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
  };
}

interface Paced {
  /** Median CPU per stream over the rounds, µs. */
  gateway: number;
  bare: number;
  errors: number;
}

/**
 * Streams paced as a model writes them (PACED_EVENTS events, each in its own
 * packet): what relaying a real stream costs, per stream, through the gateway and
 * through the bare proxy, ROUNDS rounds of DURATION seconds each, the median.
 * Here each event pays a socket read and a write of its own, where the instant
 * stream's events all come in one packet.
 */
async function pacedStreams(
  gateway: { url: string; proc: ChildProcess },
  bare: { url: string; process: ChildProcess },
  key: string,
): Promise<Paced> {
  const gatewayUs: number[] = [];
  const bareUs: number[] = [];
  let errors = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const through = await measured(gateway.url, gateway.proc, 'paced', PACED_CONNECTIONS, key);
    const floor = await measured(bare.url, bare.process, 'paced', PACED_CONNECTIONS, key);
    gatewayUs.push(through.cpuUs);
    bareUs.push(floor.cpuUs);
    errors += through.result.errors + through.result.non2xx;
    process.stdout.write(
      `paced streams ${round}/${ROUNDS} c=${PACED_CONNECTIONS}: ${through.result.requests.total} streams, ${Math.round(through.cpuUs)} µs CPU/stream (bare proxy ${Math.round(floor.cpuUs)})\n`,
    );
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return { gateway: median(gatewayUs), bare: median(bareUs), errors };
}

interface Sequential {
  /** Median time to the whole JSON answer, ms (through the bare proxy too). */
  json: { direct: number; gateway: number; bare: number };
  /** Median time to the first SSE byte, ms. */
  stream: { direct: number; gateway: number };
}

/** Sequential requests per target for the sub-millisecond latencies, in blocks taking turns. */
const SEQUENTIAL = 1000;
const SEQUENTIAL_BLOCK = 100;

/**
 * Medians of SEQUENTIAL requests at concurrency 1 per target, with the
 * sub-millisecond resolution autocannon's whole-millisecond percentiles lack: the
 * whole JSON answer (directly, through the gateway and through the bare proxy),
 * and the first byte of a stream. The targets take turns in blocks of
 * SEQUENTIAL_BLOCK requests, so that the machine's drift (its speed changes over
 * seconds) falls on all alike instead of on the difference between them, while
 * each target still sees what a sequential client sends it: one request right
 * after the other (taking turns request by request would leave each process idle,
 * its caches cooling, while the others serve).
 */
async function sequentialLatency(direct: string, gateway: string, bare: string, key: string): Promise<Sequential> {
  const once = async (url: string, mode: 'json' | 'stream'): Promise<number> => {
    const started = performance.now();
    const res = await fetch(`${url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body(mode),
    });
    if (mode === 'json') {
      await res.arrayBuffer();
      return performance.now() - started;
    }
    const reader = res.body!.getReader();
    await reader.read();
    const elapsed = performance.now() - started;
    await reader.cancel();
    return elapsed;
  };
  const medians = async (urls: string[], mode: 'json' | 'stream'): Promise<number[]> => {
    const samples = urls.map(() => [] as number[]);
    for (let block = 0; block < SEQUENTIAL / SEQUENTIAL_BLOCK; block++) {
      for (const [j, url] of urls.entries()) {
        for (let i = 0; i < SEQUENTIAL_BLOCK; i++) samples[j].push(await once(url, mode));
      }
    }
    return samples.map((s) => s.sort((x, y) => x - y)[Math.floor(s.length / 2)]);
  };
  const [jsonDirect, jsonGateway, jsonBare] = await medians([direct, gateway, bare], 'json');
  const [streamDirect, streamGateway] = await medians([direct, gateway], 'stream');
  return {
    json: { direct: jsonDirect, gateway: jsonGateway, bare: jsonBare },
    stream: { direct: streamDirect, gateway: streamGateway },
  };
}

function report(rows: Row[], rss: number[], seq: Sequential, paced: Paced): void {
  const fmt = (n: number, digits = 1) => n.toFixed(digits);
  const lines = [
    `Machine: ${process.platform} ${process.arch}, Node ${process.version}, ${DURATION} s per cell, median of ${ROUNDS} rounds after a warm-up (errors: the sum); upstream answers instantly.`,
    '',
    '| mode | conns | direct req/s | gateway req/s | ratio | direct p50/p99 ms | gateway p50/p99 ms | added p50 ms | gateway CPU µs/req | bare proxy CPU µs/req | gateway / bare | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${r.connections} | ${Math.round(r.directRps)} | ${Math.round(r.gatewayRps)} | ${fmt(r.gatewayRps / r.directRps, 2)} | ${r.directP50}/${r.directP99} | ${r.gatewayP50}/${r.gatewayP99} | ${fmt(r.gatewayP50 - r.directP50)} | ${Math.round(r.cpuUsPerRequest)} | ${Math.round(r.bareCpuUsPerRequest)} | ${fmt(r.cpuUsPerRequest / r.bareCpuUsPerRequest, 2)} | ${r.errors} |`,
    ),
    '',
    `JSON answer at concurrency 1 (median of ${SEQUENTIAL} sequential requests each, the targets taking turns in blocks of ${SEQUENTIAL_BLOCK}): direct ${fmt(seq.json.direct, 2)} ms, gateway ${fmt(seq.json.gateway, 2)} ms, added ${fmt(seq.json.gateway - seq.json.direct, 2)} ms (the bare proxy: ${fmt(seq.json.bare, 2)} ms, added ${fmt(seq.json.bare - seq.json.direct, 2)} ms).`,
    `Streaming time to first byte (median of ${SEQUENTIAL} sequential requests each, in turns): direct ${fmt(seq.stream.direct, 2)} ms, gateway ${fmt(seq.stream.gateway, 2)} ms, overhead ${fmt(seq.stream.gateway - seq.stream.direct, 2)} ms.`,
    `Streams paced as a model writes them (${PACED_EVENTS} events, each in its own packet, ${PACED_CONNECTIONS} connections, median of ${ROUNDS} rounds): gateway ${Math.round(paced.gateway)} µs CPU per stream (${fmt(paced.gateway / PACED_EVENTS, 1)} per event), bare proxy ${Math.round(paced.bare)} µs (${fmt(paced.bare / PACED_EVENTS, 1)} per event), gateway / bare ${fmt(paced.gateway / paced.bare, 2)}, errors ${paced.errors}.`,
    `Gateway RSS after the warm-up and after each round: ${rss.map((mb) => `${Math.round(mb)} MB`).join(', ')}.`,
    'Bare proxy: bench/support/bare-proxy.ts (read, parse, `undici.request`, answer; streams relayed chunk by chunk), measured in each cell right after the gateway, as the floor any Node proxy pays on this machine at that moment.',
  ];
  const text = lines.join('\n');
  process.stdout.write(`\n${text}\n`);
  writeFileSync(
    join(root, 'docs', 'benchmark.md'),
    `# Gateway benchmark\n\nProduced by \`npm run bench\` (bench/gateway.bench.ts).\n\n${text}\n`,
  );
}

void main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
