/**
 * `npm run bench:chaos`: the gateway under sustained load against upstreams that
 * misbehave at random (support/chaos-upstream.ts: an OpenAI and an Anthropic one,
 * each with errors, 429s, hangs, dropped connections and streams, bodies and
 * events that are not JSON, error events, slow answers). Builds and starts the
 * admin app and gateway on a fresh PostgreSQL database (as `npm run bench` does), with
 * a short upstream timeout and one retry, and a route alias `chaos` that falls
 * back from one to the other, then to the built-in mock provider. CHAOS_CLIENTS
 * clients send JSON and streamed requests for CHAOS_SECONDS, to either provider
 * directly (the failures reach them) or to `chaos`: chat completions half the
 * time, else the Messages API, legacy completions or embeddings; one request in
 * twenty is aborted by its client. The key has (unreachable) limits, so with
 * BENCH_REDIS_URL every request asks Redis, which sits behind a proxy and goes
 * silent from 40% to 60% of the run. PostgreSQL sits behind one too, and goes
 * silent from 70% to 85% of the run, with the key cache's TTL and the budget's
 * reload short enough (2 s, 3 s) that both fall due in the outage. It checks, and
 * exits 1 when one fails:
 *
 * - every answer is in its API's shape: a completion (a message), or a stream
 *   ending in `[DONE]` (`message_stop`) whose events are all JSON, an upstream
 *   failure after the first byte as its final error event, or an error in the
 *   API's envelope with 429, 502, 503 or 504;
 * - afterwards nothing is in flight, the gateway is ready and answers;
 * - every request that reached the gateway has its usage row;
 * - with Redis: while it was silent, the gateway answered at least half as many
 *   requests as just before;
 * - RSS does not grow over the second half of the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TcpProxy } from '@app/testing';
import { adminPost, createBenchDatabase, processRssMb, startApps } from './support/bench-process';
import { startChaosUpstream } from './support/chaos-upstream';

const root = join(__dirname, '..');
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 32);
const MASTER_KEY = 'sk-chaos-master-key-0123456789';
const PORTS = { gateway: 18_402, admin: 18_403 };
/** RSS growth over the second half of the run taken as a leak. */
const MAX_RSS_GROWTH_MB = 25;
const ERROR_STATUSES = new Set([429, 502, 503, 504]);

interface Tally {
  outcomes: Map<string, number>;
  problems: string[];
  /** Requests that got an answer (any status). */
  answered: number;
  aborted: number;
  /** When each answer arrived (ms since the epoch). */
  answeredAt: number[];
}

/** With Redis, it goes silent (a partition) over this part of the run. */
const REDIS_OUTAGE = { from: 0.4, to: 0.6 };
/** With PostgreSQL (not the embedded database), it goes silent over this part of the run. */
const DATABASE_OUTAGE = { from: 0.7, to: 0.85 };

type Outage = { from: number; to: number };

