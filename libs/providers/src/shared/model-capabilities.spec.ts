import { describe, expect, it } from 'vitest';
import type { ProviderCapabilities } from '../provider.interface';
import { capabilitiesByModel } from './model-capabilities';

const base: ProviderCapabilities = { tools: true, jsonSchema: true, embeddings: true, legacyCompletions: true };

describe('capabilitiesByModel', () => {
  it("gives every model the provider's own capabilities when there is no override", () => {
    expect(capabilitiesByModel(base, undefined)('llama3')).toBe(base);
    expect(capabilitiesByModel(base, {})('llama3')).toBe(base);
  });

  const of = capabilitiesByModel(base, {
    'tiny-*': { nativeTools: false },
    'tiny-json': { nativeJsonSchema: false },
    'tiny-j*': { nativeTools: true },
    '*': { nativeJsonSchema: true },
    'qwen2.5:*b': { nativeTools: false, nativeJsonSchema: false },
  });
  it.each<[string, boolean, boolean]>([
    ['big-70b', true, true],
    ['tiny-1b', false, true],
    // Its own name sets the schema flag; for tools the longer glob wins over `tiny-*`.
    ['tiny-json', true, false],
    ['tiny-jx', true, true],
    // `.` is a character, not any character; `*` spans `:` and `/`.
    ['qwen2.5:7b', false, false],
    ['qwen2x5:7b', true, true],
    ['qwen2.5:org/7b', false, false],
  ])('%s: tools %s, json schema %s', (model, tools, jsonSchema) => {
    expect(of(model)).toMatchObject({ tools, jsonSchema, embeddings: true, legacyCompletions: true });
    expect(of(model)).toBe(of(model));
  });

  it('lets a model get back what its provider lacks', () => {
    const lacking = { ...base, tools: false };
    expect(capabilitiesByModel(lacking, { 'gpt-*': { nativeTools: true } })('gpt-4o').tools).toBe(true);
    expect(capabilitiesByModel(lacking, { 'gpt-*': { nativeTools: true } })('llama3').tools).toBe(false);
  });
});
