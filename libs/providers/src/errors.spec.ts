import * as AnthropicSdk from '@anthropic-ai/sdk';
import { GatewayError } from '@app/contracts';
import * as OpenAISdk from 'openai';
import { describe, expect, it } from 'vitest';
import { normalizeAnthropicError } from './anthropic/anthropic.errors';
import {
  fromUpstreamHttpError,
  isClientAbort,
  isRetryable,
  normalizeProviderError,
  ProviderError,
  retryAfterMs,
  type ErrorContext,
} from './errors';

const KEY = 'sk-test-1234567890abcdef';
const ctx: ErrorContext = { provider: 'up', secrets: [KEY] };

const openai = (status: number | undefined, body: unknown, headers: Record<string, string> = {}, message?: string) =>
  OpenAISdk.APIError.generate(status, body as object, message, status ? new Headers(headers) : undefined);
const anthropic = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  AnthropicSdk.APIError.generate(status, body as object, undefined, new Headers(headers));
const anthropicBody = (type: string, message: string) => ({ type: 'error', error: { type, message } });

interface Expected {
  code: string;
  status: number;
  retryable: boolean;
  param?: string | null;
  message?: string | RegExp;
  retryAfter?: number;
  retryAfterMs?: number;
}

const cases: Array<[string, () => GatewayError, Expected]> = [
  [
    'openai 400 passes status, message and param through',
    () =>
      normalizeProviderError(
        openai(400, {
          error: { message: 'Invalid temperature', type: 'invalid_request_error', param: 'temperature', code: null },
        }),
        ctx,
      ),
    {
      code: 'invalid_request_error',
      status: 400,
      retryable: false,
      param: 'temperature',
      message: 'Invalid temperature',
    },
  ],
  [
    'openai 404 unknown model',
    () =>
      normalizeProviderError(
        openai(404, { error: { message: 'The model `gpt-9` does not exist', code: 'model_not_found' } }),
        ctx,
      ),
    { code: 'model_not_found', status: 404, retryable: false, message: 'The model `gpt-9` does not exist' },
  ],
  [
    'openai 422 keeps its status',
    () => normalizeProviderError(openai(422, { error: { message: 'unprocessable' } }), ctx),
    { code: 'invalid_request_error', status: 422, retryable: false },
  ],
  [
    "openai 401 is the gateway's problem, not the client's",
    () => normalizeProviderError(openai(401, { error: { message: `Incorrect API key provided: ${KEY}` } }), ctx),
    {
      code: 'upstream_error',
      status: 502,
      retryable: false,
      message: "provider 'up' rejected the gateway's credentials",
    },
  ],
  [
    'anthropic 403',
    () => normalizeAnthropicError(anthropic(403, anthropicBody('permission_error', 'no access')), ctx),
    { code: 'upstream_error', status: 502, retryable: false, message: /credentials/ },
  ],
  [
    'openai 429 with retry-after seconds',
    () =>
      normalizeProviderError(openai(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '7' }), ctx),
    {
      code: 'rate_limit_exceeded',
      status: 429,
      retryable: true,
      retryAfter: 7,
      retryAfterMs: 7000,
      message: 'Rate limit reached',
    },
  ],
  [
    'openai 429 with retry-after-ms',
    () =>
      normalizeProviderError(
        openai(429, { error: { message: 'slow down' } }, { 'retry-after-ms': '1500', 'retry-after': '9' }),
        ctx,
      ),
    { code: 'rate_limit_exceeded', status: 429, retryable: true, retryAfter: 2, retryAfterMs: 1500 },
  ],
  [
    'openai 429 insufficient_quota is not worth retrying',
    () =>
      normalizeProviderError(
        openai(429, { error: { message: 'You exceeded your quota', code: 'insufficient_quota' } }),
        ctx,
      ),
    { code: 'upstream_error', status: 502, retryable: false },
  ],
  [
    'anthropic 429',
    () =>
      normalizeAnthropicError(
        anthropic(429, anthropicBody('rate_limit_error', 'Number of requests exceeded'), { 'retry-after': '30' }),
        ctx,
      ),
    { code: 'rate_limit_exceeded', status: 429, retryable: true, retryAfter: 30 },
  ],
  [
    'openai 500',
    () => normalizeProviderError(openai(500, { error: { message: 'The server had an error' } }), ctx),
    { code: 'upstream_error', status: 502, retryable: true, message: /The server had an error/ },
  ],
  [
    'openai 503 with retry-after: the wait is kept for the router, the client is not told to wait',
    () => normalizeProviderError(openai(503, { error: { message: 'restarting' } }, { 'retry-after': '2' }), ctx),
    { code: 'upstream_error', status: 502, retryable: true, retryAfterMs: 2000, retryAfter: undefined },
  ],
  [
    'anthropic 529 overloaded',
    () => normalizeAnthropicError(anthropic(529, anthropicBody('overloaded_error', 'Overloaded')), ctx),
    { code: 'service_unavailable', status: 503, retryable: true, message: /overloaded: Overloaded/ },
  ],
  [
    'anthropic 400 passes the message through',
    () =>
      normalizeAnthropicError(
        anthropic(400, anthropicBody('invalid_request_error', 'max_tokens: must be positive')),
        ctx,
      ),
    { code: 'invalid_request_error', status: 400, retryable: false, message: 'max_tokens: must be positive' },
  ],
  [
    'a garbage (HTML) 4xx body is a 502',
    () => normalizeProviderError(openai(404, undefined, {}, '<html>Not Found</html>'), ctx),
    { code: 'upstream_error', status: 502, retryable: false, message: /unreadable body/ },
  ],
  [
    'connection refused',
    () =>
      normalizeProviderError(
        new OpenAISdk.APIConnectionError({
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        }),
        ctx,
      ),
    {
      code: 'upstream_error',
      status: 502,
      retryable: true,
      message: "connection to provider 'up' failed: ECONNREFUSED",
    },
  ],
  [
    'the socket dropped mid-body (undici "terminated")',
    () =>
      normalizeProviderError(
        new TypeError('terminated', {
          cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
        }),
        ctx,
      ),
    {
      code: 'upstream_error',
      status: 502,
      retryable: true,
      message: "connection to provider 'up' failed: UND_ERR_SOCKET",
    },
  ],
  [
    'SDK timeout',
    () => normalizeProviderError(new OpenAISdk.APIConnectionTimeoutError(), ctx),
    { code: 'upstream_timeout', status: 504, retryable: true },
  ],
  [
    'our own deadline wins over what the SDK saw',
    () =>
      normalizeProviderError(new OpenAISdk.APIUserAbortError(), {
        ...ctx,
        scope: { clientAborted: false, timedOut: true },
      }),
    { code: 'upstream_timeout', status: 504, retryable: true },
  ],
  [
    'openai error event inside a stream',
    () => normalizeProviderError(openai(undefined, { message: 'The server had an error', type: 'server_error' }), ctx),
    { code: 'upstream_error', status: 502, retryable: true },
  ],
  [
    'anthropic error event inside a stream',
    () =>
      normalizeAnthropicError(
        new AnthropicSdk.APIError(
          undefined,
          anthropicBody('overloaded_error', 'Overloaded'),
          undefined,
          new Headers(),
          'overloaded_error',
        ),
        ctx,
      ),
    { code: 'service_unavailable', status: 503, retryable: true, message: /Overloaded/ },
  ],
  [
    'an unparsable 2xx body',
    () => normalizeProviderError(new SyntaxError('Unexpected token <'), ctx),
    { code: 'upstream_error', status: 502, retryable: false, message: /invalid response/ },
  ],
];

