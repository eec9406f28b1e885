/** Pure helpers for reading upstream error responses: body shapes, secrets, `retry-after`. */

export interface UpstreamBodyInfo {
  /** The body parsed as JSON (an empty or HTML body does not). */
  json: boolean;
  message?: string;
  code?: string;
  type?: string;
  param?: string;
  /** Azure's `innererror` (which content filter fired, and how severely), as it came. */
  innererror?: Record<string, unknown>;
}

const MAX_MESSAGE_CHARS = 1_000;

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Reads `{error: {...}}`, `{error: "..."}`, `{message}`, `{detail}` and `[{error}]` (Gemini). */
function fromObject(value: unknown): UpstreamBodyInfo {
  const body = Array.isArray(value) ? (value[0] as unknown) : value;
  if (!isRecord(body)) return { json: true, message: str(body) };
  const error = body['error'];
  if (typeof error === 'string') return { json: true, message: error };
  const source = isRecord(error) ? error : body;
  const detail = source['detail'] ?? body['detail'];
  const message = str(source['message']) ?? str(detail) ?? (detail !== undefined ? JSON.stringify(detail) : undefined);
  const innererror = source['innererror'];
  return {
    json: true,
    message: message?.slice(0, MAX_MESSAGE_CHARS),
    code: str(source['code']),
    type: str(source['type']),
    param: str(source['param']),
    ...(isRecord(innererror) ? { innererror } : {}),
  };
}

/**
 * Describes an upstream error body: the raw text when we have it (preferred), else
 * what the SDK parsed. `json: false` marks garbage (HTML, empty, truncated).
 */
export function describeUpstreamBody(raw: string | undefined, parsed: unknown): UpstreamBodyInfo {
  if (raw !== undefined) {
    const result = parseJson(raw);
    return result.ok ? fromObject(result.value) : { json: false };
  }
  if (parsed === undefined || parsed === null) return { json: false };
  if (typeof parsed === 'string') {
    const result = parseJson(parsed);
    return result.ok ? fromObject(result.value) : { json: true, message: parsed.slice(0, MAX_MESSAGE_CHARS) };
  }
  return fromObject(parsed);
}

const REDACTED = '[redacted]';
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/\b(?:sk|pk|rk)-[A-Za-z0-9_*-]{6,}/g, REDACTED],
  [/\bAIza[0-9A-Za-z_-]{10,}/g, REDACTED],
  [/\bBearer\s+[^\s"',]+/gi, `Bearer ${REDACTED}`],
  [/\b(api[_-]?key|key|token|access_token)=[^&\s"',]+/gi, `$1=${REDACTED}`],
  [/\*{3,}[A-Za-z0-9]{2,}/g, REDACTED],
];

/** Removes the configured secrets and anything shaped like a credential. */
export function scrubSecrets(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** Values of {@link scrubJson} nested deeper than this are dropped. */
const MAX_SCRUBBED_DEPTH = 8;

/**
 * A JSON value an upstream wrote (Azure's `innererror`), with {@link scrubSecrets}
 * applied to each of its texts (keys too): a secret escaped inside JSON text would
 * slip past scrubbing the serialised whole. What is nested too deep is dropped.
 */
export function scrubJson(value: unknown, secrets: ReadonlyArray<string | undefined>, depth = 0): unknown {
  if (typeof value === 'string') return scrubSecrets(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_SCRUBBED_DEPTH) return undefined;
  if (Array.isArray(value)) return value.map((item) => scrubJson(item, secrets, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const scrubbed = scrubJson(item, secrets, depth + 1);
    if (scrubbed !== undefined) out[scrubSecrets(key, secrets)] = scrubbed;
  }
  return out;
}

interface HeaderSource {
  get(name: string): string | null;
}

/** The longest wait an upstream's `retry-after` is taken for (a day): `1e308` seconds is no answer to send on. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/** `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date), in ms, at most a day. */
export function parseRetryAfterMs(headers: HeaderSource | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const bounded = (ms: number) => Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms))) return bounded(Number(ms));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return bounded(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : bounded(date - now);
}

/** One Go-style duration as OpenAI writes its rate-limit resets (`1s`, `6m0s`, `20ms`, `1h2m3.5s`), in ms. */
function parseDurationMs(text: string): number | undefined {
  const units: Record<string, number> = {
    h: 3_600_000,
    m: 60_000,
    s: 1_000,
    ms: 1,
    us: 0.001,
    µs: 0.001,
    ns: 0.000_001,
  };
  const parts = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/.test(text.trim())
    ? text.trim().matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)
    : undefined;
  if (!parts) return undefined;
  let total = 0;
  for (const [, amount, unit] of parts) total += Number(amount) * units[unit];
  return total;
}

/**
 * When a 429 without `retry-after` may be tried again, from OpenAI's rate-limit
 * headers: the latest `x-ratelimit-reset-{requests,tokens}` of the limits whose
 * `x-ratelimit-remaining-*` is 0. `undefined` when none is known to be spent
 * (the request may have asked more tokens than remain): the usual backoff then.
 */
export function parseRateLimitResetMs(headers: HeaderSource | undefined): number | undefined {
  if (!headers) return undefined;
  let wait: number | undefined;
  for (const limit of ['requests', 'tokens']) {
    if (headers.get(`x-ratelimit-remaining-${limit}`)?.trim() !== '0') continue;
    const reset = headers.get(`x-ratelimit-reset-${limit}`);
    const ms = reset === null ? undefined : parseDurationMs(reset);
    if (ms !== undefined) wait = Math.max(wait ?? 0, ms);
  }
  return wait;
}

/** The error types of mid-stream error events, as HTTP statuses. */
const STREAM_ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  tokens: 429,
  api_error: 500,
  server_error: 500,
  overloaded_error: 529,
  timeout_error: 504,
};

/**
 * A status for an in-stream error event: its `code` when that is an HTTP error
 * status (vLLM and other OpenAI-compatible servers send `code: 400` with their
 * exception's name as `type`), else from its error type.
 */
export function statusOfStreamError(info: Pick<UpstreamBodyInfo, 'type' | 'code'>): number {
  if (info.code !== undefined && /^[45]\d\d$/.test(info.code)) return Number(info.code);
  return (info.type && STREAM_ERROR_STATUS[info.type]) || 502;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** undici's errors about the request it was handed, not about the network: the gateway's failure, not the provider's. */
const REQUEST_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_INVALID_RETURN_VALUE', 'UND_ERR_NOT_SUPPORTED']);

/** Whether undici refused the request it was handed (an invalid path or header): no provider was asked. */
export function isRequestError(err: unknown): boolean {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && REQUEST_CODES.has(code);
}

/** undici's `fetch failed` / `terminated` (socket lost mid-body) and socket-level codes. */
export function isNetworkError(err: unknown): err is Error {
  if (err instanceof TypeError && (err.message === 'fetch failed' || err.message === 'terminated')) return true;
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR')) && !isRequestError(err);
}

/** The most telling part of a connection failure: a socket error code, else the innermost message. */
export function describeCause(cause: unknown): string {
  let current: unknown = cause;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (!(current.cause instanceof Error)) return current.message;
    current = current.cause;
  }
  return 'connection failed';
}
