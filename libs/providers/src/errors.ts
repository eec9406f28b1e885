import { GatewayError, type ErrorCode, type GatewayErrorOptions, type Usage } from '@app/contracts';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import {
  describeCause,
  describeUpstreamBody,
  isNetworkError,
  parseRateLimitResetMs,
  parseRetryAfterMs,
  scrubJson,
  scrubSecrets,
  statusOfStreamError,
  type UpstreamBodyInfo,
} from './shared/error-details';
import { UpstreamShapeError, UpstreamTooLargeError, upstreamErrorBody } from './shared/http';
import type { ProviderConfig } from './provider.interface';

/**
 * Why an upstream call failed, for the router's retry / fallback / breaker decisions.
 * `unusable_answer`: the upstream answered, but not in a form this request can use
 * (emulated structured output or tool calls still invalid after the repair turn) —
 * the model's doing, not the provider's health.
 */
export type UpstreamFailure =
  | 'invalid_request'
  | 'not_found'
  | 'auth'
  | 'quota'
  | 'rate_limit'
  | 'server'
  | 'connection'
  | 'timeout'
  | 'bad_response'
  | 'unusable_answer'
  /** The target cannot take this request at all (a feature only other providers have): the next one may. */
  | 'unsupported'
  | 'aborted';

export interface ProviderErrorDetails extends GatewayErrorOptions {
  provider: string;
  reason: UpstreamFailure;
  retryable: boolean;
  upstreamStatus?: number;
  retryAfterMs?: number;
  /** Tokens the upstream reported for answers it gave before the failure; they are billed all the same. */
  usage?: Usage;
}

/** Status used for the client-abort marker (nginx's "client closed request"); never sent. */
export const CLIENT_CLOSED_REQUEST = 499;

/** A `GatewayError` raised by a provider adapter, with what the router needs to know. */
export class ProviderError extends GatewayError {
  readonly provider: string;
  readonly reason: UpstreamFailure;
  /** Worth trying again (same target after backoff, or the next fallback target). */
  readonly retryable: boolean;
  readonly upstreamStatus?: number;
  readonly retryAfterMs?: number;
  /**
   * Tokens of answers the upstream gave before the failure (billed all the same): the
   * router hands them on with the failure. The pipeline adds those of earlier calls of
   * the same attempt (a reply whose repair call failed).
   */
  usage?: Usage;

  constructor(code: ErrorCode, message: string, details: ProviderErrorDetails) {
    const { provider, reason, retryable, upstreamStatus, retryAfterMs, usage, ...options } = details;
    super(code, message, { ...options, unsupported: reason === 'unsupported' });
    this.name = 'ProviderError';
    this.provider = provider;
    this.reason = reason;
    this.retryable = retryable;
    this.upstreamStatus = upstreamStatus;
    this.retryAfterMs = retryAfterMs;
    this.usage = usage;
  }
}

/** What the normaliser knows about the call that failed. */
export interface ErrorContext {
  provider: string;
  /** Values that must never appear in a message (see {@link providerSecrets}). */
  secrets: ReadonlyArray<string | undefined>;
  scope?: { readonly clientAborted: boolean; readonly timedOut: boolean };
}

/**
 * What a provider's messages must never show: its API key and every header value it
 * sends upstream (`options.headers` often carries the credential, e.g. `x-api-key`).
 */
export function providerSecrets(config: ProviderConfig): string[] {
  const values = [config.apiKey, ...Object.values(config.options?.headers ?? {})];
  // Longest first, so a secret that contains another is not left half-scrubbed.
  return values.filter((value): value is string => Boolean(value)).sort((a, b) => b.length - a.length);
}

/** An upstream HTTP error, whatever SDK reported it. */
export interface UpstreamHttpError {
  /** Absent for an error event inside a 200 stream. */
  status?: number;
  headers?: Headers;
  /** What the SDK parsed out of the body. */
  body?: unknown;
  /** The raw body text, when the caller read it itself (preferred over `body`). */
  rawBody?: string;
  /** The error's code in OpenAI's words, for a provider whose errors carry none of their own. */
  code?: string;
  cause: unknown;
}

