import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { RouteStrategy as DbRouteStrategy } from '../generated/prisma/enums';
import type { TransactionClient } from '../generated/prisma/internal/prismaNamespace';
import { PRISMA } from '../db.tokens';
import { insertAudit } from './audit.repository';
import { isMissingRecord, isUniqueViolation } from './prisma-errors';
import {
  deleteUnusedExternalRows,
  externalRowData,
  lockRouteTargets,
  type ProviderKindValue,
} from './provider.repository';
import { type AuditContext, auditDiff, isRowId } from './team.repository';
import { DuplicateError } from './user.repository';

/** Route strategies as the API and the database spell them (the Prisma enum uses `_`). */
export const ROUTE_STRATEGY_VALUES = ['fallback', 'round-robin', 'weighted', 'least-latency'] as const;
export type RouteStrategyValue = (typeof ROUTE_STRATEGY_VALUES)[number];

export interface RouteTargetRecord {
  /** The provider's name (the `provider` of `provider/model`). */
  provider: string;
  model: string;
  weight: number;
  timeoutMs: number | null;
}

/** A route alias with its targets in order. */
export interface RouteRecord {
  id: string;
  alias: string;
  strategy: RouteStrategyValue;
  description: string | null;
  enabled: boolean;
  timeoutMs: number | null;
  targets: RouteTargetRecord[];
  createdAt: Date;
  updatedAt: Date;
}

export type RouteTargetFields = RouteTargetRecord;

export interface RouteFields {
  alias: string;
  strategy: RouteStrategyValue;
  description: string | null;
  enabled: boolean;
  timeoutMs: number | null;
  /** Replaced as a whole, in order. */
  targets: RouteTargetFields[];
}

/** A provider that exists outside the database (the environment) and that targets may name. */
export interface ExternalProvider {
  name: string;
  kind: ProviderKindValue;
}

/** A target names a provider that is neither stored nor external. */
export class UnknownProviderError extends Error {
  constructor(
    readonly provider: string,
    /** Index of the first target naming it. */
    readonly index: number,
  ) {
    super(`Unknown provider "${provider}"`);
    this.name = 'UnknownProviderError';
  }
}

const toDbStrategy = (strategy: RouteStrategyValue): DbRouteStrategy => strategy.replace('-', '_') as DbRouteStrategy;
const fromDbStrategy = (strategy: DbRouteStrategy): RouteStrategyValue =>
  strategy.replace('_', '-') as RouteStrategyValue;

const ROUTE_SELECT = {
  id: true,
  alias: true,
  strategy: true,
  description: true,
  enabled: true,
  timeoutMs: true,
  createdAt: true,
  updatedAt: true,
  targets: {
    select: { providerId: true, model: true, weight: true, timeoutMs: true, provider: { select: { name: true } } },
    orderBy: { position: 'asc' },
  },
} as const;

interface RouteRow {
  id: string;
  alias: string;
  strategy: DbRouteStrategy;
  description: string | null;
  enabled: boolean;
  timeoutMs: number | null;
  createdAt: Date;
  updatedAt: Date;
  targets: Array<{
    providerId: string;
    model: string;
    weight: number;
    timeoutMs: number | null;
    provider: { name: string };
  }>;
}

