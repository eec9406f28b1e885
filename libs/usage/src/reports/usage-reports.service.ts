import { Injectable } from '@nestjs/common';
import { GatewayError } from '@app/contracts';
import {
  type UsageBucket,
  type UsageDimension,
  type UsageInterval,
  type UsageRecordEntry,
  type UsageRecordFilter,
  UsageRepository,
  type UsageTotals,
} from '@app/db';
import { decodeCursor, encodeCursor } from './usage-cursor';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Longest range per interval (hourly series come from the larger hourly rollup). */
export const MAX_RANGE_MS: Record<UsageInterval, number> = { hour: 7 * DAY_MS, day: 400 * DAY_MS };
const DEFAULT_RANGE_MS: Record<UsageInterval, number> = { hour: DAY_MS, day: 30 * DAY_MS };
/** Groups past the top N are folded into this key. */
export const OTHER_GROUP = '__other__';

export interface SummaryQuery {
  from?: Date;
  to?: Date;
  interval: UsageInterval;
  groupBy?: UsageDimension;
  teamId?: string;
  apiKeyId?: string;
  provider?: string;
  model?: string;
  agentId?: string;
  /** Groups returned individually (the rest become {@link OTHER_GROUP}). */
  top: number;
}

export interface UsageAggregate {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  totalTokens: number;
  costUsd: number;
  avgLatencyMs: number;
}

export interface UsageGroup extends UsageAggregate {
  /** Team, key or agent id, model or provider name; `null` for requests without one (master key, no agent...). */
  key: string | null;
  /** Team or key name, agent name, when known. */
  label: string | null;
}

export interface UsagePoint extends UsageAggregate {
  bucket: string;
  key: string | null;
}

export interface UsageSummary {
  /** The range actually covered: whole UTC hours, `from` inclusive, `to` exclusive. */
  from: string;
  to: string;
  interval: UsageInterval;
  groupBy: UsageDimension | null;
  totals: UsageAggregate;
  /** Largest groups first (by cost, then requests). */
  groups: UsageGroup[];
  /** Oldest first; one point per bucket (and group) with any traffic. */
  series: UsagePoint[];
}

export interface RecordsQuery {
  from?: Date;
  to?: Date;
  requestId?: string;
  teamId?: string;
  apiKeyId?: string;
  provider?: string;
  model?: string;
  status?: UsageRecordFilter['status'];
  limit: number;
  cursor?: string;
}

export interface UsageRecordsPage {
  data: UsageRecordEntry[];
  /** Pass as `cursor` for the next (older) page; `null` on the last page. */
  nextCursor: string | null;
}

function emptyTotals(): UsageTotals {
  return { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, cachedTokens: 0, costUsd: 0, latencyMsSum: 0 };
}

function add(into: UsageTotals, row: UsageTotals): void {
  into.requests += row.requests;
  into.errors += row.errors;
  into.promptTokens += row.promptTokens;
  into.completionTokens += row.completionTokens;
  into.cachedTokens += row.cachedTokens;
  into.costUsd += row.costUsd;
  into.latencyMsSum += row.latencyMsSum;
}

function aggregate(t: UsageTotals): UsageAggregate {
  return {
    requests: t.requests,
    errors: t.errors,
    promptTokens: t.promptTokens,
    completionTokens: t.completionTokens,
    cachedTokens: t.cachedTokens,
    totalTokens: t.promptTokens + t.completionTokens,
    costUsd: Number(t.costUsd.toFixed(8)),
    avgLatencyMs: t.requests ? Math.round(t.latencyMsSum / t.requests) : 0,
  };
}

/** [from, to) checked and defaulted, then widened to whole UTC hours (what the rollups answer exactly). */
export function summaryRange(
  interval: UsageInterval,
  from?: Date,
  to?: Date,
  now = new Date(),
): { from: Date; to: Date } {
  const end = to ?? now;
  const start = from ?? new Date(end.getTime() - DEFAULT_RANGE_MS[interval]);
  if (start >= end) throw new GatewayError('invalid_request_error', '`from` must be before `to`.', { param: 'from' });
  if (end.getTime() - start.getTime() > MAX_RANGE_MS[interval]) {
    const days = MAX_RANGE_MS[interval] / DAY_MS;
    throw new GatewayError(
      'invalid_request_error',
      `An ${interval === 'hour' ? 'hourly' : 'daily'} summary covers at most ${days} days; narrow the range${interval === 'hour' ? ' or use interval=day' : ''}.`,
      { param: 'from' },
    );
  }
  return {
    from: new Date(Math.floor(start.getTime() / HOUR_MS) * HOUR_MS),
    to: new Date(Math.ceil(end.getTime() / HOUR_MS) * HOUR_MS),
  };
}