export function isRetryable(err: unknown): boolean {
  return err instanceof ProviderError && err.retryable;
}

/** How long the upstream asked us to wait, in ms, when it said so. */
export function retryAfterMs(err: unknown): number | undefined {
  if (err instanceof ProviderError && err.retryAfterMs !== undefined) return err.retryAfterMs;
  if (err instanceof GatewayError && err.retryAfter !== undefined) return err.retryAfter * 1000;
  return undefined;
}

/** The client went away: nothing to answer, nothing to retry, not the provider's fault. */
export function isClientAbort(err: unknown): err is ProviderError {
  return err instanceof ProviderError && err.reason === 'aborted';
}

export function clientAbortError(provider: string, cause?: unknown): ProviderError {
  return new ProviderError('upstream_error', 'request aborted by the client', {
    provider,
    reason: 'aborted',
    retryable: false,
    status: CLIENT_CLOSED_REQUEST,
    cause,
  });
}

export function timeoutError(provider: string, cause?: unknown): ProviderError {
  return new ProviderError('upstream_timeout', `provider '${provider}' did not answer in time`, {
    provider,
    reason: 'timeout',
    retryable: true,
    cause,
  });
}

export function connectionError(ctx: ErrorContext, cause: unknown): ProviderError {
  const detail = scrubSecrets(describeCause(cause), ctx.secrets);
  return new ProviderError('upstream_error', `connection to provider '${ctx.provider}' failed: ${detail}`, {
    provider: ctx.provider,
    reason: 'connection',
    retryable: true,
    cause,
  });
}

/**
 * The provider answered, then the connection failed before the answer was
 * complete: a failure of the provider (502, retried, then the next target), not
 * of reaching it (a connection error, which makes "no provider available").
 */
export function cutShortError(ctx: ErrorContext, cause: unknown): ProviderError {
  const detail = scrubSecrets(describeCause(cause), ctx.secrets);
  return new ProviderError(
    'upstream_error',
    `provider '${ctx.provider}' closed the connection before its answer was complete: ${detail}`,
    { provider: ctx.provider, reason: 'server', retryable: true, cause },
  );
}

/** A 2xx answer that is not what the protocol promises (HTML, truncated JSON, wrong shape). */
export function badResponseError(provider: string, detail: string, cause?: unknown): ProviderError {
  return new ProviderError('upstream_error', `provider '${provider}' returned an invalid response: ${detail}`, {
    provider,
    reason: 'bad_response',
    retryable: false,
    cause,
  });
}

/** Maps an upstream HTTP error (status, headers, body) to the gateway's error. */
export function fromUpstreamHttpError(http: UpstreamHttpError, ctx: ErrorContext): ProviderError {
  const status = http.status ?? 502;
  const described = describeUpstreamBody(http.rawBody ?? upstreamErrorBody(http.headers), http.body);
  const info = http.code === undefined ? described : { ...described, code: http.code };
  const message = info.message ? scrubSecrets(info.message, ctx.secrets) : undefined;
  const base = { provider: ctx.provider, upstreamStatus: http.status, cause: http.cause };
  const said = message ? `: ${message}` : ` (HTTP ${status})`;

  if (status === 401 || status === 403 || (status === 400 && rejectsKey(http, message))) {
    return new ProviderError('upstream_error', `provider '${ctx.provider}' rejected the gateway's credentials`, {
      ...base,
      reason: 'auth',
      retryable: false,
    });
  }
  if (status === 429) return rateLimited(http, info, message, ctx);
  if (status === 408)
    return new ProviderError('upstream_timeout', `provider '${ctx.provider}' timed out${said}`, {
      ...base,
      reason: 'timeout',
      retryable: true,
    });
  if (status === 529) {
    // Anthropic's "overloaded": a 503 (`overloaded_error` to Messages API clients), not a generic failure;
    // its retry-after goes on to the client, whose SDK waits for it.
    const waitMs = parseRetryAfterMs(http.headers);
    return new ProviderError('service_unavailable', `provider '${ctx.provider}' is overloaded${said}`, {
      ...base,
      reason: 'server',
      retryable: true,
      retryAfterMs: waitMs,
      retryAfter: waitMs === undefined ? undefined : Math.max(1, Math.ceil(waitMs / 1000)),
    });
  }
  if (status >= 500) {
    // An overloaded or restarting server may say when to come back (503 and 529 often do).
    return new ProviderError('upstream_error', `provider '${ctx.provider}' failed${said}`, {
      ...base,
      reason: 'server',
      retryable: true,
      retryAfterMs: parseRetryAfterMs(http.headers),
    });
  }
  if (!info.json || !message) {
    return new ProviderError(
      'upstream_error',
      `provider '${ctx.provider}' answered HTTP ${status} with an unreadable body`,
      {
        ...base,
        reason: 'bad_response',
        retryable: false,
      },
    );
  }
  return clientSideError(status, message, info, { ...base, reason: 'invalid_request', retryable: false }, ctx.secrets);
}

