import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database';
import { DATABASE } from '../db.tokens';

/**
 * One request's usage, as the batching writer inserts it; or, `discarded`, the tokens
 * the request consumed at another provider or model than its own row's.
 */
export interface UsageRow {
  /** Unique per recorded row, made by the gateway: what makes a retried batch harmless. */
  eventId: string;
  /** The x-request-id: clients may choose it, so it is not unique. */
  requestId: string;
  createdAt: Date;
  teamId: string | null;
  apiKeyId: string | null;
  agentId: string | null;
  sessionId: string | null;
  userId: string | null;
  endpoint: string;
  provider: string | null;
  modelRequested: string;
  modelServed: string | null;
  routeAlias: string | null;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  latencyMs: number;
  ttftMs: number | null;
  stream: boolean;
  status: number;
  errorCode: string | null;
  fallbackCount: number;
  retryCount: number;
  /**
   * Tokens of answers the request did not use (a target whose answer was still unusable
   * after its repair, before the route fell back), billed under their own provider and
   * model: not a request of its own, so the rollups count no request or error for it.
   */
  discarded: boolean;
}

/** A stored usage record. */
export interface UsageRecordEntry extends UsageRow {
  id: string;
  totalTokens: number;
}

export type UsageDimension = 'model' | 'provider' | 'team' | 'key' | 'agent';
export type UsageInterval = 'hour' | 'day';

/** Sums over a set of requests. */
export interface UsageTotals {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  costUsd: number;
  latencyMsSum: number;
}

/** One point of a time series: a bucket start and, when grouped, the group's key ('' = none). */
export interface UsageBucket extends UsageTotals {
  bucket: Date;
  key: string | null;
}

/** Filters the hourly rollup understands. Times are whole hours: [from, to). */
export interface UsageRollupFilter {
  from: Date;
  to: Date;
  teamId?: string;
  apiKeyId?: string;
  provider?: string;
  model?: string;
  agentId?: string;
}

export interface UsageRecordFilter {
  from: Date;
  to: Date;
  /** The x-request-id a client quotes (several requests may share one). */
  requestId?: string;
  teamId?: string;
  apiKeyId?: string;
  provider?: string;
  /** Matches the served model, or the requested one when nothing was served. */
  model?: string;
  status?: { equals: number } | { min: number; max: number };
  /** Keyset: records strictly older than this (createdAt, id) pair. */
  before?: { createdAt: Date; id: string };
  limit: number;
}

export interface SessionCounts {
  total: number;
  activeLast24h: number;
}

// Rollup dimension of each group-by; '' in the rollup means "none" (no team, no agent...).
const ROLLUP_COLUMN: Record<UsageDimension, string> = {
  model: 'model',
  provider: 'provider',
  team: 'team_id',
  key: 'api_key_id',
  agent: 'agent_id',
};

const INPUT_COLUMNS = [
  ['event_id', 'uuid'],
  ['request_id', 'text'],
  ['created_at', 'timestamptz'],
  ['team_id', 'uuid'],
  ['api_key_id', 'uuid'],
  ['agent_id', 'text'],
  ['session_id', 'uuid'],
  ['user_id', 'uuid'],
  ['endpoint', 'text'],
  ['provider', 'text'],
  ['model_requested', 'text'],
  ['model_served', 'text'],
  ['route_alias', 'text'],
  ['prompt_tokens', 'int'],
  ['completion_tokens', 'int'],
  ['cached_tokens', 'int'],
  ['cost_usd', 'numeric'],
  ['latency_ms', 'int'],
  ['ttft_ms', 'int'],
  ['stream', 'bool'],
  ['status', 'int'],
  ['error_code', 'text'],
  ['fallback_count', 'int'],
  ['retry_count', 'int'],
  ['discarded', 'bool'],
] as const;

/**
 * A row as the batch insert reads it: an array of INPUT_COLUMNS' values, in their
 * order, the time as epoch milliseconds and the cost as exact decimal text. An
 * array rather than an object halves the text and its serialisation (no key is
 * written 24 times a row), and a number rather than `toISOString()` saves the
 * most expensive call of the row (a Date's `toJSON` would also take
 * `JSON.stringify` off its fast path for the whole batch).
 */
