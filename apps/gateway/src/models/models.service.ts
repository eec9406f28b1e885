import { Injectable } from '@nestjs/common';
import { ModelAccess, type Principal } from '@app/auth';
import { type CatalogModel, ModelCatalog, ModelResolver, type ResolvedModel, RouteTable } from '@app/completions';
import { GatewayError } from '@app/contracts';
import type { ModelResponse } from './dto/model.dto';

export const ROUTE_OWNER = 'gateway-route';
export const AGENT_OWNER = 'gateway-agent';

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The models a key may use, in OpenAI's format: route aliases, agents (once
 * registered) and every provider model as `provider/model` (configured and
 * discovered), or by its bare name when the key may use only that. Each id is
 * listed when a request naming it would be admitted, as admission decides: it
 * resolves, to the targets it reaches now (enabled providers), and the key may
 * use the name or all of them. Served from memory.
 */
@Injectable()
export class ModelsService {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly routes: RouteTable,
    private readonly resolver: ModelResolver,
    private readonly access: ModelAccess,
  ) {}

  list(principal: Principal): ModelResponse[] {
    return [...this.aliases(principal), ...this.agents(principal), ...this.providerModels(principal)];
  }

  /**
   * One model by id: anything the list holds, or a bare model one provider serves.
   * @throws GatewayError 404 model_not_found
   */
  get(id: string, principal: Principal): ModelResponse {
    const listed = this.list(principal).find((model) => model.id === id);
    if (listed) return listed;
    const entry = this.modelBehind(id, principal);
    if (entry) return { id, object: 'model', created: entry.created, owned_by: entry.ownedBy };
    throw new GatewayError('model_not_found', `The model ${JSON.stringify(id)} does not exist.`, { param: 'model' });
  }

  /** What a request naming `name` resolves to, when the key may use it (else `undefined`). */
  private usable(principal: Principal, name: string): ResolvedModel | undefined {
    let resolved: ResolvedModel;
    try {
      resolved = this.resolver.resolve(name);
    } catch {
      return undefined;
    }
    const targets = resolved.targets.map((t) => `${t.provider}/${t.model}`);
    return this.access.isAllowedVia(principal, name, targets) ? resolved : undefined;
  }

  /** The provider model `name` reaches directly (not a route or an agent), when the key may use it by that name. */
  private modelBehind(name: string, principal: Principal): CatalogModel | undefined {
    const target = this.directTarget(name, principal);
    return target ? this.catalog.find(target) : undefined;
  }

  /** The `provider/model` that `name` reaches directly (not a route or an agent), when the key may use it by that name. */
  private directTarget(name: string, principal: Principal): string | undefined {
    const resolved = this.usable(principal, name);
    if (!resolved || resolved.agent || resolved.alias !== null) return undefined;
    const [target] = resolved.targets;
    return target ? `${target.provider}/${target.model}` : undefined;
  }

  private aliases(principal: Principal): ModelResponse[] {
    return this.routes
      .list()
      .filter((route) => {
        // Listed when it resolves as this route (enabled, with an enabled provider) for this key.
        const resolved = this.usable(principal, route.alias);
        return resolved !== undefined && !resolved.agent && resolved.alias === route.alias;
      })
      .sort((a, b) => a.alias.localeCompare(b.alias))
      .map((route) => ({ id: route.alias, object: 'model', created: seconds(route.createdAt), owned_by: ROUTE_OWNER }));
  }

  private agents(principal: Principal): ModelResponse[] {
    const agents = this.resolver.agentLookup?.list?.() ?? [];
    return agents
      .filter((agent) => this.access.isAllowed(principal, agent.id))
      .map((agent) => ({
        id: agent.id,
        object: 'model',
        created: typeof agent.created === 'number' ? agent.created : 0,
        owned_by: AGENT_OWNER,
      }));
  }

  /**
   * Each provider model as `provider/model` when the key may use that name, or
   * else by its bare name, when that reaches it (only its provider serves it) and
   * the key may use the bare name.
   */
  private providerModels(principal: Principal): ModelResponse[] {
    const models: ModelResponse[] = [];
    for (const m of this.catalog.list()) {
      const id =
        this.directTarget(m.id, principal) === m.id
          ? m.id
          : this.directTarget(m.model, principal) === m.id
            ? m.model
            : null;
      if (id !== null) models.push({ id, object: 'model', created: m.created, owned_by: m.ownedBy });
    }
    return models;
  }
}
