import { describe, expect, it } from 'vitest';
import { budgetWindow } from '../limits/budget-period';
import { retryAfterMs } from '../limits/rate-window';
import { displayPrefix, generateApiKey, hashApiKey, isWellFormedApiKey } from './api-key-format';
import { presentedApiKey } from './api-key.guard';
import { ModelAccess, NO_MODELS } from './model-access';

describe('API key format', () => {
  it('generates sk- + 43 base62 characters, distinct every time, stored as SHA-256 hex', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.plaintext)).size).toBe(200);
    for (const key of keys) {
      expect(key.plaintext).toMatch(/^sk-[0-9A-Za-z]{43}$/);
      expect(isWellFormedApiKey(key.plaintext)).toBe(true);
      expect(key.hash).toBe(hashApiKey(key.plaintext));
      expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(key.prefix).toBe(displayPrefix(key.plaintext));
      expect(key.prefix).toHaveLength(12);
    }
  });

  it.each([
    '',
    'sk-',
    'sk-short',
    `sk-${'a'.repeat(42)}`,
    `sk-${'a'.repeat(44)}`,
    `pk-${'a'.repeat(43)}`,
    `sk-${'a'.repeat(42)}!`,
    "sk-' OR 1=1 --",
  ])('rejects %j as malformed', (value) => expect(isWellFormedApiKey(value)).toBe(false));
});

describe('presentedApiKey', () => {
  it.each([
    [{ authorization: 'Bearer sk-abc' }, 'sk-abc'],
    [{ authorization: 'bearer   sk-abc  ' }, 'sk-abc'],
    [{ authorization: 'Basic abc' }, ''],
    [{ 'x-api-key': ' sk-abc ' }, 'sk-abc'],
    [{ authorization: 'Bearer sk-a', 'x-api-key': 'sk-b' }, 'sk-a'],
    // Another scheme names no key: x-api-key may.
    [{ authorization: 'Basic abc', 'x-api-key': 'sk-b' }, 'sk-b'],
    [{ authorization: 'Bearersk-a', 'x-api-key': 'sk-b' }, 'sk-b'],
    [{ authorization: 'Bearer ', 'x-api-key': 'sk-b' }, 'sk-b'],
    [{ authorization: 'Bearer   ' }, ''],
    [{}, undefined],
  ])('%j -> %j', (headers, expected) => expect(presentedApiKey(headers)).toBe(expected));
});

describe('ModelAccess', () => {
  it.each([
    [[], 'anything', true],
    [['*'], 'openai/gpt-4o', true],
    [['openai/*'], 'openai/gpt-4o', true],
    [['openai/*'], 'openai/', false],
    [['openai/*'], 'openaiX/gpt-4o', false],
    [['openai/*'], 'anthropic/claude', false],
    [['gpt-4o-mini'], 'gpt-4o-mini', true],
    [['gpt-4o-mini'], 'gpt-4o', false],
    [['fast', 'ollama/*'], 'fast', true],
    [[NO_MODELS], 'openai/gpt-4o', false],
  ])('%j allows %s: %s', (allowedModels, model, allowed) => {
    expect(ModelAccess.isAllowed({ allowedModels }, model)).toBe(allowed);
  });

  it.each([
    [[], [], []],
    [['openai/*'], [], ['openai/*']],
    [[], ['openai/*'], ['openai/*']],
    [['openai/gpt-4o', 'anthropic/*'], ['openai/*', 'fast'], ['openai/gpt-4o']],
    [['openai/*'], ['openai/gpt-4o', 'openai/gpt-4o-mini'], ['openai/gpt-4o', 'openai/gpt-4o-mini']],
    [['*'], ['fast'], ['fast']],
    [['anthropic/*'], ['openai/*'], [NO_MODELS]],
  ])('intersects key %j with team %j into %j', (key, team, expected) => {
    expect(ModelAccess.intersect(key, team)).toEqual(expected);
  });

  it('checks a key and its team list by list: a route alias or bare name passes a list that allows every model it reaches', () => {
    // The key names an alias (or a bare name) whose targets its team allows by provider.
    const principal = {
      allowedModels: ModelAccess.intersect(['fast'], ['openai/*']),
      modelLists: [['fast'], ['openai/*']],
    };
    expect(principal.allowedModels).toEqual([NO_MODELS]);
    expect(ModelAccess.isAllowedVia(principal, 'fast', ['openai/gpt-4o-mini'])).toBe(true);
    expect(ModelAccess.isAllowedVia(principal, 'fast', ['openai/gpt-4o-mini', 'anthropic/claude'])).toBe(false);
    expect(ModelAccess.isAllowedVia(principal, 'fast', [])).toBe(false);
    expect(ModelAccess.isAllowedVia(principal, 'other', ['openai/gpt-4o-mini'])).toBe(false);
    expect(ModelAccess.isAllowedAs(principal, ['fast', 'openai/fast'])).toBe(true);
    expect(ModelAccess.isAllowedAs(principal, ['fast', 'anthropic/fast'])).toBe(false);
    expect(ModelAccess.isAllowed(principal, 'fast')).toBe(false);
    // Without lists of its own, a principal is checked against allowedModels.
    expect(ModelAccess.isAllowedVia({ allowedModels: ['openai/*'] }, 'fast', ['openai/gpt-4o'])).toBe(true);
    expect(ModelAccess.isAllowedVia({ allowedModels: [] }, 'anything', [])).toBe(true);
  });

  it('throws 403 model_not_allowed naming the model', () => {
    expect(() =>
      ModelAccess.assertAllowed({ allowedModels: ['openai/*'], label: 'sk-x…' }, 'anthropic/claude'),
    ).toThrow(expect.objectContaining({ code: 'model_not_allowed', status: 403, param: 'model' }));
    expect(() =>
      new ModelAccess().assertAllowed({ allowedModels: ['openai/*'], label: 'sk-x…' }, 'openai/o3'),
    ).not.toThrow();
  });
});

describe('budgetWindow', () => {
  const now = new Date('2026-02-28T17:30:00Z');
  it.each([
    ['daily', '2026-02-28T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ['monthly', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ['total', '1970-01-01T00:00:00.000Z', null],
  ] as const)('%s: from %s, resets at %s', (period, start, resetsAt) => {
    const window = budgetWindow(period, now);
    expect(window.start.toISOString()).toBe(start);
    expect(window.resetsAt?.toISOString() ?? null).toBe(resetsAt);
  });

  it('rolls December over into January', () => {
    expect(budgetWindow('monthly', new Date('2026-12-31T23:59:59Z')).resetsAt?.toISOString()).toBe(
      '2027-01-01T00:00:00.000Z',
    );
  });
});

describe('retryAfterMs', () => {
  it('waits until the oldest buckets holding what is needed leave the 60 s window', () => {
    const now = 100_500; // bucket 100
    expect(
      retryAfterMs(
        [
          [95, 2],
          [90, 1],
          [99, 5],
        ],
        1,
        now,
      ),
    ).toBe((90 + 60) * 1000 - now);
    expect(
      retryAfterMs(
        [
          [95, 2],
          [90, 1],
          [99, 5],
        ],
        3,
        now,
      ),
    ).toBe((95 + 60) * 1000 - now);
    expect(retryAfterMs([[95, 2]], 10, now)).toBe(60_000);
  });
});