function toInputRow(row: UsageRow): InputRow {
  return [
    row.eventId,
    row.requestId,
    row.createdAt.getTime(),
    row.teamId,
    row.apiKeyId,
    row.agentId,
    row.sessionId,
    row.userId,
    row.endpoint,
    row.provider,
    row.modelRequested,
    row.modelServed,
    row.routeAlias,
    row.promptTokens,
    row.completionTokens,
    row.cachedTokens,
    row.costUsd.toFixed(10),
    row.latencyMs,
    row.ttftMs,
    row.stream,
    row.status,
    row.errorCode,
    row.fallbackCount,
    row.retryCount,
    row.discarded,
  ];
}

/** A value as the batch sends it, by its column's SQL type (`created_at` as epoch milliseconds, the cost as text). */
type InputValue<T> = T extends 'int'
  ? number | null
  : T extends 'bool'
    ? boolean
    : T extends 'timestamptz'
      ? number
      : string | null;
/** One value per column, in their order. */
type InputValues<C extends readonly (readonly [string, string])[]> = {
  -readonly [K in keyof C]: C[K] extends readonly [string, infer T] ? InputValue<T> : never;
};
type InputRow = InputValues<typeof INPUT_COLUMNS>;

/** Column `index` of an input row as its SQL type (`created_at` from epoch milliseconds). */
function inputValue([name, type]: (typeof INPUT_COLUMNS)[number], index: number): string {
  if (name === 'created_at') return `to_timestamp((r->>${index})::float8 / 1000) AS ${name}`;
  return `(r->>${index})::${type} AS ${name}`;
}

const DAY_MS = 86_400_000;
const ROLLUP_SUMS = [
  'requests',
  'errors',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'cost_usd',
  'latency_ms_sum',
];

const ROLLUP_KEYS = 'bucket, team_id, api_key_id, provider, model, agent_id';

/** Adds the inserted rows to one rollup table, keys taken in a fixed order so concurrent writers cannot deadlock. */
function rollupInto(table: 'usage_hourly' | 'usage_daily'): string {
  const unit = table === 'usage_hourly' ? 'hour' : 'day';
  return `INSERT INTO ${table} AS r (${ROLLUP_KEYS}, ${ROLLUP_SUMS.join(', ')})
  SELECT date_trunc('${unit}', created_at, 'UTC'), coalesce(team_id::text, ''), coalesce(api_key_id::text, ''),
         coalesce(provider, ''), coalesce(model_served, model_requested), coalesce(agent_id, ''),
         count(*) FILTER (WHERE NOT discarded), count(*) FILTER (WHERE status >= 400 AND NOT discarded),
         sum(prompt_tokens), sum(completion_tokens),
         sum(cached_tokens), sum(cost_usd), coalesce(sum(latency_ms) FILTER (WHERE NOT discarded), 0)
  FROM inserted
  GROUP BY 1, 2, 3, 4, 5, 6
  ORDER BY 1, 2, 3, 4, 5, 6
  ON CONFLICT (${ROLLUP_KEYS}) DO UPDATE SET
    ${ROLLUP_SUMS.map((c) => `${c} = r.${c} + EXCLUDED.${c}`).join(',\n    ')}
  RETURNING 1`;
}

/**
 * One statement, so one transaction: insert the batch (an event already
 * stored is skipped, so a retried batch never counts twice) and add exactly
 * the rows inserted to the hourly and daily rollups.
 */
const INSERT_BATCH_SQL = `
WITH input AS (
  SELECT ${INPUT_COLUMNS.map(inputValue).join(', ')}
  FROM jsonb_array_elements($1::jsonb) AS r
), inserted AS (
  INSERT INTO usage_records (${INPUT_COLUMNS.map(([name]) => name).join(', ')}, total_tokens)
  SELECT ${INPUT_COLUMNS.map(([name]) => name).join(', ')}, prompt_tokens + completion_tokens FROM input
  ON CONFLICT (event_id) DO NOTHING
  RETURNING created_at, team_id, api_key_id, provider, model_served, model_requested, agent_id, status,
            prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms, discarded
), hourly AS (
  ${rollupInto('usage_hourly')}
), daily AS (
  ${rollupInto('usage_daily')}
)
SELECT (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM hourly) AS hours, (SELECT count(*) FROM daily) AS days`;

const RECORD_COLUMNS = `id, event_id, request_id, created_at, team_id, api_key_id, agent_id, session_id, user_id, endpoint, provider,
  model_requested, model_served, route_alias, prompt_tokens, completion_tokens, cached_tokens, total_tokens, cost_usd,
  latency_ms, ttft_ms, stream, status, error_code, fallback_count, retry_count, discarded`;

type Raw = Record<string, unknown>;

const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'bigint' ? value.toString() : null;
}