function toRoute(row: RouteRow): RouteRecord {
  return {
    id: row.id,
    alias: row.alias,
    strategy: fromDbStrategy(row.strategy),
    description: row.description,
    enabled: row.enabled,
    timeoutMs: row.timeoutMs,
    targets: row.targets.map((t) => ({
      provider: t.provider.name,
      model: t.model,
      weight: t.weight,
      timeoutMs: t.timeoutMs,
    })),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const AUDITED: Array<keyof RouteRecord> = ['alias', 'strategy', 'description', 'enabled', 'timeoutMs', 'targets'];

function auditView(route: RouteRecord): Record<string, unknown> {
  return Object.fromEntries(AUDITED.map((field) => [field, route[field]]));
}

/** Route aliases and their ordered targets; a route and its targets are always written together. */
@Injectable()
export class RouteRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async list(): Promise<RouteRecord[]> {
    const rows = await this.prisma.route.findMany({ select: ROUTE_SELECT, orderBy: { alias: 'asc' } });
    return rows.map(toRoute);
  }

  async findById(id: string): Promise<RouteRecord | null> {
    if (!isRowId(id)) return null;
    const row = await this.prisma.route.findUnique({ where: { id }, select: ROUTE_SELECT });
    return row ? toRoute(row) : null;
  }

  /** @throws DuplicateError('alias'), UnknownProviderError */
  async create(fields: RouteFields, external: ExternalProvider[], audit?: AuditContext): Promise<RouteRecord> {
    const created = await this.write(async (tx) => {
      await lockRouteTargets(tx);
      const providerIds = await resolveProviders(tx, fields.targets, external);
      const { id } = await tx.route.create({
        data: {
          alias: fields.alias,
          strategy: toDbStrategy(fields.strategy),
          description: fields.description,
          enabled: fields.enabled,
          timeoutMs: fields.timeoutMs,
        },
        select: { id: true },
      });
      await insertTargets(tx, id, fields.targets, providerIds);
      const route = toRoute(await tx.route.findUniqueOrThrow({ where: { id }, select: ROUTE_SELECT }));
      if (audit) {
        await insertAudit(tx, { ...audit, ...target('route.create', route), changes: auditView(route) });
      }
      return route;
    });
    if (!created) throw new Error('route vanished while being created');
    return created;
  }

  /** Applies `patch` (targets replaced whole); `null` when there is no such route. */
  async update(
    id: string,
    patch: Partial<RouteFields>,
    external: ExternalProvider[],
    audit?: AuditContext,
  ): Promise<RouteRecord | null> {
    if (!isRowId(id)) return null;
    return this.write(async (tx) => {
      await lockRouteTargets(tx);
      const row = await tx.route.findUnique({ where: { id }, select: ROUTE_SELECT });
      if (!row) return null;
      const { targets, strategy, ...scalars } = patch;
      await tx.route.update({
        where: { id },
        data: { ...scalars, ...(strategy === undefined ? {} : { strategy: toDbStrategy(strategy) }) },
      });
      if (targets !== undefined) {
        const providerIds = await resolveProviders(tx, targets, external, row.targets);
        await tx.routeTarget.deleteMany({ where: { routeId: id } });
        await insertTargets(tx, id, targets, providerIds);
        await deleteUnusedExternalRows(tx);
      }
      const after = toRoute(await tx.route.findUniqueOrThrow({ where: { id }, select: ROUTE_SELECT }));
      if (audit) {
        const changes = auditDiff(toRoute(row), after, AUDITED);
        await insertAudit(tx, { ...audit, ...target('route.update', after), changes });
      }
      return after;
    });
  }

  /** Deletes the route and its targets; `null` when there is no such route. */
  async delete(id: string, audit?: AuditContext): Promise<RouteRecord | null> {
    if (!isRowId(id)) return null;
    return this.write(async (tx) => {
      await lockRouteTargets(tx);
      const row = await tx.route.findUnique({ where: { id }, select: ROUTE_SELECT });
      if (!row) return null;
      const route = toRoute(row);
      await tx.route.delete({ where: { id } });
      await deleteUnusedExternalRows(tx);
      if (audit) {
        await insertAudit(tx, { ...audit, ...target('route.delete', route), changes: auditView(route) });
      }
      return route;
    });
  }

  private async write<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T | null> {
    try {
      return await this.prisma.$transaction(fn);
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateError('alias');
      // Deleted by someone else between our read and our write.
      if (isMissingRecord(error)) return null;
      throw error;
    }
  }
}

/**
 * Provider row ids by name for the targets. A name the route already had keeps
 * the row it was made for (stored, or external while its provider is still
 * configured); a new one means the stored provider of that name, else the
 * external provider of that name (its row created on first use).
 */
async function resolveProviders(
  tx: TransactionClient,
  targets: RouteTargetFields[],
  external: ExternalProvider[],
  previous: Array<{ providerId: string }> = [],
): Promise<Map<string, string>> {
  const names = [...new Set(targets.map((t) => t.provider))];
  const rows = await tx.provider.findMany({
    where: { name: { in: names } },
    select: { id: true, name: true, external: true },
  });
  const externalKinds = new Map(external.map((p) => [p.name, p.kind]));
  // An external row whose provider left the environment names nothing any more.
  const usable = rows.filter((row) => !row.external || externalKinds.has(row.name));
  const ids = new Map<string, string>();
  const claim = (row: { id: string; name: string } | undefined) => {
    if (row && !ids.has(row.name)) ids.set(row.name, row.id);
  };
  for (const t of previous) claim(usable.find((row) => row.id === t.providerId));
  for (const row of usable) if (!row.external) claim(row);
  for (const row of usable) claim(row);
  for (const [index, t] of targets.entries()) {
    if (ids.has(t.provider)) continue;
    const kind = externalKinds.get(t.provider);
    if (!kind) throw new UnknownProviderError(t.provider, index);
    const { id } = await tx.provider.create({ data: externalRowData(t.provider, kind), select: { id: true } });
    ids.set(t.provider, id);
  }
  return ids;
}

async function insertTargets(
  tx: TransactionClient,
  routeId: string,
  targets: RouteTargetFields[],
  providerIds: Map<string, string>,
): Promise<void> {
  await tx.routeTarget.createMany({
    data: targets.map((t, position) => ({
      routeId,
      providerId: providerIds.get(t.provider) ?? '',
      model: t.model,
      weight: t.weight,
      timeoutMs: t.timeoutMs,
      position,
    })),
  });
}

function target(action: string, route: RouteRecord) {
  return { action, targetType: 'route', targetId: route.id };
}
