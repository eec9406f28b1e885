import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { Decimal } from '../generated/prisma/internal/prismaNamespace';
import { PRISMA } from '../db.tokens';
import { insertAudit } from './audit.repository';
import { isForeignKeyViolation, isMissingRecord, isUniqueViolation } from './prisma-errors';
import {
  type AuditContext,
  type BudgetPeriod,
  type TeamRecord,
  usdOrNull,
  isRowId,
  auditFields,
} from './team.repository';
import { DuplicateError } from './user.repository';

/** An API key as the platform shows it: never its hash, never its plaintext. */
export interface ApiKeyRecord {
  id: string;
  teamId: string;
  name: string;
  /** Display prefix such as `sk-AbC12…`. */
  prefix: string;
  createdById: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  allowedModels: string[];
  rpmLimit: number | null;
  tpmLimit: number | null;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod;
  createdAt: Date;
}

export interface NewApiKey {
  teamId: string;
  name: string;
  keyHash: string;
  prefix: string;
  createdById: string | null;
  expiresAt: Date | null;
  allowedModels: string[];
  rpmLimit: number | null;
  tpmLimit: number | null;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod;
}

/** A key with its team, as the gateway's key check needs them. */
export interface ApiKeyWithTeam {
  key: ApiKeyRecord;
  team: Pick<TeamRecord, 'id' | 'name' | 'budgetUsd' | 'budgetPeriod' | 'rpmLimit' | 'tpmLimit' | 'allowedModels'>;
}

/** A row the write needed (the key's team) does not exist. */
export class MissingReferenceError extends Error {
  constructor(readonly entity: string) {
    super(`${entity} not found`);
    this.name = 'MissingReferenceError';
  }
}

const KEY_FIELDS = {
  id: true,
  teamId: true,
  name: true,
  prefix: true,
  createdById: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
  allowedModels: true,
  rpmLimit: true,
  tpmLimit: true,
  budgetUsd: true,
  budgetPeriod: true,
  createdAt: true,
} as const;

type KeyRow = Omit<ApiKeyRecord, 'budgetUsd'> & { budgetUsd: Decimal | null };

function toKey(row: KeyRow): ApiKeyRecord {
  return { ...row, budgetUsd: usdOrNull(row.budgetUsd) };
}

const AUDITED: Array<keyof ApiKeyRecord> = [
  'teamId',
  'name',
  'prefix',
  'expiresAt',
  'allowedModels',
  'rpmLimit',
  'tpmLimit',
  'budgetUsd',
  'budgetPeriod',
];

@Injectable()
export class ApiKeyRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** The key whose SHA-256 hex is `keyHash`, revoked and expired ones included, with its team. */
  async findByHashWithTeam(keyHash: string): Promise<ApiKeyWithTeam | null> {
    const row = await this.prisma.apiKey.findUnique({
      where: { keyHash },
      select: {
        ...KEY_FIELDS,
        team: {
          select: {
            id: true,
            name: true,
            budgetUsd: true,
            budgetPeriod: true,
            rpmLimit: true,
            tpmLimit: true,
            allowedModels: true,
          },
        },
      },
    });
    if (!row) return null;
    const { team, ...key } = row;
    return { key: toKey(key), team: { ...team, budgetUsd: usdOrNull(team.budgetUsd) } };
  }

  async findById(id: string): Promise<ApiKeyRecord | null> {
    if (!isRowId(id)) return null;
    const row = await this.prisma.apiKey.findUnique({ where: { id }, select: KEY_FIELDS });
    return row ? toKey(row) : null;
  }

  /** Newest first; every team's keys when `teamId` is undefined. */
  async list(teamId?: string): Promise<ApiKeyRecord[]> {
    if (teamId !== undefined && !isRowId(teamId)) return [];
    const rows = await this.prisma.apiKey.findMany({
      where: { teamId },
      select: KEY_FIELDS,
      orderBy: { createdAt: 'desc' },
    });
    return rows.map(toKey);
  }

  /**
   * Stores a new key and its audit row in one transaction: a failure leaves neither.
   * @throws MissingReferenceError('team') when the team does not exist
   */
  async create(key: NewApiKey, audit: AuditContext): Promise<ApiKeyRecord> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const created = toKey(await tx.apiKey.create({ data: key, select: KEY_FIELDS }));
        await insertAudit(tx, {
          ...audit,
          action: 'key.create',
          targetType: 'api_key',
          targetId: created.id,
          changes: auditFields(created, AUDITED),
        });
        return created;
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new MissingReferenceError('team');
      if (isUniqueViolation(error)) throw new DuplicateError('key');
      throw error;
    }
  }

  /** Marks the key revoked (once; revoking again changes nothing); `null` when there is no such key. */
  async revoke(id: string, audit: AuditContext): Promise<ApiKeyRecord | null> {
    if (!isRowId(id)) return null;
    try {
      return await this.prisma.$transaction(async (tx) => {
        const current = await tx.apiKey.findUnique({ where: { id }, select: KEY_FIELDS });
        if (!current || current.revokedAt) return current ? toKey(current) : null;
        const revoked = toKey(
          await tx.apiKey.update({ where: { id }, data: { revokedAt: new Date() }, select: KEY_FIELDS }),
        );
        await insertAudit(tx, {
          ...audit,
          action: 'key.revoke',
          targetType: 'api_key',
          targetId: id,
          changes: { name: revoked.name, prefix: revoked.prefix, revokedAt: revoked.revokedAt },
        });
        return revoked;
      });
    } catch (error) {
      if (isMissingRecord(error)) return null;
      throw error;
    }
  }

  /** One statement for a whole batch of keys seen since the last flush. */
  async touchLastUsed(ids: string[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.prisma.apiKey.updateMany({ where: { id: { in: ids } }, data: { lastUsedAt: at } });
  }
}
