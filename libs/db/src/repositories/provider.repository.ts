import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { ProviderKind as DbProviderKind } from '../generated/prisma/enums';
import type { InputJsonValue, JsonValue, TransactionClient } from '../generated/prisma/internal/prismaNamespace';
import { PRISMA } from '../db.tokens';
import { insertAudit } from './audit.repository';
import { isMissingRecord, isUniqueViolation } from './prisma-errors';
import { type AuditContext, auditDiff, isRowId } from './team.repository';
import { DuplicateError } from './user.repository';

/** Provider kinds as the API and the database spell them (the Prisma enum uses `_`). */
export const PROVIDER_KIND_VALUES = [
  'openai',
  'openai-compatible',
  'anthropic',
  'ollama',
  'gemini',
  'azure-openai',
  'mock',
] as const;
export type ProviderKindValue = (typeof PROVIDER_KIND_VALUES)[number];

/** A stored provider, without its credential. */
export interface ProviderRecord {
  id: string;
  name: string;
  kind: ProviderKindValue;
  baseUrl: string | null;
  /** Whether an API key is stored; the key itself never leaves this lib except encrypted. */
  hasApiKey: boolean;
  enabled: boolean;
  /** Configured model ids (discovery adds to them). */
  models: string[];
  timeoutMs: number | null;
  /** Kind-specific settings (azure apiVersion and deployments, headers, capability flags). */
  options: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** A provider with its encrypted key, for the registry that builds adapters. */
export interface ProviderWithSecret extends ProviderRecord {
  apiKeyEncrypted: string | null;
}

export interface ProviderFields {
  name: string;
  kind: ProviderKindValue;
  baseUrl: string | null;
  /** Already encrypted (SecretCipher); `null` clears it. */
  apiKeyEncrypted: string | null;
  enabled: boolean;
  models: string[];
  timeoutMs: number | null;
  options: Record<string, unknown>;
}

export type ProviderDeleteResult =
  { status: 'deleted'; provider: ProviderRecord } | { status: 'not_found' } | { status: 'in_use'; routes: string[] };

/**
 * Routes reference providers by row, but providers configured through the
 * environment have none: a target naming one gets an `external` row of that name.
 * External rows are invisible outside this lib. A stored provider may take the
 * same name (it replaces the external provider while it holds it): both rows
 * keep their own route targets, so renaming the stored provider moves only the
 * routes made for it, and the others keep naming the environment provider.
 */
export function externalRowData(name: string, kind: ProviderKindValue) {
  return { name, external: true, kind: toDbKind(kind) };
}

/** Arbitrary, fixed: the advisory lock of {@link lockRouteTargets} (Prisma's migration lock is 72707369). */
const ROUTE_TARGETS_LOCK = 418_211_701;

/**
 * Serialises, until the transaction ends, the writes that read provider rows and
 * then point route targets at them or delete them: route writes and provider
 * deletion. Without it two routes created at once for an environment provider
 * both create its external row (a unique violation), and a route created while
 * the last route using such a row is deleted loses its target to the cascade.
 * Take it first, before any read the write depends on.
 */
export async function lockRouteTargets(tx: TransactionClient): Promise<void> {
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${ROUTE_TARGETS_LOCK})`);
}

/** External rows no route target uses any more. */
export async function deleteUnusedExternalRows(tx: TransactionClient): Promise<void> {
  await tx.provider.deleteMany({ where: { external: true, routeTargets: { none: {} } } });
}

export const toDbKind = (kind: ProviderKindValue): DbProviderKind => kind.replace('-', '_') as DbProviderKind;
const fromDbKind = (kind: DbProviderKind): ProviderKindValue => kind.replace('_', '-') as ProviderKindValue;

const PROVIDER_FIELDS = {
  id: true,
  name: true,
  kind: true,
  baseUrl: true,
  apiKeyEncrypted: true,
  config: true,
  models: true,
  enabled: true,
  timeoutMs: true,
  createdAt: true,
  updatedAt: true,
} as const;

interface ProviderRow {
  id: string;
  name: string;
  kind: DbProviderKind;
  baseUrl: string | null;
  apiKeyEncrypted: string | null;
  config: JsonValue | null;
  models: string[];
  enabled: boolean;
  timeoutMs: number | null;
  createdAt: Date;
  updatedAt: Date;
}

function toWithSecret(row: ProviderRow): ProviderWithSecret {
  const options =
    typeof row.config === 'object' && row.config !== null && !Array.isArray(row.config)
      ? (row.config as Record<string, unknown>)
      : {};
  return {
    id: row.id,
    name: row.name,
    kind: fromDbKind(row.kind),
    baseUrl: row.baseUrl,
    hasApiKey: row.apiKeyEncrypted !== null,
    apiKeyEncrypted: row.apiKeyEncrypted,
    enabled: row.enabled,
    models: row.models,
    timeoutMs: row.timeoutMs,
    options,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toRecord(row: ProviderRow): ProviderRecord {
  const { apiKeyEncrypted: _secret, ...record } = toWithSecret(row);
  return record;
}

function toData(fields: Partial<ProviderFields>) {
  const { kind, options, ...rest } = fields;
  return {
    ...rest,
    ...(kind === undefined ? {} : { kind: toDbKind(kind) }),
    ...(options === undefined ? {} : { config: options as InputJsonValue }),
  };
}

const AUDITED: Array<keyof ProviderRecord> = [
  'name',
  'kind',
  'baseUrl',
  'hasApiKey',
  'enabled',
  'models',
  'timeoutMs',
  'options',
];

/** What an audit row may say about a provider: everything but the key and extra header values. */
function auditView(provider: ProviderRecord): Record<string, unknown> {
  return Object.fromEntries(
    AUDITED.map((field) => [field, field === 'options' ? redactOptions(provider.options) : provider[field]]),
  );
}

/** What a header value is shown as; sent back in an update, it keeps the stored value. */
export const REDACTED_HEADER_VALUE = '[redacted]';

/**
 * Options with the values of extra upstream headers replaced: like the API key
 * they may carry credentials (a proxy's auth header), so they are write-only.
 */
export function redactOptions(options: Record<string, unknown>): Record<string, unknown> {
  const headers = options.headers;
  if (typeof headers !== 'object' || headers === null) return options;
  return {
    ...options,
    headers: Object.fromEntries(Object.keys(headers).map((name) => [name, REDACTED_HEADER_VALUE])),
  };
}

/** Providers configured in the database (admin API); credentials stay encrypted. */
@Injectable()
export class ProviderRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async list(): Promise<ProviderRecord[]> {
    return (await this.rows()).map(toRecord);
  }

  /** Every provider with its encrypted key, for building adapters. */
  async listWithSecrets(): Promise<ProviderWithSecret[]> {
    return (await this.rows()).map(toWithSecret);
  }

  async findById(id: string): Promise<ProviderRecord | null> {
    const provider = await this.findWithSecretById(id);
    if (!provider) return null;
    const { apiKeyEncrypted: _secret, ...record } = provider;
    return record;
  }

  async findWithSecretById(id: string): Promise<ProviderWithSecret | null> {
    if (!isRowId(id)) return null;
    const row = await this.prisma.provider.findUnique({ where: { id, external: false }, select: PROVIDER_FIELDS });
    return row ? toWithSecret(row) : null;
  }

  /**
   * Stores a new provider. Routes already naming an external provider of that
   * name keep their own row: they reach this one through the name while it holds
   * it. @throws DuplicateError('name')
   */
  async create(fields: ProviderFields, audit?: AuditContext): Promise<ProviderRecord> {
    const created = await this.write(async (tx) => {
      const data = { ...toData(fields), name: fields.name, kind: toDbKind(fields.kind) };
      const provider = toRecord(await tx.provider.create({ data, select: PROVIDER_FIELDS }));
      if (audit) {
        await insertAudit(tx, { ...audit, ...target('provider.create', provider), changes: auditView(provider) });
      }
      return provider;
    });
    if (!created) throw new Error('provider vanished while being created');
    return created;
  }

  /**
   * Applies `patch`; `null` when there is no such provider. A rename carries the
   * route targets made for this provider, and only those. @throws DuplicateError('name')
   */
  async update(id: string, patch: Partial<ProviderFields>, audit?: AuditContext): Promise<ProviderRecord | null> {
    if (!isRowId(id)) return null;
    return this.write(async (tx) => {
      const before = await tx.provider.findUnique({ where: { id, external: false }, select: PROVIDER_FIELDS });
      if (!before) return null;
      const after = toRecord(await tx.provider.update({ where: { id }, data: toData(patch), select: PROVIDER_FIELDS }));
      if (audit) {
        const changes = auditDiff(auditRecord(toRecord(before)), auditRecord(after), AUDITED);
        if (patch.apiKeyEncrypted !== undefined && before.apiKeyEncrypted !== null && patch.apiKeyEncrypted !== null) {
          changes.apiKey = 'replaced';
        }
        await insertAudit(tx, { ...audit, ...target('provider.update', after), changes });
      }
      return after;
    });
  }

  /**
   * Deletes a provider. One that routes still name is refused (`in_use`), unless
   * `keepAsReference`: then its route targets go to the external row of its name,
   * for a provider of that name configured elsewhere (the environment).
   */
  async delete(id: string, options: { keepAsReference: boolean }, audit?: AuditContext): Promise<ProviderDeleteResult> {
    if (!isRowId(id)) return { status: 'not_found' };
    const result = await this.write(async (tx): Promise<ProviderDeleteResult> => {
      await lockRouteTargets(tx);
      const row = await tx.provider.findUnique({ where: { id, external: false }, select: PROVIDER_FIELDS });
      if (!row) return { status: 'not_found' };
      const provider = toRecord(row);
      const targets = await tx.routeTarget.findMany({
        where: { providerId: id },
        select: { route: { select: { alias: true } } },
      });
      const routes = [...new Set(targets.map((t) => t.route.alias))].sort();
      if (routes.length > 0 && !options.keepAsReference) return { status: 'in_use', routes };
      if (routes.length > 0) {
        const external = await tx.provider.upsert({
          where: { name_external: { name: row.name, external: true } },
          create: externalRowData(row.name, provider.kind),
          update: {},
          select: { id: true },
        });
        await tx.routeTarget.updateMany({ where: { providerId: id }, data: { providerId: external.id } });
      }
      await tx.provider.delete({ where: { id } });
      if (audit) {
        await insertAudit(tx, { ...audit, ...target('provider.delete', provider), changes: auditView(provider) });
      }
      return { status: 'deleted', provider };
    });
    return result ?? { status: 'not_found' };
  }

  private async rows(): Promise<ProviderRow[]> {
    return this.prisma.provider.findMany({
      where: { external: false },
      select: PROVIDER_FIELDS,
      orderBy: { name: 'asc' },
    });
  }

  private async write<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T | null> {
    try {
      return await this.prisma.$transaction(fn);
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateError('name');
      // Deleted by someone else between our read and our write.
      if (isMissingRecord(error)) return null;
      throw error;
    }
  }
}

function auditRecord(provider: ProviderRecord): ProviderRecord {
  return { ...provider, options: redactOptions(provider.options) };
}

function target(action: string, provider: ProviderRecord) {
  return { action, targetType: 'provider', targetId: provider.id };
}
