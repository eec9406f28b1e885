import { Inject, Injectable } from '@nestjs/common';
import { CatalogChangeBus, environmentProviders } from '@app/completions';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { GatewayError } from '@app/contracts';
import {
  type AuditContext,
  DuplicateError,
  type ExternalProvider,
  type RouteFields,
  type RouteRecord,
  RouteRepository,
  UnknownProviderError,
} from '@app/db';
import type { CreateRouteBody, UpdateRouteBody } from './dto/route.dto';

const notFound = () => new GatewayError('not_found', 'Route not found.');
const duplicate = (alias: string | undefined) =>
  new GatewayError('conflict', `A route with the alias ${JSON.stringify(alias)} already exists.`, { param: 'alias' });

function toTargets(targets: CreateRouteBody['targets']): RouteFields['targets'] {
  return targets.map((t) => ({
    provider: t.provider,
    model: t.model,
    weight: t.weight ?? 1,
    timeoutMs: t.timeoutMs ?? null,
  }));
}

function toPatch(body: UpdateRouteBody): Partial<RouteFields> {
  const patch: Partial<RouteFields> = {};
  if (body.alias !== undefined) patch.alias = body.alias;
  if (body.strategy !== undefined) patch.strategy = body.strategy;
  if (body.targets !== undefined) patch.targets = toTargets(body.targets);
  if (body.timeoutMs !== undefined) patch.timeoutMs = body.timeoutMs;
  if (body.description !== undefined) patch.description = body.description;
  if (body.enabled !== undefined) patch.enabled = body.enabled;
  return patch;
}

/**
 * Route aliases for the admin API. Targets must name configured providers
 * (stored, or from the environment); a route and its targets are written
 * together and every change is announced to the route tables.
 */
@Injectable()
export class RoutesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly routes: RouteRepository,
    private readonly bus: CatalogChangeBus,
  ) {}

  list(): Promise<RouteRecord[]> {
    return this.routes.list();
  }

  async get(id: string): Promise<RouteRecord> {
    const route = await this.routes.findById(id);
    if (!route) throw notFound();
    return route;
  }

  async create(body: CreateRouteBody, actor: AuditContext): Promise<RouteRecord> {
    const fields: RouteFields = {
      alias: body.alias,
      strategy: body.strategy,
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      timeoutMs: body.timeoutMs ?? null,
      targets: toTargets(body.targets),
    };
    const route = await this.write(body.alias, () => this.routes.create(fields, this.external(), actor));
    await this.bus.publish({ scope: 'routes' });
    return route;
  }

  async update(id: string, body: UpdateRouteBody, actor: AuditContext): Promise<RouteRecord> {
    const route = await this.write(body.alias, () => this.routes.update(id, toPatch(body), this.external(), actor));
    if (!route) throw notFound();
    await this.bus.publish({ scope: 'routes' });
    return route;
  }

  async remove(id: string, actor: AuditContext): Promise<void> {
    if (!(await this.routes.delete(id, actor))) throw notFound();
    await this.bus.publish({ scope: 'routes' });
  }

  private external(): ExternalProvider[] {
    return environmentProviders(this.config).map(({ name, kind }) => ({ name, kind }));
  }

  private async write<T>(alias: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof DuplicateError) throw duplicate(alias);
      if (error instanceof UnknownProviderError) {
        const param = `targets[${error.index}].provider`;
        throw new GatewayError(
          'invalid_request_error',
          `${param}: unknown provider ${JSON.stringify(error.provider)}.`,
          {
            param,
          },
        );
      }
      throw error;
    }
  }
}