function toTotals(row: Raw): UsageTotals {
  return {
    requests: num(row.requests),
    errors: num(row.errors),
    promptTokens: num(row.prompt_tokens),
    completionTokens: num(row.completion_tokens),
    cachedTokens: num(row.cached_tokens),
    costUsd: num(row.cost_usd),
    latencyMsSum: num(row.latency_ms_sum),
  };
}

function toRecord(row: Raw): UsageRecordEntry {
  return {
    id: String(row.id),
    eventId: String(row.event_id),
    requestId: String(row.request_id),
    createdAt: row.created_at as Date,
    teamId: str(row.team_id),
    apiKeyId: str(row.api_key_id),
    agentId: str(row.agent_id),
    sessionId: str(row.session_id),
    userId: str(row.user_id),
    endpoint: String(row.endpoint),
    provider: str(row.provider),
    modelRequested: String(row.model_requested),
    modelServed: str(row.model_served),
    routeAlias: str(row.route_alias),
    promptTokens: num(row.prompt_tokens),
    completionTokens: num(row.completion_tokens),
    cachedTokens: num(row.cached_tokens),
    totalTokens: num(row.total_tokens),
    costUsd: num(row.cost_usd),
    latencyMs: num(row.latency_ms),
    ttftMs: row.ttft_ms === null ? null : num(row.ttft_ms),
    stream: Boolean(row.stream),
    status: num(row.status),
    errorCode: str(row.error_code),
    fallbackCount: num(row.fallback_count),
    retryCount: num(row.retry_count),
    discarded: row.discarded === true,
  };
}

/** A parameter list that numbers its placeholders. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * Usage records and their hourly rollup, in raw SQL on the driver: batch
 * inserts and aggregates are what Prisma's query builder cannot do fast.
 */
@Injectable()
export class UsageRepository {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /** Inserts a batch and rolls it up; returns how many rows were new. */
  async insertUsageBatch(rows: UsageRow[]): Promise<{ inserted: number }> {
    if (rows.length === 0) return { inserted: 0 };
    // One JSON parameter (serialised natively) rather than a typed array per column:
    // pg's array literals cost more CPU and garbage than the rest of the write.
    // Its rows are arrays (see toInputRow), which PostgreSQL reads by position.
    const input = JSON.stringify(rows.map(toInputRow));
    const [result] = await this.database.driver.query<Raw>(INSERT_BATCH_SQL, [input]);
    return { inserted: num(result?.inserted) };
  }

  /**
   * Rollup sums per time bucket (and per group when `groupBy` is given), oldest
   * first. Daily buckets read whole days from `usage_daily` and the partial
   * days at either end from `usage_hourly`, so any whole-hour range is exact.
   */
  async summarizeRollup(
    filter: UsageRollupFilter,
    interval: UsageInterval,
    groupBy?: UsageDimension,
  ): Promise<UsageBucket[]> {
    const p = new Params();
    const dims: string[] = [];
    if (filter.teamId !== undefined) dims.push(`team_id = ${p.add(filter.teamId)}`);
    if (filter.apiKeyId !== undefined) dims.push(`api_key_id = ${p.add(filter.apiKeyId)}`);
    if (filter.provider !== undefined) dims.push(`provider = ${p.add(filter.provider)}`);
    if (filter.model !== undefined) dims.push(`model = ${p.add(filter.model)}`);
    if (filter.agentId !== undefined) dims.push(`agent_id = ${p.add(filter.agentId)}`);
    const key = groupBy ? ROLLUP_COLUMN[groupBy] : 'NULL::text';
    const sums = ROLLUP_SUMS.map((c) => `sum(${c}) AS ${c}`).join(', ');
    const and = dims.map((d) => ` AND ${d}`).join('');
    let sql: string;
    if (interval === 'hour') {
      sql = `SELECT bucket, ${key} AS key, ${sums} FROM usage_hourly
             WHERE bucket >= ${p.add(filter.from)} AND bucket < ${p.add(filter.to)}${and}
             GROUP BY 1, 2 ORDER BY 1, 2`;
    } else {
      const firstDay = new Date(Math.ceil(filter.from.getTime() / DAY_MS) * DAY_MS);
      const lastDay = new Date(Math.floor(filter.to.getTime() / DAY_MS) * DAY_MS);
      const [from, to] = [p.add(filter.from), p.add(filter.to)];
      const parts =
        firstDay < lastDay
          ? [
              `SELECT bucket, ${key} AS key, ${ROLLUP_SUMS.join(', ')} FROM usage_daily
               WHERE bucket >= ${p.add(firstDay)} AND bucket < ${p.add(lastDay)}${and}`,
              `SELECT date_trunc('day', bucket, 'UTC'), ${key}, ${ROLLUP_SUMS.join(', ')} FROM usage_hourly
               WHERE ((bucket >= ${from} AND bucket < ${p.add(firstDay)}) OR (bucket >= ${p.add(lastDay)} AND bucket < ${to}))${and}`,
            ]
          : [
              `SELECT date_trunc('day', bucket, 'UTC'), ${key}, ${ROLLUP_SUMS.join(', ')} FROM usage_hourly
               WHERE bucket >= ${from} AND bucket < ${to}${and}`,
            ];
      sql = `SELECT bucket, key, ${sums} FROM (${parts.join(' UNION ALL ')}) AS u (bucket, key, ${ROLLUP_SUMS.join(', ')})
             GROUP BY 1, 2 ORDER BY 1, 2`;
    }
    const rows = await this.database.driver.query<Raw>(sql, p.values);
    return rows.map((row) => ({ bucket: new Date(row.bucket as Date), key: str(row.key), ...toTotals(row) }));
  }