function rateLimited(
  http: UpstreamHttpError,
  info: UpstreamBodyInfo,
  message: string | undefined,
  ctx: ErrorContext,
): ProviderError {
  const base = { provider: ctx.provider, upstreamStatus: 429, cause: http.cause };
  if (info.code === 'insufficient_quota') {
    return new ProviderError('upstream_error', `provider '${ctx.provider}' quota exhausted: ${message}`, {
      ...base,
      reason: 'quota',
      retryable: false,
    });
  }
  const waitMs =
    parseRetryAfterMs(http.headers) ?? parseRateLimitResetMs(http.headers) ?? bodyRetryDelayMs(upstreamText(http));
  return new ProviderError(
    'rate_limit_exceeded',
    message ?? `provider '${ctx.provider}' is rate limiting the gateway`,
    {
      ...base,
      reason: 'rate_limit',
      retryable: true,
      retryAfterMs: waitMs,
      retryAfter: waitMs === undefined ? undefined : Math.max(1, Math.ceil(waitMs / 1000)),
    },
  );
}

/** The upstream's error body as text, as it came or as the SDK parsed it. */
function upstreamText(http: UpstreamHttpError): string {
  if (http.rawBody !== undefined) return http.rawBody;
  try {
    return JSON.stringify(http.body) ?? '';
  } catch {
    return '';
  }
}

/**
 * Google's answer to a key that is not valid is a 400 (`API_KEY_INVALID`, "API key
 * not valid"), not a 401: the gateway's credentials, not the client's request.
 */
function rejectsKey(http: UpstreamHttpError, message: string | undefined): boolean {
  return /API key not valid/i.test(message ?? '') || upstreamText(http).includes('"API_KEY_INVALID"');
}

/** Google's `RetryInfo` (`"retryDelay": "39s"`), its only word on when to retry a 429. */
function bodyRetryDelayMs(text: string): number | undefined {
  const seconds = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(text)?.[1];
  return seconds === undefined ? undefined : Math.round(Number(seconds) * 1000);
}

/**
 * 400s of OpenAI-shaped servers for a prompt longer than the model's context window that
 * carry no code: Gemini's ("The input token count (1200000) exceeds the maximum number of
 * tokens allowed (1048576)"), vLLM's ("This model's maximum context length is 4096
 * tokens. However, you requested..."), llama.cpp's ("the request exceeds the available
 * context size").
 */
const CONTEXT_OVERFLOW =
  /input token count .*exceeds the maximum number of tokens|maximum context length is \d+|exceeds the available context size/i;

/**
 * A code a client can act on (`context_length_exceeded`); not an HTTP status repeated as
 * one (Gemini's `"code": 400`).
 */
function namedCode(code: string | undefined): string | undefined {
  return code !== undefined && /[a-z]/i.test(code) ? code : undefined;
}

/**
 * 4xx blamed on the request: the provider's status, message, `param` and `code` go back to
 * the client (a 4xx of another status is the gateway's problem: a 502 with its own code).
 */
