import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { TransactionClient } from '../generated/prisma/internal/prismaNamespace';
import { PRISMA } from '../db.tokens';
import { insertAudit } from './audit.repository';
import { isMissingRecord, isUniqueViolation } from './prisma-errors';
import type { AuditContext } from './team.repository';
import { DuplicateError } from './user.repository';

/** A price list entry, in USD per million tokens. `provider` or `model` may be `*`. */
export interface PriceRecord {
  id: string;
  provider: string;
  model: string;
  inputPerMTok: number;
  outputPerMTok: number;
  /** `null`: cached input tokens cost the input price. */
  cachedInputPerMTok: number | null;
  currency: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Prices are passed as decimal strings so no float rounding reaches the database. */
export interface NewPrice {
  provider: string;
  model: string;
  inputPerMTok: string;
  outputPerMTok: string;
  cachedInputPerMTok?: string | null;
}

export type PriceChanges = Partial<NewPrice>;

interface PriceRow {
  id: string;
  provider: string;
  model: string;
  inputPerMTok: { toString(): string };
  outputPerMTok: { toString(): string };
  cachedInputPerMTok: { toString(): string } | null;
  currency: string;
  createdAt: Date;
  updatedAt: Date;
}

function toRecord(row: PriceRow): PriceRecord {
  return {
    ...row,
    inputPerMTok: Number(row.inputPerMTok.toString()),
    outputPerMTok: Number(row.outputPerMTok.toString()),
    cachedInputPerMTok: row.cachedInputPerMTok === null ? null : Number(row.cachedInputPerMTok.toString()),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the audit log keeps of a price (all of it: prices are not secret). */
function auditOf(price: PriceRecord): Record<string, unknown> {
  const { provider, model, inputPerMTok, outputPerMTok, cachedInputPerMTok } = price;
  return { provider, model, inputPerMTok, outputPerMTok, cachedInputPerMTok };
}

/** The `prices` table; every change is written with its audit row in one transaction. */
@Injectable()
export class PricingRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async listPrices(): Promise<PriceRecord[]> {
    const rows = await this.prisma.pricing.findMany({ orderBy: [{ provider: 'asc' }, { model: 'asc' }] });
    return rows.map(toRecord);
  }

  async findPrice(id: string): Promise<PriceRecord | null> {
    if (!UUID.test(id)) return null;
    const row = await this.prisma.pricing.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** @throws DuplicateError('provider/model') when the pair already has a price. */
  async createPrice(price: NewPrice, audit: AuditContext): Promise<PriceRecord> {
    return this.write(async (tx) => {
      const created = toRecord(await tx.pricing.create({ data: price }));
      await insertAudit(tx, {
        ...audit,
        action: 'price.create',
        targetType: 'price',
        targetId: created.id,
        changes: auditOf(created),
      });
      return created;
    });
  }

  /** `null` when there is no such price. @throws DuplicateError('provider/model') */
  async updatePrice(id: string, changes: PriceChanges, audit: AuditContext): Promise<PriceRecord | null> {
    if (!UUID.test(id)) return null;
    return this.write(async (tx) => {
      const before = await tx.pricing.findUnique({ where: { id } });
      if (!before) return null;
      const after = toRecord(await tx.pricing.update({ where: { id }, data: changes }));
      await insertAudit(tx, {
        ...audit,
        action: 'price.update',
        targetType: 'price',
        targetId: id,
        changes: { before: auditOf(toRecord(before)), after: auditOf(after) },
      });
      return after;
    });
  }

  /** `null` when there was no such price. */
  async deletePrice(id: string, audit: AuditContext): Promise<PriceRecord | null> {
    if (!UUID.test(id)) return null;
    return this.write(async (tx) => {
      const row = await tx.pricing.findUnique({ where: { id } });
      if (!row) return null;
      await tx.pricing.delete({ where: { id } });
      const deleted = toRecord(row);
      await insertAudit(tx, {
        ...audit,
        action: 'price.delete',
        targetType: 'price',
        targetId: id,
        changes: auditOf(deleted),
      });
      return deleted;
    });
  }

  private async write<T>(fn: (tx: TransactionClient) => Promise<T>): Promise<T> {
    try {
      return await this.prisma.$transaction(fn);
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateError('provider/model');
      // Deleted by someone else between our read and our write.
      if (isMissingRecord(error)) return null as T;
      throw error;
    }
  }
}
