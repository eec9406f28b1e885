import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { InputJsonValue, TransactionClient } from '../generated/prisma/internal/prismaNamespace';
import { PRISMA } from '../db.tokens';

export type AuditActorType = 'user' | 'master_key' | 'system';

/** Who did something to what. `changes` must never hold a secret (hashes, passwords, plaintext keys). */
export interface AuditEntry {
  actorType: AuditActorType;
  actorId: string | null;
  /** `<target>.<verb>`, e.g. `team.create`, `key.revoke`. */
  action: string;
  targetType: string;
  targetId?: string | null;
  changes?: Record<string, unknown> | null;
  ip?: string | null;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'changes'>> {
  /** A bigint serial, as a string (JSON has no bigint). */
  id: string;
  createdAt: Date;
  changes: Record<string, unknown> | null;
}

export interface AuditQuery {
  actorId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
  /** Return entries older than this id (the previous page's `nextCursor`). */
  before?: string;
  limit: number;
}

/**
 * Writes an audit row inside the caller's transaction, so the change and its
 * record commit or roll back together. For the other repositories of this lib.
 */
export async function insertAudit(tx: TransactionClient, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorType: entry.actorType,
      actorId: entry.actorId,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      changes: (entry.changes ?? undefined) as InputJsonValue | undefined,
      ip: entry.ip ?? null,
    },
  });
}

@Injectable()
export class AuditRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.prisma.$transaction((tx) => insertAudit(tx, entry));
  }

  /** Newest first, `limit` per page. */
  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const rows = await this.prisma.auditLog.findMany({
      where: {
        actorId: query.actorId,
        action: query.action,
        targetType: query.targetType,
        targetId: query.targetId,
        createdAt: query.since || query.until ? { gte: query.since, lt: query.until } : undefined,
        id: query.before === undefined ? undefined : { lt: BigInt(query.before) },
      },
      orderBy: { id: 'desc' },
      take: query.limit,
    });
    return rows.map((row) => ({
      id: row.id.toString(),
      createdAt: row.createdAt,
      actorType: row.actorType as AuditActorType,
      actorId: row.actorId,
      action: row.action,
      targetType: row.targetType,
      targetId: row.targetId,
      changes: (row.changes as Record<string, unknown> | null) ?? null,
      ip: row.ip,
    }));
  }
}