describe('normalizeProviderError', () => {
  it.each(cases)('%s', (_name, make, expected) => {
    const error = make();
    expect(error).toBeInstanceOf(ProviderError);
    const { message, retryable, ...fields } = expected;
    expect(error).toMatchObject(fields);
    expect(isRetryable(error)).toBe(retryable);
    if (typeof message === 'string') expect(error.message).toBe(message);
    else if (message) expect(error.message).toMatch(message);
    if (expected.retryAfterMs !== undefined) expect(retryAfterMs(error)).toBe(expected.retryAfterMs);
    expect(error.message).not.toContain(KEY);
    expect(isClientAbort(error)).toBe(false);
  });

  it.each([
    ['openai abort', () => normalizeProviderError(new OpenAISdk.APIUserAbortError(), ctx)],
    ['anthropic abort', () => normalizeAnthropicError(new AnthropicSdk.APIUserAbortError(), ctx)],
    [
      'client went away mid-call',
      () =>
        normalizeProviderError(new Error('terminated'), { ...ctx, scope: { clientAborted: true, timedOut: false } }),
    ],
  ])('%s is the distinct, non-retryable client-abort marker', (_name, make) => {
    const error = make();
    expect(isClientAbort(error)).toBe(true);
    expect(isRetryable(error)).toBe(false);
    expect(error.status).toBe(499);
  });

  it('reads the errors of Google and Azure as what they are', () => {
    const google = (status: number, error: object) =>
      fromUpstreamHttpError({ status, headers: new Headers(), rawBody: JSON.stringify([{ error }]), cause: null }, ctx);
    // A key Google does not take is a 400 there: the gateway's credentials, not the client's request.
    const badKey = google(400, {
      code: 400,
      message: 'API key not valid. Please pass a valid API key.',
      status: 'INVALID_ARGUMENT',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
    });
    expect(badKey).toMatchObject({ code: 'upstream_error', status: 502, reason: 'auth' });
    expect(isRetryable(badKey)).toBe(false);
    // Google says when to retry a 429 only in its body.
    const limited = google(429, {
      code: 429,
      message: 'You exceeded your current quota, please check your plan and billing details.',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '39s' }],
    });
    expect(limited).toMatchObject({ code: 'rate_limit_exceeded', retryAfter: 39 });
    expect(retryAfterMs(limited)).toBe(39_000);
    // A model (Gemini) or deployment (Azure) that does not exist is model_not_found.
    const gemini = google(404, {
      code: 404,
      message: 'models/gemini-9 is not found for API version v1main, or is not supported for generateContent.',
      status: 'NOT_FOUND',
    });
    expect(gemini).toMatchObject({ code: 'model_not_found', status: 404 });
    const azure = fromUpstreamHttpError(
      {
        status: 404,
        headers: new Headers(),
        cause: null,
        rawBody: JSON.stringify({
          error: { code: 'DeploymentNotFound', message: 'The API deployment for this resource does not exist.' },
        }),
      },
      ctx,
    );
    expect(azure).toMatchObject({ code: 'model_not_found', status: 404 });
    expect(azure.toEnvelope().error.code).toBe('model_not_found');
  });

  it("passes Anthropic's retry-after of a 529 on to the client", () => {
    const error = normalizeAnthropicError(
      anthropic(529, anthropicBody('overloaded_error', 'Overloaded'), { 'retry-after': '7' }),
      ctx,
    );
    expect(error).toMatchObject({ status: 503, retryAfter: 7 });
  });

  it("scrubs the key from the provider's param and code too, not only its message", () => {
    const error = normalizeProviderError(
      openai(400, { error: { message: 'bad', param: `key ${KEY}`, code: `code-${KEY}` } }),
      ctx,
    );
    expect(JSON.stringify(error.toEnvelope())).not.toContain(KEY);
  });

  it('never lets the key through, even inside a passed-through message', () => {
    const error = normalizeProviderError(
      openai(400, { error: { message: `bad header Bearer ${KEY} and key=${KEY}` } }),
      ctx,
    );
    expect(error.message).toBe('bad header Bearer [redacted] and key=[redacted]');
  });

  it("sends the provider's own code of an error it blames on the request, not of one that is the gateway's", () => {
    const context = { message: 'maximum context length exceeded', param: 'messages', code: 'context_length_exceeded' };
    const tooLong = normalizeProviderError(openai(400, { error: context }), ctx);
    expect(tooLong.toEnvelope().error).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
    expect(tooLong.code).toBe('invalid_request_error');
    const withoutCode = normalizeProviderError(openai(400, { error: { message: 'Invalid temperature' } }), ctx);
    expect(withoutCode.toEnvelope().error.code).toBe('invalid_request_error');
    // Gemini repeats the HTTP status as its code: nothing a client can act on.
    const rawBody = JSON.stringify([{ error: { code: 400, message: 'Bad', status: 'INVALID_ARGUMENT' } }]);
    const gemini = fromUpstreamHttpError({ status: 400, rawBody, cause: undefined }, ctx);
    expect(gemini.toEnvelope().error.code).toBe('invalid_request_error');
    const payment = normalizeProviderError(openai(402, { error: { message: 'No credit', code: 'no_credit' } }), ctx);
    expect(payment.toEnvelope().error.code).toBe('upstream_error');
  });

  it("gives the context overflows of Gemini, vLLM and llama.cpp, which carry no code, OpenAI's context_length_exceeded", () => {
    const codeOfBody = (rawBody: string) =>
      fromUpstreamHttpError({ status: 400, rawBody, cause: undefined }, ctx).toEnvelope().error.code;
    const gemini = [
      {
        error: {
          code: 400,
          message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
          status: 'INVALID_ARGUMENT',
        },
      },
    ];
    expect(codeOfBody(JSON.stringify(gemini))).toBe('context_length_exceeded');
    const vllm = {
      object: 'error',
      message:
        "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion).",
      type: 'BadRequestError',
      param: null,
      code: 400,
    };
    expect(codeOfBody(JSON.stringify(vllm))).toBe('context_length_exceeded');
    const llamaCpp = {
      error: {
        code: 400,
        message: 'the request exceeds the available context size, try increasing it',
        type: 'exceed_context_size_error',
      },
    };
    expect(codeOfBody(JSON.stringify(llamaCpp))).toBe('context_length_exceeded');
    // A provider's own code stands.
    const own = { error: { message: "This model's maximum context length is 10 tokens", code: 'tokens_too_many' } };
    expect(codeOfBody(JSON.stringify(own))).toBe('tokens_too_many');
    expect(codeOfBody(JSON.stringify({ error: { message: 'Invalid temperature' } }))).toBe('invalid_request_error');
  });

  it("gives Anthropic's prompt-too-long 400 OpenAI's context_length_exceeded code, and its other 400s the gateway's", () => {
    const codeOf = (message: string) =>
      normalizeAnthropicError(anthropic(400, anthropicBody('invalid_request_error', message)), ctx).toEnvelope().error
        .code;
    expect(codeOf('prompt is too long: 208656 tokens > 200000 maximum')).toBe('context_length_exceeded');
    expect(codeOf('input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000')).toBe(
      'context_length_exceeded',
    );
    expect(codeOf('messages: at least one message is required')).toBe('invalid_request_error');
  });

  it('keeps gateway errors as they are', () => {
    const original = new GatewayError('invalid_request_error', 'nope', { param: 'n' });
    expect(normalizeProviderError(original, ctx)).toBe(original);
  });
});
