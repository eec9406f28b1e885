import { Injectable } from '@nestjs/common';
import { ModelAccess, type Principal } from '@app/auth';
import { ModelCatalog, ModelResolver, RouteTable } from '@app/completions';
import { GatewayError } from '@app/contracts';
import type { ModelResponse } from './dto/model.dto';

export const ROUTE_OWNER = 'gateway-route';
export const AGENT_OWNER = 'gateway-agent';

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The models a key may use, in OpenAI's format: route aliases, agents (once
 * registered) and every provider model as `provider/model` (configured and
 * discovered). Served from memory.
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
    const serving = this.catalog.providersServing(id);
    const entry = serving.length === 1 ? this.catalog.find(`${serving[0]}/${id}`) : undefined;
    // As chat admits it: the key may use the name asked for, or the provider/model it resolves to.
    if (entry && this.access.isAllowedAs(principal, [id, entry.id])) {
      return { id, object: 'model', created: entry.created, owned_by: entry.ownedBy };
    }
    throw new GatewayError('model_not_found', `The model ${JSON.stringify(id)} does not exist.`, { param: 'model' });
  }

  private aliases(principal: Principal): ModelResponse[] {
    return this.routes
      .list()
      .filter((route) => route.enabled)
      .filter((route) =>
        this.access.isAllowedVia(
          principal,
          route.alias,
          route.targets.map((t) => `${t.provider}/${t.model}`),
        ),
      )
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

  private providerModels(principal: Principal): ModelResponse[] {
    return this.catalog
      .list()
      .filter(
        (m) =>
          this.access.isAllowed(principal, m.id) ||
          // A bare name the key may use reaches this model when only its provider serves it.
          (this.catalog.providersServing(m.model).length === 1 && this.access.isAllowedAs(principal, [m.id, m.model])),
      )
      .map((m) => ({ id: m.id, object: 'model', created: m.created, owned_by: m.ownedBy }));
  }
}
