import { describe, expect, it } from 'vitest';
import { GatewayError } from '@app/contracts';
import type { RouteRecord } from '@app/db';
import type { AgentMatch } from './catalog.types';
import { type ResolutionSources, resolveModel } from './model-resolver';

interface World {
  providers: Array<{ name: string; enabled?: boolean; timeoutMs?: number; models?: string[] }>;
  routes?: Array<Partial<RouteRecord> & Pick<RouteRecord, 'alias' | 'targets'>>;
  agents?: AgentMatch[];
}

/** In-memory sources, as the registry, route table, catalog and agents would give them. */
function sources(world: World): ResolutionSources {
  const providers = new Map(world.providers.map((p) => [p.name, { enabled: true, ...p }]));
  const routes = new Map(
    (world.routes ?? []).map((r): [string, RouteRecord] => [
      r.alias,
      {
        id: r.alias,
        strategy: 'fallback',
        description: null,
        enabled: true,
        timeoutMs: null,
        createdAt: new Date(0),
        updatedAt: new Date(0),
        ...r,
      },
    ]),
  );
  return {
    agent: (idOrName) => world.agents?.find((a) => a.id === idOrName || a.name === idOrName),
    route: (alias) => routes.get(alias),
    provider: (name) => providers.get(name),
    providersServing: (model) =>
      [...providers.values()].filter((p) => p.enabled && p.models?.includes(model)).map((p) => p.name),
  };
}

const target = (provider: string, model: string, weight = 1, timeoutMs: number | null = null) => ({
  provider,
  model,
  weight,
  timeoutMs,
});

const world: World = {
  providers: [
    { name: 'openai', models: ['gpt-4o', 'gpt-4o-mini', 'shared'] },
    { name: 'anthropic', timeoutMs: 30_000, models: ['claude-3-5-haiku-latest', 'shared'] },
    { name: 'ollama', models: ['llama3:8b'] },
    { name: 'openrouter', models: ['meta-llama/llama-3'] },
    { name: 'off', enabled: false, models: ['only-on-off'] },
  ],
  routes: [
    {
      alias: 'fast',
      strategy: 'least-latency',
      timeoutMs: 5_000,
      targets: [
        target('openai', 'gpt-4o-mini', 2, 1_000),
        target('anthropic', 'claude-3-5-haiku-latest'),
        target('off', 'x'),
      ],
    },
    { alias: 'gpt-4o', strategy: 'round-robin', targets: [target('ollama', 'llama3:8b')] },
    { alias: 'dead', targets: [target('off', 'x'), target('gone', 'y')] },
    { alias: 'paused', enabled: false, targets: [target('openai', 'gpt-4o')] },
  ],
  agents: [
    { id: 'agent-1', name: 'helper', model: 'fast' },
    { id: 'agent-2', name: 'direct', model: 'anthropic/claude-3-5-haiku-latest' },
    { id: 'agent-3', name: 'broken', model: 'nope' },
    // An agent named like a route wins: agents come first.
    { id: 'agent-4', name: 'ollama/llama3:8b', model: 'openai/gpt-4o' },
  ],
};