/**
 * The dashboard's usage queries: summaries from the hourly rollup (fast over
 * millions of requests) and the request log by keyset pagination. Callers
 * apply team scoping before asking.
 */
@Injectable()
export class UsageReports {
  constructor(private readonly usage: UsageRepository) {}

  async summary(query: SummaryQuery): Promise<UsageSummary> {
    const { from, to } = summaryRange(query.interval, query.from, query.to);
    const buckets = await this.usage.summarizeRollup(
      {
        from,
        to,
        teamId: query.teamId,
        apiKeyId: query.apiKeyId,
        provider: query.provider,
        model: query.model,
        agentId: query.agentId,
      },
      query.interval,
      query.groupBy,
    );
    const totals = emptyTotals();
    for (const b of buckets) add(totals, b);
    const { groups, keep } = await this.topGroups(buckets, query);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      interval: query.interval,
      groupBy: query.groupBy ?? null,
      totals: aggregate(totals),
      groups,
      series: this.series(buckets, query.groupBy ? keep : null),
    };
  }

  async records(query: RecordsQuery): Promise<UsageRecordsPage> {
    const to = query.to ?? new Date();
    const from = query.from ?? new Date(to.getTime() - 30 * DAY_MS);
    if (from >= to) throw new GatewayError('invalid_request_error', '`from` must be before `to`.', { param: 'from' });
    const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.usage.findUsageRecords({
      from,
      to,
      requestId: query.requestId,
      teamId: query.teamId,
      apiKeyId: query.apiKeyId,
      provider: query.provider,
      model: query.model,
      status: query.status,
      before,
      limit: query.limit + 1,
    });
    const data = rows.slice(0, query.limit);
    const last = data.at(-1);
    return { data, nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  private async topGroups(
    buckets: UsageBucket[],
    query: SummaryQuery,
  ): Promise<{ groups: UsageGroup[]; keep: Set<string | null> }> {
    if (!query.groupBy) return { groups: [], keep: new Set() };
    const byKey = new Map<string | null, UsageTotals>();
    for (const b of buckets) {
      const key = b.key === '' ? null : b.key;
      let t = byKey.get(key);
      if (!t) byKey.set(key, (t = emptyTotals()));
      add(t, b);
    }
    const ranked = [...byKey.entries()].sort(([, a], [, b]) => b.costUsd - a.costUsd || b.requests - a.requests);
    const top = ranked.slice(0, query.top);
    const rest = ranked.slice(query.top);
    const dimension = query.groupBy;
    const labels =
      dimension === 'team' || dimension === 'key' || dimension === 'agent'
        ? await this.usage.findLabels(
            dimension,
            top.map(([k]) => k).filter((k): k is string => k !== null),
          )
        : new Map<string, string>();
    const groups: UsageGroup[] = top.map(([key, t]) => ({
      key,
      label: key === null ? null : (labels.get(key) ?? null),
      ...aggregate(t),
    }));
    if (rest.length) {
      const other = emptyTotals();
      for (const [, t] of rest) add(other, t);
      groups.push({ key: OTHER_GROUP, label: `${rest.length} more`, ...aggregate(other) });
    }
    return { groups, keep: new Set(top.map(([k]) => k)) };
  }

  /** Points per bucket (and kept group); groups outside the top are summed into {@link OTHER_GROUP}. */
  private series(buckets: UsageBucket[], keep: Set<string | null> | null): UsagePoint[] {
    const points = new Map<string, { bucket: string; key: string | null; totals: UsageTotals }>();
    for (const b of buckets) {
      const raw = b.key === '' ? null : b.key;
      const key = keep === null ? null : keep.has(raw) ? raw : OTHER_GROUP;
      const bucket = b.bucket.toISOString();
      const id = `${bucket}\u0000${key ?? ''}`;
      let point = points.get(id);
      if (!point) points.set(id, (point = { bucket, key, totals: emptyTotals() }));
      add(point.totals, b);
    }
    return [...points.values()].map((p) => ({ bucket: p.bucket, key: p.key, ...aggregate(p.totals) }));
  }
}