async function main(): Promise<void> {
  spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  const openai = await startChaosUpstream('openai');
  const anthropic = await startChaosUpstream('anthropic');
  const database = await createBenchDatabase();
  // Redis and PostgreSQL behind proxies the run can cut.
  const redis = process.env.BENCH_REDIS_URL ? await TcpProxy.before(process.env.BENCH_REDIS_URL) : undefined;
  const redisProxy = redis?.proxy;
  const postgres = database.env.DATABASE_URL ? await TcpProxy.before(database.env.DATABASE_URL) : undefined;
  const postgresProxy = postgres?.proxy;
  const apps = await startApps(
    root,
    {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      MASTER_KEY,
      SECRET_KEY: 'chaos-secret-key-0123456789abcdef0123456789',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'gw-chaos-')),
      OPENAI_API_KEY: 'sk-chaos-upstream',
      OPENAI_BASE_URL: openai.url,
      ANTHROPIC_API_KEY: 'sk-ant-chaos-upstream',
      // The Anthropic SDK's base URL has no /v1.
      ANTHROPIC_BASE_URL: anthropic.url.replace(/\/v1$/, ''),
      MOCK_PROVIDER: 'true',
      REQUEST_TIMEOUT_MS: '1500',
      UPSTREAM_MAX_RETRIES: '1',
      CIRCUIT_FAILURE_THRESHOLD: '50',
      CIRCUIT_COOLDOWN_MS: '2000',
      ...(redis ? { REDIS_URL: redis.url, REDIS_PREFIX: `chaos-${Date.now()}:` } : {}),
      ...database.env,
      ...(postgres
        ? {
            DATABASE_URL: postgres.url,
            DB_QUERY_TIMEOUT_MS: '2000',
            KEY_CACHE_TTL_MS: '2000',
            BUDGET_SPEND_RELOAD_MS: '3000',
          }
        : {}),
    },
    PORTS,
  );
  let passed: boolean;
  try {
    const key = await setUp(apps.adminUrl, apps.gatewayUrl);
    const rss: number[] = [processRssMb(apps.gateway.pid!)];
    const sampler = setInterval(() => rss.push(processRssMb(apps.gateway.pid!)), 5_000);
    const tally: Tally = { outcomes: new Map(), problems: [], answered: 0, aborted: 0, answeredAt: [] };
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    const span = (part: Outage): Outage => ({
      from: started + part.from * SECONDS * 1000,
      to: started + part.to * SECONDS * 1000,
    });
    const cut = (proxy: TcpProxy, outage: Outage) => {
      setTimeout(() => proxy.blackhole(), outage.from - started);
      setTimeout(() => proxy.restore(), outage.to - started);
    };
    const outages: Record<string, Outage> = {};
    if (redisProxy) cut(redisProxy, (outages.Redis = span(REDIS_OUTAGE)));
    if (postgresProxy) cut(postgresProxy, (outages.PostgreSQL = span(DATABASE_OUTAGE)));
    await Promise.all(Array.from({ length: CLIENTS }, () => client(apps.gatewayUrl, key, deadline, tally)));
    clearInterval(sampler);
    rss.push(processRssMb(apps.gateway.pid!));
    const behaviours = { openai: openai.counts, anthropic: anthropic.counts };
    passed = await check(apps.gatewayUrl, apps.adminUrl, key, tally, rss, behaviours, outages);
  } finally {
    await apps.stop();
    await redisProxy?.close();
    await postgresProxy?.close();
    await openai.close();
    await anthropic.close();
    await database.drop();
  }
  process.exit(passed ? 0 : 1);
}

