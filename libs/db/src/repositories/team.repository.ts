import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { Decimal, TransactionClient } from '../generated/prisma/internal/prismaNamespace';
import { PRISMA } from '../db.tokens';
import { type AuditEntry, insertAudit } from './audit.repository';
import { isMissingRecord, isUniqueViolation } from './prisma-errors';
import { DuplicateError } from './user.repository';

export type BudgetPeriod = 'total' | 'daily' | 'monthly';

export interface TeamRecord {
  id: string;
  name: string;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod;
  rpmLimit: number | null;
  tpmLimit: number | null;
  /** Exact model names and `provider/*` patterns; empty allows every model. */
  allowedModels: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface TeamFields {
  name: string;
  budgetUsd: number | null;
  budgetPeriod: BudgetPeriod;
  rpmLimit: number | null;
  tpmLimit: number | null;
  allowedModels: string[];
}

/** The audit entry of a write; the repository fills in the target id and the changes. */
export type AuditContext = Omit<AuditEntry, 'targetType' | 'targetId' | 'changes' | 'action'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can be a row id at all; anything else is simply not found (never a database error). */
export function isRowId(id: string): boolean {
  return UUID.test(id);
}

export function usdOrNull(value: Decimal | null): number | null {
  return value === null ? null : value.toNumber();
}

type TeamRow = Omit<TeamRecord, 'budgetUsd'> & { budgetUsd: Decimal | null };

function toTeam(row: TeamRow): TeamRecord {
  return {
    id: row.id,
    name: row.name,
    budgetUsd: usdOrNull(row.budgetUsd),
    budgetPeriod: row.budgetPeriod,
    rpmLimit: row.rpmLimit,
    tpmLimit: row.tpmLimit,
    allowedModels: row.allowedModels,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const TEAM_FIELDS = {
  id: true,
  name: true,
  budgetUsd: true,
  budgetPeriod: true,
  rpmLimit: true,
  tpmLimit: true,
  allowedModels: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** `{field: {from, to}}` for the fields that changed. */
export function auditDiff<T extends object>(before: T, after: T, fields: Array<keyof T>): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  for (const field of fields) {
    const from = before[field];
    const to = after[field];
    if (JSON.stringify(from) !== JSON.stringify(to)) changes[String(field)] = { from, to };
  }
  return changes;
}

const EDITABLE: Array<keyof TeamRecord> = [
  'name',
  'budgetUsd',
  'budgetPeriod',
  'rpmLimit',
  'tpmLimit',
  'allowedModels',
];

@Injectable()
export class TeamRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async list(): Promise<TeamRecord[]> {
    const rows = await this.prisma.team.findMany({ select: TEAM_FIELDS, orderBy: { name: 'asc' } });
    return rows.map(toTeam);
  }

  async findById(id: string): Promise<TeamRecord | null> {
    if (!isRowId(id)) return null;
    const row = await this.prisma.team.findUnique({ where: { id }, select: TEAM_FIELDS });
    return row ? toTeam(row) : null;
  }

  /** Creates the team and its audit row together. @throws DuplicateError('name') */
  async create(fields: TeamFields, audit: AuditContext): Promise<TeamRecord> {
    return this.write(async (tx) => {
      const team = toTeam(await tx.team.create({ data: fields, select: TEAM_FIELDS }));
      await insertAudit(tx, {
        ...audit,
        action: 'team.create',
        targetType: 'team',
        targetId: team.id,
        changes: auditFields(team, EDITABLE),
      });
      return team;
    });
  }

  /** Applies `patch`; `null` when there is no such team. @throws DuplicateError('name') */
  async update(id: string, patch: Partial<TeamFields>, audit: AuditContext): Promise<TeamRecord | null> {
    if (!isRowId(id)) return null;
    return this.write(async (tx) => {
      const before = await tx.team.findUnique({ where: { id }, select: TEAM_FIELDS });
      if (!before) return null;
      const after = toTeam(await tx.team.update({ where: { id }, data: patch, select: TEAM_FIELDS }));
      const changes = auditDiff(toTeam(before), after, EDITABLE);
      await insertAudit(tx, { ...audit, action: 'team.update', targetType: 'team', targetId: id, changes });
      return after;
    }, null);
  }

  /** Deletes the team (its keys go with it); `null` when there is no such team. */
  async delete(id: string, audit: AuditContext): Promise<TeamRecord | null> {
    if (!isRowId(id)) return null;
    return this.write(async (tx) => {
      const row = await tx.team.findUnique({ where: { id }, select: TEAM_FIELDS });
      if (!row) return null;
      const keys = await tx.apiKey.count({ where: { teamId: id } });
      await tx.team.delete({ where: { id } });
      const team = toTeam(row);
      await insertAudit(tx, {
        ...audit,
        action: 'team.delete',
        targetType: 'team',
        targetId: id,
        changes: { name: team.name, deletedKeys: keys },
      });
      return team;
    }, null);
  }

  /** Runs a write transaction; `deletedMeanwhile` is the answer when the row vanished between read and write. */
  private async write<T>(fn: (tx: TransactionClient) => Promise<T>, deletedMeanwhile?: T): Promise<T> {
    try {
      return await this.prisma.$transaction(fn);
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateError('name');
      if (isMissingRecord(error) && deletedMeanwhile !== undefined) return deletedMeanwhile;
      throw error;
    }
  }
}

export function auditFields<T extends object>(value: T, fields: Array<keyof T>): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, value[f]]));
}
