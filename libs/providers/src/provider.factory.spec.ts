import { GatewayError } from '@app/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { AnthropicAdapter } from './anthropic/anthropic.adapter';
import { MockAdapter } from './mock/mock.adapter';
import { OpenAICompatibleAdapter } from './openai/openai-compatible.adapter';
import type { ProviderAdapter, ProviderCapabilities, ProviderConfig } from './provider.interface';
import { createProviderAdapter } from './provider.factory';

type AdapterClass = abstract new (...args: never[]) => ProviderAdapter;

const created: ProviderAdapter[] = [];
const make = (config: ProviderConfig): ProviderAdapter => {
  const adapter = createProviderAdapter(config);
  created.push(adapter);
  return adapter;
};
afterEach(async () => {
  await Promise.all(created.splice(0).map((adapter) => adapter.close()));
});

const caps = (
  tools: boolean,
  jsonSchema: boolean,
  embeddings: boolean,
  legacyCompletions: boolean,
): ProviderCapabilities => ({
  tools,
  jsonSchema,
  embeddings,
  legacyCompletions,
});

describe('createProviderAdapter', () => {
  it.each<[string, Partial<ProviderConfig>, AdapterClass, ProviderCapabilities]>([
    ['openai', { kind: 'openai', apiKey: 'k' }, OpenAICompatibleAdapter, caps(true, true, true, true)],
    [
      'azure-openai',
      { kind: 'azure-openai', apiKey: 'k', baseUrl: 'https://r.openai.azure.com' },
      OpenAICompatibleAdapter,
      caps(true, true, true, true),
    ],
    ['gemini', { kind: 'gemini', apiKey: 'k' }, OpenAICompatibleAdapter, caps(true, true, true, false)],
    ['anthropic', { kind: 'anthropic', apiKey: 'k' }, AnthropicAdapter, caps(true, true, false, false)],
    ['mock', { kind: 'mock' }, MockAdapter, caps(true, true, true, true)],
    ['ollama', { kind: 'ollama' }, OpenAICompatibleAdapter, caps(true, true, true, true)],
    [
      'ollama without native tools',
      { kind: 'ollama', options: { nativeTools: false } },
      OpenAICompatibleAdapter,
      caps(false, true, true, true),
    ],
    [
      'openai-compatible',
      { kind: 'openai-compatible', baseUrl: 'http://vllm:8000/v1' },
      OpenAICompatibleAdapter,
      caps(true, true, true, true),
    ],
    [
      'openai-compatible without native tools or schemas',
      { kind: 'openai-compatible', baseUrl: 'http://x/v1', options: { nativeTools: false, nativeJsonSchema: false } },
      OpenAICompatibleAdapter,
      caps(false, false, true, true),
    ],
  ])('%s', (_name, config, type, capabilities) => {
    const adapter = make({ name: 'p', kind: 'mock', ...config });
    expect(adapter).toBeInstanceOf(type);
    expect(adapter.kind).toBe(config.kind);
    expect(adapter.name).toBe('p');
    expect(adapter.capabilities).toEqual(capabilities);
    expect(typeof adapter.embed === 'function').toBe(capabilities.embeddings);
  });

  it.each<[string, Partial<ProviderConfig>, string]>([
    ['openai-compatible without baseUrl', { kind: 'openai-compatible' }, 'baseUrl'],
    ['azure without baseUrl', { kind: 'azure-openai', apiKey: 'k' }, 'baseUrl'],
    ['azure without apiKey', { kind: 'azure-openai', baseUrl: 'https://r.openai.azure.com' }, 'apiKey'],
    ['openai without apiKey', { kind: 'openai' }, 'apiKey'],
    ['anthropic without apiKey', { kind: 'anthropic' }, 'apiKey'],
    ['gemini without apiKey', { kind: 'gemini' }, 'apiKey'],
  ])('refuses %s, naming the setting', (_name, config, param) => {
    expect(() => make({ name: 'p', kind: 'mock', ...config })).toThrow(GatewayError);
    try {
      make({ name: 'p', kind: 'mock', ...config });
    } catch (err) {
      expect(err).toMatchObject({ code: 'invalid_request_error', param });
    }
  });

  it.each<[string, Partial<ProviderConfig>]>([
    ['openai behind another base URL (a proxy may hold the key)', { kind: 'openai', baseUrl: 'http://proxy:8080/v1' }],
    [
      'anthropic with its key in a configured header',
      { kind: 'anthropic', options: { headers: { 'x-api-key': 'k' } } },
    ],
    ['ollama, which needs no key', { kind: 'ollama' }],
  ])('builds %s without apiKey', (_name, config) => {
    expect(make({ name: 'p', kind: 'mock', ...config }).kind).toBe(config.kind);
  });

  it('azure lists its configured deployments without a network call', async () => {
    const adapter = make({
      name: 'az',
      kind: 'azure-openai',
      apiKey: 'k',
      baseUrl: 'https://r.openai.azure.com',
      models: ['gpt-4o'],
      options: { deployments: { 'gpt-4o': 'prod', 'gpt-4o-mini': 'mini' } },
    });
    const models = await adapter.listModels({ signal: new AbortController().signal, requestId: 'r' });
    expect(models.map((m) => m.id)).toEqual(['gpt-4o', 'gpt-4o-mini']);
  });
});