/** A key, and the `chaos` route once the gateway knows it (at once with Redis, else on its periodic reload). */
async function setUp(adminUrl: string, gatewayUrl: string): Promise<string> {
  // Limits on (never reached), so every request asks Redis for its rate window when there is one.
  const limits = { rpm: 100_000_000, tpm: 1_000_000_000 };
  const team = await adminPost(adminUrl, MASTER_KEY, '/api/teams', { name: `chaos-${Date.now()}`, ...limits });
  const key = String(
    (await adminPost(adminUrl, MASTER_KEY, '/api/keys', { teamId: team.id, name: 'chaos', ...limits, budgetUsd: 1e6 }))
      .key,
  );
  await adminPost(adminUrl, MASTER_KEY, '/api/routes', {
    alias: 'chaos',
    strategy: 'fallback',
    targets: [
      { provider: 'openai', model: 'chaos-model' },
      { provider: 'anthropic', model: 'chaos-model' },
      { provider: 'mock', model: 'echo-1' },
    ],
  });
  const deadline = Date.now() + 60_000;
  while (
    (await fetch(`${gatewayUrl}/v1/models/chaos`, { headers: { authorization: `Bearer ${key}` } })).status !== 200
  ) {
    if (Date.now() > deadline) throw new Error('the gateway never saw the chaos route');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return key;
}

const MODELS = ['chaos', 'openai/chaos-model', 'anthropic/chaos-model'];

async function client(gatewayUrl: string, key: string, deadline: number, tally: Tally): Promise<void> {
  while (Date.now() < deadline) {
    const api = pickApi();
    const stream = api !== 'embeddings' && Math.random() < 0.5;
    // Anthropic has no embeddings (a 400 that says so).
    const models = api === 'embeddings' ? MODELS.filter((m) => !m.startsWith('anthropic/')) : MODELS;
    const model = models[Math.floor(Math.random() * models.length)];
    const abort = Math.random() < 0.05 ? new AbortController() : undefined;
    const timer = abort && setTimeout(() => abort.abort(), Math.random() * 300);
    try {
      const res = await fetch(`${gatewayUrl}/v1/${API_PATHS[api]}`, {
        method: 'POST',
        signal: abort?.signal,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(bodyOf(api, model, stream)),
      });
      const text = await res.text();
      tally.answered++;
      tally.answeredAt.push(Date.now());
      const outcome = judge(api, res.status, stream, text, tally.problems);
      const label = `${api} ${model} ${stream ? 'stream' : 'json'} ${outcome}`;
      tally.outcomes.set(label, (tally.outcomes.get(label) ?? 0) + 1);
    } catch (error) {
      if (abort?.signal.aborted) tally.aborted++;
      else tally.problems.push(`request failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

type Api = 'chat' | 'messages' | 'completions' | 'embeddings';
const API_PATHS: Record<Api, string> = {
  chat: 'chat/completions',
  messages: 'messages',
  completions: 'completions',
  embeddings: 'embeddings',
};

/** Chat completions half the time, then the Messages API, legacy completions and embeddings. */
function pickApi(): Api {
  const r = Math.random();
  return r < 0.5 ? 'chat' : r < 0.75 ? 'messages' : r < 0.9 ? 'completions' : 'embeddings';
}

function bodyOf(api: Api, model: string, stream: boolean): object {
  const messages = [{ role: 'user', content: 'hi' }];
  if (api === 'chat') return { model, stream, messages };
  if (api === 'messages') return { model, stream, messages, max_tokens: 16 };
  if (api === 'completions') return { model, stream, prompt: 'hi', max_tokens: 16 };
  return { model, input: 'hi' };
}

/**
 * What the client got ("200", "200 + error event", "502"...), noting any answer
 * out of shape: OpenAI's for chat completions, Anthropic's for the Messages API.
 */
function judge(api: Api, status: number, stream: boolean, text: string, problems: string[]): string {
  const problem = (what: string) =>
    problems.push(`${api} ${status} ${stream ? 'stream' : 'json'}: ${what}: ${text.slice(0, 200)}`);
  if (status === 200 && stream) {
    const frames = text.split('\n\n').filter(Boolean);
    let failed = false;
    for (const frame of frames) {
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (!data || data === 'data: [DONE]') continue;
      try {
        const event = JSON.parse(data.slice(6)) as { error?: unknown; type?: string };
        failed ||= api === 'messages' ? event.type === 'error' : 'error' in event;
      } catch {
        problem(`event not JSON (${data.slice(0, 80)})`);
      }
    }
    const last = frames[frames.length - 1] ?? '';
    if (api !== 'messages' && last !== 'data: [DONE]') problem('stream not ended by [DONE]');
    if (api === 'messages' && !/^event: (message_stop|error)\n/.test(last))
      problem('stream not ended by message_stop or error');
    return failed ? '200 + error event' : '200';
  }
  try {
    const body = JSON.parse(text) as {
      choices?: unknown[];
      data?: unknown[];
      type?: string;
      error?: { message?: string; type?: string };
    };
    const list = api === 'embeddings' ? body.data : body.choices;
    if (status === 200 && api !== 'messages' && !Array.isArray(list)) problem('200 without its list');
    if (status === 200 && api === 'messages' && body.type !== 'message') problem('200 that is not a message');
    if (status !== 200 && !ERROR_STATUSES.has(status)) problem('unexpected status');
    if (status !== 200 && !body.error?.message) problem('error outside the envelope');
    if (status !== 200 && api === 'messages' && (body.type !== 'error' || !body.error?.type)) {
      problem("error not in Anthropic's shape");
    }
  } catch {
    problem('body not JSON');
  }
  return String(status);
}

async function check(
  gatewayUrl: string,
  adminUrl: string,
  key: string,
  tally: Tally,
  rss: number[],
  behaviours: Record<string, Map<string, number>>,
  outages: Record<string, Outage>,
): Promise<boolean> {
  const auth = { authorization: `Bearer ${MASTER_KEY}` };
  // Streams the clients aborted end on the gateway a moment later, and usage is written in batches.
  const recorded = await settle(async () => {
    const summary = (await (await fetch(`${adminUrl}/api/usage/summary?interval=hour`, { headers: auth })).json()) as {
      totals: { requests: number; errors: number };
    };
    return summary.totals.requests;
  });
  const metrics = await (await fetch(`${gatewayUrl}/metrics`, { headers: auth })).text();
  const inFlight = metrics
    .split('\n')
    .filter((line) => line.startsWith('llm_gateway_requests_in_flight'))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  const ready = (await fetch(`${gatewayUrl}/health/ready`)).status;
  const after = (
    await fetch(`${gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock/echo-1', messages: [{ role: 'user', content: 'still there?' }] }),
    })
  ).status;
  // Answers while a service was silent, against as long a span just before it.
  const answeredBetween = (from: number, to: number) => tally.answeredAt.filter((t) => t >= from && t < to).length;
  const outageChecks = Object.entries(outages).map(([name, { from, to }]): [string, boolean, string] => {
    const during = answeredBetween(from, to);
    const before = answeredBetween(2 * from - to, from);
    return [
      `answering while ${name} was silent`,
      during >= before / 2,
      `${during} answers in the outage, ${before} just before it`,
    ];
  });
  const half = rss[Math.floor(rss.length / 2)];
  const growth = rss[rss.length - 1] - half;
  const checks: Array<[string, boolean, string]> = [
    ['every answer in shape', tally.problems.length === 0, `${tally.problems.length} out of shape`],
    ['nothing in flight afterwards', inFlight === 0, `in flight: ${inFlight}`],
    ['ready and answering afterwards', ready === 200 && after === 200, `/health/ready ${ready}, a call ${after}`],
    [
      'a usage row per request that reached the gateway',
      // An aborted request may have been aborted before it was sent.
      recorded >= tally.answered && recorded <= tally.answered + tally.aborted,
      `${recorded} rows for ${tally.answered} answered and ${tally.aborted} aborted requests`,
    ],
    ...outageChecks,
    [
      'RSS flat over the second half',
      growth <= MAX_RSS_GROWTH_MB,
      `${Math.round(half)} -> ${Math.round(rss[rss.length - 1])} MB`,
    ],
  ];
  const lines = [
    `${SECONDS} s, ${CLIENTS} clients: ${tally.answered} answered, ${tally.aborted} aborted by their client.`,
    ...Object.entries(behaviours).map(
      ([name, counts]) => `${name} upstream: ${[...counts].map(([b, n]) => `${b} ${n}`).join(', ')}.`,
    ),
    'Answers:',
    ...[...tally.outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([label, n]) => `  ${label}: ${n}`),
    `Gateway RSS every 5 s (MB): ${rss.map(Math.round).join(', ')}.`,
    ...checks.map(([name, ok, detail]) => `${ok ? 'PASS' : 'FAIL'} ${name} (${detail})`),
    ...tally.problems.slice(0, 20).map((p) => `  ${p}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return checks.every(([, ok]) => ok);
}

/** Polls `read` until two reads 1 s apart agree (or 30 s pass); the last value. */
async function settle(read: () => Promise<number>): Promise<number> {
  let last = await read();
  for (let i = 0; i < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = await read();
    if (now === last) return now;
    last = now;
  }
  return last;
}

void main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