function clientSideError(
  status: number,
  message: string,
  info: UpstreamBodyInfo,
  details: ProviderErrorDetails,
  secrets: ErrorContext['secrets'],
): ProviderError {
  // The provider's `param` and `code` are text it chose, as its message is: scrubbed of secrets the same way.
  const scrub = (text: string | undefined) => (text === undefined ? undefined : scrubSecrets(text, secrets));
  const options = {
    ...details,
    param: scrub(info.param) ?? null,
    providerCode: scrub(namedCode(info.code)),
    innererror: info.innererror && (scrubJson(info.innererror, secrets) as Record<string, unknown>),
  };
  switch (status) {
    case 400:
    case 422: {
      // OpenAI's own code for a context overflow, which clients act on (they shorten the history).
      const overflow = options.providerCode === undefined && CONTEXT_OVERFLOW.test(message);
      const providerCode = overflow ? 'context_length_exceeded' : options.providerCode;
      return new ProviderError('invalid_request_error', message, { ...options, providerCode, status });
    }
    case 404: {
      // OpenAI's code, Azure's DeploymentNotFound, or a message naming the model (Gemini's "models/x is not found").
      const aboutModel =
        info.code === 'model_not_found' ||
        info.code === 'DeploymentNotFound' ||
        /\bmodels?\b|\bdeployment\b/i.test(message);
      // Azure's DeploymentNotFound is OpenAI's model_not_found, which clients act on: that code goes on the wire.
      const providerCode = info.code === 'DeploymentNotFound' ? undefined : options.providerCode;
      return new ProviderError(aboutModel ? 'model_not_found' : 'not_found', message, {
        ...options,
        providerCode,
        reason: 'not_found',
      });
    }
    case 409:
      return new ProviderError('conflict', message, { ...options, retryable: true });
    case 413:
      return new ProviderError('request_too_large', message, options);
    default:
      return new ProviderError('upstream_error', `provider '${details.provider}' answered HTTP ${status}: ${message}`, {
        ...options,
        providerCode: undefined,
        reason: status === 402 ? 'quota' : 'invalid_request',
      });
  }
}

/**
 * The one place that turns anything an OpenAI-SDK-based call threw into a
 * `GatewayError`: aborts and timeouts first (the SDK reports both as aborts),
 * then HTTP errors by status, connection errors, garbage bodies, and the rest.
 */
export function normalizeProviderError(err: unknown, ctx: ErrorContext): GatewayError {
  if (ctx.scope?.clientAborted) return isClientAbort(err) ? err : clientAbortError(ctx.provider, err);
  if (ctx.scope?.timedOut) return timeoutError(ctx.provider, err);
  if (err instanceof GatewayError) return err;
  if (err instanceof APIUserAbortError) return clientAbortError(ctx.provider, err);
  if (err instanceof APIConnectionTimeoutError) return timeoutError(ctx.provider, err);
  if (err instanceof APIConnectionError) return connectionError(ctx, err.cause ?? err);
  if (err instanceof APIError) {
    // `instanceof` on the generic class yields `any` fields; the defaults are the real types.
    const apiError = err as APIError;
    const status = apiError.status ?? statusOfStreamError(describeUpstreamBody(undefined, apiError.error));
    return fromUpstreamHttpError({ status, headers: apiError.headers, body: apiError.error, cause: err }, ctx);
  }
  return normalizeGenericError(err, ctx);
}

/** Errors not raised by an SDK: our own fetch calls, JSON parsing, bugs. */
export function normalizeGenericError(err: unknown, ctx: ErrorContext): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof SyntaxError) return badResponseError(ctx.provider, 'body is not valid JSON', err);
  if (err instanceof UpstreamTooLargeError || err instanceof UpstreamShapeError) {
    return badResponseError(ctx.provider, err.message, err);
  }
  if (err instanceof Error && err.name === 'AbortError') return clientAbortError(ctx.provider, err);
  if (isNetworkError(err)) return connectionError(ctx, err.cause ?? err);
  const detail = err instanceof Error ? scrubSecrets(err.message, ctx.secrets) : 'unknown error';
  return new GatewayError('internal_error', `provider '${ctx.provider}' call failed: ${detail}`, { cause: err });
}