describe('resolveModel', () => {
  const s = sources(world);

  it.each([
    [
      'an agent by id, on a route',
      'agent-1',
      {
        alias: 'fast',
        strategy: 'least-latency',
        targets: [
          { provider: 'openai', model: 'gpt-4o-mini', weight: 2, timeoutMs: 1_000 },
          { provider: 'anthropic', model: 'claude-3-5-haiku-latest', weight: 1, timeoutMs: 5_000 },
        ],
      },
    ],
    [
      'an agent by name, on a provider model',
      'direct',
      {
        alias: null,
        strategy: 'fallback',
        targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest', weight: 1, timeoutMs: 30_000 }],
      },
    ],
    [
      'an agent before a provider/model of the same spelling',
      'ollama/llama3:8b',
      { alias: null, targets: [{ provider: 'openai', model: 'gpt-4o', weight: 1 }] },
    ],
    [
      'a route alias, without its disabled target, timeouts from target then route',
      'fast',
      {
        alias: 'fast',
        strategy: 'least-latency',
        targets: [
          { provider: 'openai', model: 'gpt-4o-mini', weight: 2, timeoutMs: 1_000 },
          { provider: 'anthropic', model: 'claude-3-5-haiku-latest', weight: 1, timeoutMs: 5_000 },
        ],
      },
    ],
    [
      'a route alias before a bare model of the same name',
      'gpt-4o',
      { alias: 'gpt-4o', strategy: 'round-robin', targets: [{ provider: 'ollama', model: 'llama3:8b', weight: 1 }] },
    ],
    [
      'provider/model',
      'openai/gpt-4o',
      { alias: null, strategy: 'fallback', targets: [{ provider: 'openai', model: 'gpt-4o', weight: 1 }] },
    ],
    [
      'provider/model of a model discovery does not list (passed through)',
      'openai/gpt-5-preview',
      { targets: [{ provider: 'openai', model: 'gpt-5-preview', weight: 1 }] },
    ],
    [
      'provider/model whose model contains "/"',
      'openrouter/meta-llama/llama-3',
      { targets: [{ provider: 'openrouter', model: 'meta-llama/llama-3', weight: 1 }] },
    ],
    [
      'provider/model with the provider timeout',
      'anthropic/claude-3-5-haiku-latest',
      { targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest', weight: 1, timeoutMs: 30_000 }] },
    ],
    [
      'a bare model served by one provider',
      'llama3:8b',
      { alias: null, strategy: 'fallback', targets: [{ provider: 'ollama', model: 'llama3:8b', weight: 1 }] },
    ],
    [
      'a bare model containing "/" that is not a provider prefix',
      'meta-llama/llama-3',
      { targets: [{ provider: 'openrouter', model: 'meta-llama/llama-3', weight: 1 }] },
    ],
    [
      'a bare model also listed by a disabled provider',
      'gpt-4o-mini',
      { targets: [{ provider: 'openai', model: 'gpt-4o-mini', weight: 1 }] },
    ],
  ])('resolves %s', (_case, model, expected) => {
    const plan = resolveModel(model, s);
    expect(plan).toMatchObject({ requested: model, ...expected });
    expect(plan.targets).toEqual(expected.targets);
  });

  it('passes the agent through', () => {
    expect(resolveModel('helper', s).agent).toMatchObject({ id: 'agent-1' });
    expect(resolveModel('fast', s).agent).toBeNull();
  });

  it.each([
    ['an empty model', '', 400, 'invalid_request_error', /model is required/],
    [
      'a bare model several providers serve',
      'shared',
      404,
      'model_not_found',
      /several providers \(openai, anthropic\).*"openai\/shared"/,
    ],
    ['an unknown bare model', 'nope', 404, 'model_not_found', /"nope" does not exist/],
    ['an unknown provider prefix', 'mistral/large', 404, 'model_not_found', /"mistral\/large" does not exist/],
    ['a disabled provider', 'off/only-on-off', 404, 'model_not_found', /provider "off" is disabled/],
    ['a model only a disabled provider serves', 'only-on-off', 404, 'model_not_found', /does not exist/],
    ['a provider with no model', 'openai/', 404, 'model_not_found', /does not exist/],
    ['a disabled route', 'paused', 404, 'model_not_found', /"paused" does not exist/],
    [
      'a route whose providers are all disabled or gone',
      'dead',
      503,
      'no_provider_available',
      /route "dead" has no enabled provider \(its targets use: off, gone\)/,
    ],
    [
      'an agent on an unknown model',
      'broken',
      404,
      'model_not_found',
      /Agent "broken" runs on model "nope": The model "nope" does not exist/,
    ],
  ])('rejects %s', (_case, model, status, code, message) => {
    let error: unknown;
    try {
      resolveModel(model, s);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status, code, param: 'model' });
    expect((error as Error).message).toMatch(message);
  });

  it('resolves a large catalog quickly (it runs on every request)', () => {
    const big = sources({
      providers: Array.from({ length: 50 }, (_, i) => ({ name: `p${i}`, models: [`m${i}`] })),
      routes: Array.from({ length: 500 }, (_, i) => ({ alias: `r${i}`, targets: [target(`p${i % 50}`, 'x')] })),
    });
    const started = performance.now();
    for (let i = 0; i < 10_000; i++) {
      resolveModel(`r${i % 500}`, big);
      resolveModel(`p${i % 50}/x`, big);
      resolveModel(`m${i % 50}`, big);
    }
    // 30,000 resolutions; generous bound for slow CI machines.
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
