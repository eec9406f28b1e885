import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { GatewayError } from '@app/contracts';
import {
  clientAbortError,
  connectionError,
  fromUpstreamHttpError,
  normalizeGenericError,
  timeoutError,
  type ErrorContext,
} from '../errors';
import { statusOfStreamError } from '../shared/error-details';

/**
 * Anthropic SDK errors -> gateway errors, through the shared status table in
 * `errors.ts`. An `error` event inside a 200 stream has no status: its
 * `error.type` (`overloaded_error`, `rate_limit_error`...) stands in for one.
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
    return fromUpstreamHttpError({ status, headers: apiError.headers, body: apiError.error, cause: err }, ctx);
  }
  return normalizeGenericError(err, ctx);
}
