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
 * environment have none: a target naming one gets a reference row with this
 * `config`. Reference rows are invisible outside this lib and are turned into a
 * real provider when one of that name is created.
 */
const EXTERNAL_REFERENCE = { $reference: 'external' } as const;

export function isExternalReference(config: JsonValue | null): boolean {
  return (
    typeof config === 'object' &&
    config !== null &&
    !Array.isArray(config) &&
    config.$reference === EXTERNAL_REFERENCE.$reference
  );
}

export function referenceRowData(name: string, kind: ProviderKindValue) {
  return {
    name,
    kind: toDbKind(kind),
    baseUrl: null,
    apiKeyEncrypted: null,
    enabled: true,
    models: [],
    timeoutMs: null,
    config: EXTERNAL_REFERENCE as InputJsonValue,
  };
}

/** Reference rows no route target uses any more. */
export async function deleteUnusedReferences(tx: TransactionClient): Promise<void> {
  const unused = await tx.provider.findMany({
    where: { routeTargets: { none: {} } },
    select: { id: true, config: true },
  });
  const ids = unused.filter((row) => isExternalReference(row.config)).map((row) => row.id);
  if (ids.length > 0) await tx.provider.deleteMany({ where: { id: { in: ids } } });
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

/**
 * Options with the values of extra upstream headers replaced: like the API key
 * they may carry credentials (a proxy's auth header), so they are write-only.
 */
export function redactOptions(options: Record<string, unknown>): Record<string, unknown> {
  const headers = options.headers;
  if (typeof headers !== 'object' || headers === null) return options;
  return { ...options, headers: Object.fromEntries(Object.keys(headers).map((name) => [name, '[redacted]'])) };
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
    const row = await this.prisma.provider.findUnique({ where: { id }, select: PROVIDER_FIELDS });
    return row && !isExternalReference(row.config) ? toWithSecret(row) : null;
  }

  /**
   * Stores a new provider (taking over the reference row of the same name, so
   * routes that named it keep pointing at it). @throws DuplicateError('name')
   */
  async create(fields: ProviderFields, audit?: AuditContext): Promise<ProviderRecord> {
    const created = await this.write(async (tx) => {
      const existing = await tx.provider.findUnique({ where: { name: fields.name }, select: PROVIDER_FIELDS });
      if (existing && !isExternalReference(existing.config)) throw new DuplicateError('name');
      const data = toData(fields);
      const row = existing
        ? await tx.provider.update({ where: { id: existing.id }, data, select: PROVIDER_FIELDS })
        : await tx.provider.create({
            data: { ...data, name: fields.name, kind: toDbKind(fields.kind) },
            select: PROVIDER_FIELDS,
          });
      const provider = toRecord(row);
      if (audit) {
        await insertAudit(tx, { ...audit, ...target('provider.create', provider), changes: auditView(provider) });
      }
      return provider;
    });
    // Only a concurrent delete of the reference row taken over gets here: the name is contended.
    if (!created) throw new DuplicateError('name');
    return created;
  }

  /** Applies `patch`; `null` when there is no such provider. @throws DuplicateError('name') */
  async update(id: string, patch: Partial<ProviderFields>, audit?: AuditContext): Promise<ProviderRecord | null> {
    if (!isRowId(id)) return null;
    return this.write(async (tx) => {
      const before = await tx.provider.findUnique({ where: { id }, select: PROVIDER_FIELDS });
      if (!before || isExternalReference(before.config)) return null;
      if (patch.name !== undefined && patch.name !== before.name) await this.claimName(tx, patch.name, id);
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
   * `keepAsReference`: then it becomes a reference row, for a provider of the same
   * name configured elsewhere (the environment) that the routes fall back to.
   */
  async delete(id: string, options: { keepAsReference: boolean }, audit?: AuditContext): Promise<ProviderDeleteResult> {
    if (!isRowId(id)) return { status: 'not_found' };
    const result = await this.write(async (tx): Promise<ProviderDeleteResult> => {
      const row = await tx.provider.findUnique({ where: { id }, select: PROVIDER_FIELDS });
      if (!row || isExternalReference(row.config)) return { status: 'not_found' };
      const provider = toRecord(row);
      const targets = await tx.routeTarget.findMany({
        where: { providerId: id },
        select: { route: { select: { alias: true } } },
      });
      const routes = [...new Set(targets.map((t) => t.route.alias))].sort();
      if (routes.length > 0 && !options.keepAsReference) return { status: 'in_use', routes };
      if (routes.length > 0) {
        await tx.provider.update({ where: { id }, data: referenceRowData(row.name, provider.kind) });
      } else {
        await tx.provider.delete({ where: { id } });
      }
      if (audit) {
        await insertAudit(tx, { ...audit, ...target('provider.delete', provider), changes: auditView(provider) });
      }
      return { status: 'deleted', provider };
    });
    return result ?? { status: 'not_found' };
  }

  private async rows(): Promise<ProviderRow[]> {
    const rows = await this.prisma.provider.findMany({ select: PROVIDER_FIELDS, orderBy: { name: 'asc' } });
    return rows.filter((row) => !isExternalReference(row.config));
  }

  /** Frees `name` for provider `id`: a reference row of that name hands its route targets over. */
  private async claimName(tx: TransactionClient, name: string, id: string): Promise<void> {
    const other = await tx.provider.findUnique({ where: { name }, select: { id: true, config: true } });
    if (!other) return;
    if (!isExternalReference(other.config)) throw new DuplicateError('name');
    await tx.routeTarget.updateMany({ where: { providerId: other.id }, data: { providerId: id } });
    await tx.provider.delete({ where: { id: other.id } });
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
