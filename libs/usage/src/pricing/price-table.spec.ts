import { describe, expect, it } from 'vitest';
import { type Price, PriceTable, costOf, modelCandidates } from './price-table';

const price = (
  provider: string,
  model: string,
  input: number,
  output: number,
  cached: number | null = null,
): Price => ({
  provider,
  model,
  inputPerMTok: input,
  outputPerMTok: output,
  cachedInputPerMTok: cached,
});

const table = new PriceTable([
  price('openai', 'gpt-4o', 2.5, 10, 1.25),
  price('openai', 'gpt-4o-mini', 0.15, 0.6, 0.075),
  price('anthropic', 'claude-3-5-haiku', 0.8, 4, 0.08),
  price('gemini', 'gemini-2.5-flash', 0.3, 2.5, 0.03),
  price('openai', '*', 1, 2),
  price('ollama', '*', 0, 0),
  price('*', 'llama-3.1-70b', 0.6, 0.6),
  price('groq', 'llama-3.1-70b', 0.59, 0.79),
]);

describe('modelCandidates', () => {
  it.each([
    ['gpt-4o', ['gpt-4o']],
    ['gpt-4o-2024-08-06', ['gpt-4o-2024-08-06', 'gpt-4o']],
    ['claude-3-5-haiku-20241022', ['claude-3-5-haiku-20241022', 'claude-3-5-haiku']],
    ['claude-3-5-haiku-latest', ['claude-3-5-haiku-latest', 'claude-3-5-haiku']],
    ['models/gemini-2.5-flash', ['models/gemini-2.5-flash', 'gemini-2.5-flash']],
    ['openai/gpt-4o-mini', ['openai/gpt-4o-mini', 'gpt-4o-mini']],
  ])('%s -> %j', (model, expected) => {
    expect(modelCandidates(model)).toEqual(expected);
  });
});

describe('PriceTable.resolve', () => {
  it.each([
    ['exact provider and model', 'openai', 'gpt-4o', undefined, 'openai/gpt-4o'],
    ['a dated release priced as its family', 'openai', 'gpt-4o-mini-2024-07-18', undefined, 'openai/gpt-4o-mini'],
    ['an Anthropic -latest alias', 'anthropic', 'claude-3-5-haiku-latest', undefined, 'anthropic/claude-3-5-haiku'],
    ['a Gemini models/ id', 'gemini', 'models/gemini-2.5-flash', undefined, 'gemini/gemini-2.5-flash'],
    ['the provider default for an unknown model', 'openai', 'gpt-9', undefined, 'openai/*'],
    ['a provider named differently, by its kind', 'openai-eu', 'gpt-4o', 'openai', 'openai/gpt-4o'],
    ['the kind default', 'openai-eu', 'gpt-9', 'openai', 'openai/*'],
    ['local models at zero', 'ollama', 'llama3:8b', undefined, 'ollama/*'],
    ['a local provider named differently, by its kind', 'my-ollama', 'qwen2', 'ollama', 'ollama/*'],
    [
      'the provider entry before the any-provider one',
      'groq',
      'llama-3.1-70b',
      'openai-compatible',
      'groq/llama-3.1-70b',
    ],
    ['any provider for the model', 'together', 'llama-3.1-70b', 'openai-compatible', '*/llama-3.1-70b'],
    // Azure's list prices are OpenAI's: without entries of its own, an Azure model is priced as OpenAI's.
    ['an Azure model at OpenAI’s price', 'az', 'gpt-4o-2024-08-06', 'azure-openai', 'openai/gpt-4o'],
    ['an unknown Azure model at OpenAI’s default', 'az', 'my-deployment', 'azure-openai', 'openai/*'],
  ])('%s', (_name, provider, model, kind, expected) => {
    const hit = table.resolve(provider, model, kind);
    expect(hit && `${hit.provider}/${hit.model}`).toBe(expected);
  });

  it('finds nothing for an unknown provider and model, and uses */* when there is one', () => {
    expect(table.resolve('acme', 'unknown-model')).toBeUndefined();
    const withDefault = new PriceTable([price('*', '*', 1, 1)]);
    expect(withDefault.resolve('acme', 'unknown-model')?.provider).toBe('*');
  });
});

describe('costOf', () => {
  it.each([
    [
      'input and output',
      price('p', 'm', 2.5, 10),
      { promptTokens: 1000, completionTokens: 500, cachedTokens: 0 },
      0.0075,
    ],
    [
      'cached input at its own price',
      price('p', 'm', 2.5, 10, 1.25),
      { promptTokens: 1000, completionTokens: 0, cachedTokens: 400 },
      0.002,
    ],
    [
      'cached input at the input price when it has none',
      price('p', 'm', 2, 0),
      { promptTokens: 1000, completionTokens: 0, cachedTokens: 400 },
      0.002,
    ],
    [
      'cached tokens never above prompt tokens',
      price('p', 'm', 1, 0, 0),
      { promptTokens: 100, completionTokens: 0, cachedTokens: 500 },
      0,
    ],
    [
      'a free model',
      price('ollama', '*', 0, 0),
      { promptTokens: 10_000, completionTokens: 10_000, cachedTokens: 0 },
      0,
    ],
    [
      'one token of a cheap model, rounded to 8 decimals',
      price('p', 'm', 0.02, 0),
      { promptTokens: 1, completionTokens: 0, cachedTokens: 0 },
      0.00000002,
    ],
    ['negative counts as zero', price('p', 'm', 1, 1), { promptTokens: -5, completionTokens: -5, cachedTokens: -5 }, 0],
  ])('%s', (_name, p, usage, expected) => {
    expect(costOf(p, usage)).toBeCloseTo(expected, 10);
  });
});
