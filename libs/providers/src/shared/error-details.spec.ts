import { describe, expect, it } from 'vitest';
import {
  describeUpstreamBody,
  parseRateLimitResetMs,
  parseRetryAfterMs,
  scrubJson,
  scrubSecrets,
} from './error-details';

const KEY = 'sk-test-1234567890abcdef';

describe('describeUpstreamBody', () => {
  it.each([
    [
      'openai',
      '{"error":{"message":"m","type":"t","code":"c","param":"p"}}',
      { json: true, message: 'm', type: 't', code: 'c', param: 'p' },
    ],
    ['string error (ollama)', '{"error":"model \\"x\\" not found"}', { json: true, message: 'model "x" not found' }],
    [
      'top-level (vLLM, Mistral)',
      '{"object":"error","message":"m","type":"BadRequestError","code":400}',
      { json: true, message: 'm', code: '400' },
    ],
    ['FastAPI detail', '{"detail":"Not Found"}', { json: true, message: 'Not Found' }],
    [
      'gemini array',
      '[{"error":{"code":400,"message":"m","status":"INVALID_ARGUMENT"}}]',
      { json: true, message: 'm' },
    ],
    [
      'anthropic',
      '{"type":"error","error":{"type":"not_found_error","message":"model: x"}}',
      { json: true, message: 'model: x', type: 'not_found_error' },
    ],
    ['html', '<html><body>502 Bad Gateway</body></html>', { json: false }],
    ['empty', '', { json: false }],
  ])('%s', (_name, raw, expected) => {
    expect(describeUpstreamBody(raw, undefined)).toMatchObject(expected);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each<[Record<string, string>, number | undefined]>([
    [{ 'retry-after': '3' }, 3000],
    [{ 'retry-after': '0.5' }, 500],
    [{ 'retry-after-ms': '250' }, 250],
    [{ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }, 10_000],
    [{ 'retry-after': 'soon' }, undefined],
    [{}, undefined],
    // Past a day (1e308 seconds overflowed to Infinity, sent on as `retry-after: Infinity`): a day.
    [{ 'retry-after': '1e308' }, 86_400_000],
    [{ 'retry-after-ms': '1e308' }, 86_400_000],
    [{ 'retry-after': 'Fri, 01 Jan 2100 00:00:00 GMT' }, 86_400_000],
    [{ 'retry-after': '-5' }, 0],
  ])('%j -> %s', (headers, expected) => {
    expect(parseRetryAfterMs(new Headers(headers), now)).toBe(expected);
  });
});

describe('parseRateLimitResetMs', () => {
  it.each<[Record<string, string>, number | undefined]>([
    [{ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s' }, 1000],
    [{ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20ms' }, 20],
    [{ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '6m0s' }, 360_000],
    [{ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1h2m3.5s' }, 3_723_500],
    [
      {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '2s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '500ms',
      },
      2000,
    ],
    // Only a spent limit says when to come back.
    [{ 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '1s' }, undefined],
    [{ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': 'soon' }, undefined],
    [{ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1s2' }, undefined],
    [{}, undefined],
  ])('%j -> %s', (headers, expected) => {
    expect(parseRateLimitResetMs(new Headers(headers))).toBe(expected);
  });
});

describe('scrubSecrets', () => {
  it.each([
    ['the configured key', `key ${KEY} leaked`, 'key [redacted] leaked'],
    [
      'masked OpenAI keys',
      'Incorrect API key provided: sk-proj-****************abcd.',
      'Incorrect API key provided: [redacted].',
    ],
    ['Google keys in URLs', 'GET /v1?key=AIzaSyA1234567890abcdefghij failed', 'GET /v1?key=[redacted] failed'],
    ['plain text', 'model not found', 'model not found'],
  ])('%s', (_name, input, expected) => {
    expect(scrubSecrets(input, [KEY])).toBe(expected);
  });
});

describe('scrubJson', () => {
  it('scrubs every text, keys too, even where JSON would escape the secret', () => {
    const quoted = 'se"cret\\key';
    const value = { a: [`x ${quoted}`, 1, true, null], [`k ${KEY}`]: { b: `Bearer ${KEY}` } };
    expect(scrubJson(value, [quoted, KEY])).toEqual({
      a: ['x [redacted]', 1, true, null],
      'k [redacted]': { b: 'Bearer [redacted]' },
    });
  });

  it('drops what is nested too deep', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20; i++) deep = { next: deep };
    const text = JSON.stringify(scrubJson(deep, []));
    // Eight levels of objects are kept, the last one empty.
    expect(text.split('next').length - 1).toBe(7);
    expect(text).not.toContain('bottom');
  });
});

describe('describeUpstreamBody: innererror', () => {
  it("keeps Azure's innererror object, and nothing else under that name", () => {
    const innererror = { code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: true } } };
    expect(describeUpstreamBody(JSON.stringify({ error: { message: 'm', innererror } }), undefined).innererror).toEqual(
      innererror,
    );
    expect(
      describeUpstreamBody(JSON.stringify({ error: { message: 'm', innererror: 'x' } }), undefined),
    ).not.toHaveProperty('innererror');
  });
});
