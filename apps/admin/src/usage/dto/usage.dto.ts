import { z } from 'zod';
import type { UsageRecordEntry } from '@app/db';
import type { RecordsQuery, SummaryQuery } from '@app/usage';

const Timestamp = z.iso.datetime({ offset: true }).describe('ISO 8601, e.g. 2026-01-31T00:00:00Z');
const Id = z.guid();
const Name = z.string().trim().min(1).max(200);

export const UsageSummaryQuery = z
  .strictObject({
    from: Timestamp.optional().describe(
      'Start (inclusive; widened to the hour). Default: `to` minus 30 days (day) or 24 hours (hour)',
    ),
    to: Timestamp.optional().describe('End (exclusive; widened to the hour). Default: now'),
    interval: z
      .enum(['hour', 'day'])
      .default('day')
      .describe('Bucket size; hourly series cover at most 7 days, daily at most 400'),
    groupBy: z
      .enum(['model', 'provider', 'team', 'key', 'agent'])
      .optional()
      .describe('Split totals and series by this dimension'),
    teamId: Id.optional().describe('Only this team (members: their own team only)'),
    apiKeyId: Id.optional(),
    provider: Name.optional(),
    model: Name.optional().describe('The model served (or requested, when none was served)'),
    agentId: Name.optional(),
    top: z.coerce
      .number()
      .int()
      .min(1)
      .max(50)
      .default(10)
      .describe('Groups listed individually; the rest are summed as `__other__`'),
  })
  .meta({ id: 'UsageSummaryQuery' });
export type UsageSummaryQuery = z.infer<typeof UsageSummaryQuery>;

const StatusFilter = z
  .string()
  .regex(/^(success|error|[1-5]xx|[1-5]\d\d)$/, 'must be success, error, 2xx..5xx or an HTTP status code')
  .describe('success (< 400), error (>= 400), a class such as 4xx, or an exact status such as 429');

export const UsageRecordsQuery = z
  .strictObject({
    from: Timestamp.optional().describe('Default: `to` minus 30 days'),
    to: Timestamp.optional().describe('Default: now'),
    requestId: z.string().min(1).max(128).optional().describe('The x-request-id of a request'),
    teamId: Id.optional().describe('Only this team (members: their own team only)'),
    apiKeyId: Id.optional(),
    provider: Name.optional(),
    model: Name.optional(),
    status: StatusFilter.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50).describe('Page size, at most 500'),
    cursor: z.string().max(200).optional().describe('`nextCursor` of the previous page'),
  })
  .meta({ id: 'UsageRecordsQuery' });
export type UsageRecordsQuery = z.infer<typeof UsageRecordsQuery>;

const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export function toSummaryQuery(query: UsageSummaryQuery, teamId: string | undefined): SummaryQuery {
  return { ...query, from: date(query.from), to: date(query.to), teamId };
}

function statusRange(status: string | undefined): RecordsQuery['status'] {
  if (status === undefined) return undefined;
  if (status === 'success') return { min: 0, max: 399 };
  if (status === 'error') return { min: 400, max: 999 };
  if (status.endsWith('xx')) return { min: Number(status[0]) * 100, max: Number(status[0]) * 100 + 99 };
  return { equals: Number(status) };
}

export function toRecordsQuery(query: UsageRecordsQuery, teamId: string | undefined): RecordsQuery {
  return { ...query, from: date(query.from), to: date(query.to), status: statusRange(query.status), teamId };
}

const Aggregate = {
  requests: z.number(),
  errors: z.number().describe('Requests answered with a status >= 400'),
  promptTokens: z.number(),
  completionTokens: z.number(),
  cachedTokens: z.number(),
  totalTokens: z.number(),
  costUsd: z.number(),
  avgLatencyMs: z.number(),
};

export const UsageSummaryResponse = z
  .object({
    from: z.string(),
    to: z.string(),
    interval: z.enum(['hour', 'day']),
    groupBy: z.enum(['model', 'provider', 'team', 'key', 'agent']).nullable(),
    totals: z.object(Aggregate),
    groups: z.array(z.object({ key: z.string().nullable(), label: z.string().nullable(), ...Aggregate })),
    series: z.array(z.object({ bucket: z.string(), key: z.string().nullable(), ...Aggregate })),
  })
  .meta({ id: 'UsageSummary' });

export const UsageRecordResponse = z
  .object({
    id: z.string(),
    eventId: z.string(),
    requestId: z.string(),
    createdAt: z.string(),
    teamId: z.string().nullable(),
    apiKeyId: z.string().nullable(),
    agentId: z.string().nullable(),
    sessionId: z.string().nullable(),
    userId: z.string().nullable(),
    endpoint: z.string(),
    provider: z.string().nullable(),
    modelRequested: z.string(),
    modelServed: z.string().nullable(),
    routeAlias: z.string().nullable(),
    promptTokens: z.number(),
    completionTokens: z.number(),
    cachedTokens: z.number(),
    totalTokens: z.number(),
    costUsd: z.number(),
    latencyMs: z.number(),
    ttftMs: z.number().nullable(),
    stream: z.boolean(),
    status: z.number(),
    errorCode: z.string().nullable(),
    fallbackCount: z.number(),
    retryCount: z.number(),
    discarded: z.boolean().meta({
      description:
        "Tokens the request consumed at another provider or model than its own record's (an answer still unusable after its repair, before the route fell back): billed there, not counted as a request",
    }),
  })
  .meta({ id: 'UsageRecord' });
export type UsageRecordResponse = z.infer<typeof UsageRecordResponse>;

export const UsageRecordsResponse = z
  .object({ data: z.array(UsageRecordResponse), nextCursor: z.string().nullable() })
  .meta({ id: 'UsageRecordsPage' });
export type UsageRecordsResponse = z.infer<typeof UsageRecordsResponse>;

export function toRecordResponse(record: UsageRecordEntry): UsageRecordResponse {
  return { ...record, createdAt: record.createdAt.toISOString() };
}
