import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { GatewayError } from '@app/contracts';
import {
  clientAbortError,
  connectionError,
  cutShortError,
  fromUpstreamHttpError,
  normalizeGenericError,
  timeoutError,
  type ErrorContext,
} from '../errors';
import { describeUpstreamBody, isNetworkError, statusOfStreamError } from '../shared/error-details';

/** Anthropic's 400s for a conversation longer than the model's context window. */
const CONTEXT_OVERFLOW = /prompt is too long|exceed context limit/i;

/**
 * Anthropic's errors have a type but no code; a prompt too long for the context window is
 * OpenAI's `context_length_exceeded`, which clients act on (LiteLLM maps it the same way).
 */
function openAICode(error: APIError): string | undefined {
  if (error.status !== 400) return undefined;
  const message = describeUpstreamBody(undefined, error.error).message ?? '';
  return CONTEXT_OVERFLOW.test(message) ? 'context_length_exceeded' : undefined;
}

/**
 * Anthropic SDK errors -> gateway errors, through the shared status table in
 * `errors.ts`. An `error` event inside a 200 stream has no status: its
 * `error.type` (`overloaded_error`, `rate_limit_error`...) stands in for one.
 * The SDK wraps a failure to reach Anthropic in an `APIConnectionError`; a
 * network error it passes on unwrapped comes from reading a body that had
 * begun, so the answer was cut short (a 502, as on the OpenAI-shaped path).
 */
export function normalizeAnthropicError(err: unknown, ctx: ErrorContext): GatewayError {
  if (ctx.scope?.clientAborted) return clientAbortError(ctx.provider, err);
  if (ctx.scope?.timedOut) return timeoutError(ctx.provider, err);
  if (err instanceof APIUserAbortError) return clientAbortError(ctx.provider, err);
  if (err instanceof APIConnectionTimeoutError) return timeoutError(ctx.provider, err);
  if (err instanceof APIConnectionError) return connectionError(ctx, err.cause ?? err);
  if (err instanceof APIError) {
    // `instanceof` on the generic class yields `any` fields; the defaults are the real types.
    const apiError = err as APIError;
    const status = apiError.status ?? statusOfStreamError({ type: apiError.type ?? undefined });
    const code = openAICode(apiError);
    return fromUpstreamHttpError({ status, headers: apiError.headers, body: apiError.error, code, cause: err }, ctx);
  }
  if (isNetworkError(err)) return cutShortError(ctx, err);
  return normalizeGenericError(err, ctx);
}
