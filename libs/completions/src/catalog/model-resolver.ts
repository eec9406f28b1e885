import { Injectable } from '@nestjs/common';
import { GatewayError, withFields } from '@app/contracts';
import type { RouteRecord } from '@app/db';
import type { RoutePlan, RouteTarget } from '@app/providers';
import type { AgentLookup, AgentMatch, RegisteredProvider, ResolvedModel } from './catalog.types';
import { ModelCatalog } from './model-catalog';
import { ProviderRegistry } from './provider-registry';
import { RouteTable } from './route-table';

/** What resolution reads; all synchronous, from memory. */
export interface ResolutionSources {
  agent(idOrName: string): AgentMatch | undefined;
  route(alias: string): RouteRecord | undefined;
  provider(name: string): Pick<RegisteredProvider, 'name' | 'enabled' | 'timeoutMs'> | undefined;
  /** Enabled providers listing this provider-local model id. */
  providersServing(model: string): string[];
}

type ProviderView = NonNullable<ReturnType<ResolutionSources['provider']>>;

/**
 * Resolves a request's `model` in DESIGN.md's order: agent id or name -> route
 * alias -> `provider/model` (provider = a configured, enabled provider; the model
 * part may contain `/`) -> a bare model served by exactly one provider.
 *
 * @throws GatewayError 400 `invalid_request_error` (empty, or a bare model several providers serve),
 *   404 `model_not_found`, 503 `no_provider_available` (a route whose providers are all disabled)
 */
export function resolveModel(model: string, sources: ResolutionSources): ResolvedModel {
  if (model.length === 0) throw new GatewayError('invalid_request_error', 'model is required.', { param: 'model' });
  const agent = sources.agent(model);
  if (!agent) return withFields(resolveTarget(model, sources), { agent: null });
  try {
    // An agent runs on a route, a provider model or a bare model, never on another agent.
    return withFields(resolveTarget(agent.model, sources), { requested: model, agent });
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    throw new GatewayError(error.code, `Agent "${model}" runs on model "${agent.model}": ${error.message}`, {
      param: 'model',
    });
  }
}

function resolveTarget(model: string, sources: ResolutionSources): RoutePlan {
  const route = sources.route(model);
  if (route?.enabled) return fromRoute(model, route, sources);

  const slash = model.indexOf('/');
  const prefix = slash > 0 ? sources.provider(model.slice(0, slash)) : undefined;
  if (prefix?.enabled && slash < model.length - 1) return direct(model, prefix, model.slice(slash + 1));

  const serving = sources.providersServing(model);
  if (serving.length > 1) {
    // DESIGN.md: a bare name resolves only when exactly one provider serves it, otherwise 404.
    throw new GatewayError(
      'model_not_found',
      `The model "${model}" is served by several providers (${serving.join(', ')}); name one, e.g. "${serving[0]}/${model}".`,
      { param: 'model' },
    );
  }
  const only = serving.length === 1 ? sources.provider(serving[0]) : undefined;
  if (only?.enabled) return direct(model, only, model);

  const hint = prefix && !prefix.enabled ? ` The provider "${prefix.name}" is disabled.` : '';
  throw new GatewayError(
    'model_not_found',
    `The model "${model}" does not exist: it is not a route, a provider/model of a configured provider, or a model one provider serves.${hint}`,
    { param: 'model' },
  );
}

function direct(requested: string, provider: ProviderView, model: string): RoutePlan {
  const target: RouteTarget = { provider: provider.name, model, weight: 1 };
  if (provider.timeoutMs !== undefined) target.timeoutMs = provider.timeoutMs;
  return { requested, alias: null, strategy: 'fallback', targets: [target] };
}

function fromRoute(requested: string, route: RouteRecord, sources: ResolutionSources): RoutePlan {
  const targets: RouteTarget[] = [];
  for (const t of route.targets) {
    const provider = sources.provider(t.provider);
    if (!provider?.enabled) continue;
    const target: RouteTarget = { provider: t.provider, model: t.model, weight: t.weight };
    const timeoutMs = t.timeoutMs ?? route.timeoutMs ?? provider.timeoutMs;
    if (timeoutMs !== null && timeoutMs !== undefined) target.timeoutMs = timeoutMs;
    targets.push(target);
  }
  if (targets.length === 0) {
    const names = [...new Set(route.targets.map((t) => t.provider))].join(', ');
    throw new GatewayError(
      'no_provider_available',
      `The route "${route.alias}" has no enabled provider (its targets use: ${names || 'none'}).`,
      { param: 'model' },
    );
  }
  return { requested, alias: route.alias, strategy: route.strategy, targets };
}

/** {@link resolveModel} over this process's registry, routes, catalog and (once registered) agents. */
@Injectable()
export class ModelResolver {
  private agents: AgentLookup | null = null;
  private readonly sources: ResolutionSources;

  constructor(registry: ProviderRegistry, routes: RouteTable, catalog: ModelCatalog) {
    this.sources = {
      agent: (idOrName) => this.agents?.find(idOrName),
      route: (alias) => routes.get(alias),
      provider: (name) => registry.get(name),
      providersServing: (model) => catalog.providersServing(model),
    };
  }

  /** Lets agents take part in resolution (first in order); `null` removes the hook. */
  registerAgentLookup(lookup: AgentLookup | null): void {
    this.agents = lookup;
  }

  /** The registered agent lookup, if any (for listings). */
  get agentLookup(): AgentLookup | null {
    return this.agents;
  }

  /** See {@link resolveModel}. Synchronous and allocation-light: it runs on every request. */
  resolve(model: string): ResolvedModel {
    return resolveModel(model, this.sources);
  }
}