  /** Records newest first, `limit` of them, after the keyset cursor when given. */
  async findUsageRecords(filter: UsageRecordFilter): Promise<UsageRecordEntry[]> {
    const p = new Params();
    const where = [`created_at >= ${p.add(filter.from)}`, `created_at < ${p.add(filter.to)}`];
    if (filter.requestId !== undefined) where.push(`request_id = ${p.add(filter.requestId)}`);
    if (filter.teamId !== undefined) where.push(`team_id = ${p.add(filter.teamId)}::uuid`);
    if (filter.apiKeyId !== undefined) where.push(`api_key_id = ${p.add(filter.apiKeyId)}::uuid`);
    if (filter.provider !== undefined) where.push(`provider = ${p.add(filter.provider)}`);
    if (filter.model !== undefined) where.push(`coalesce(model_served, model_requested) = ${p.add(filter.model)}`);
    if (filter.status && 'equals' in filter.status) where.push(`status = ${p.add(filter.status.equals)}`);
    if (filter.status && 'min' in filter.status) {
      where.push(`status BETWEEN ${p.add(filter.status.min)} AND ${p.add(filter.status.max)}`);
    }
    if (filter.before) {
      where.push(`(created_at, id) < (${p.add(filter.before.createdAt)}, ${p.add(filter.before.id)}::bigint)`);
    }
    const rows = await this.database.driver.query<Raw>(
      `SELECT ${RECORD_COLUMNS} FROM usage_records WHERE ${where.join(' AND ')}
       ORDER BY created_at DESC, id DESC LIMIT ${p.add(filter.limit)}`,
      p.values,
    );
    return rows.map(toRecord);
  }

  /** The (first) record of a request id; see {@link UsageRecordFilter.requestId} for all of them. */
  async findUsageRecordByRequestId(requestId: string): Promise<UsageRecordEntry | null> {
    const [row] = await this.database.driver.query<Raw>(
      `SELECT ${RECORD_COLUMNS} FROM usage_records WHERE request_id = $1 ORDER BY id LIMIT 1`,
      [requestId],
    );
    return row ? toRecord(row) : null;
  }

  /** Display names of teams, keys or agents by id, for labelling groups. */
  async findLabels(dimension: 'team' | 'key' | 'agent', ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const sql = {
      team: `SELECT id::text AS id, name AS label FROM teams WHERE id::text = ANY($1::text[])`,
      key: `SELECT id::text AS id, name || ' (' || prefix || ')' AS label FROM api_keys WHERE id::text = ANY($1::text[])`,
      agent: `SELECT id, name AS label FROM agents WHERE id = ANY($1::text[])`,
    }[dimension];
    const rows = await this.database.driver.query<{ id: string; label: string }>(sql, [ids]);
    return new Map(rows.map((row) => [row.id, row.label]));
  }

  /** Stored conversations, and those with activity in the last 24 hours. */
  async countSessions(): Promise<SessionCounts> {
    const [row] = await this.database.driver.query<Raw>(
      `SELECT count(*) AS total,
              count(*) FILTER (WHERE coalesce(last_message_at, updated_at) > now() - interval '24 hours') AS active
       FROM sessions`,
    );
    return { total: num(row?.total), activeLast24h: num(row?.active) };
  }
}
