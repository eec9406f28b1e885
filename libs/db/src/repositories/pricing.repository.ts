import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import { PRISMA } from '../db.tokens';
import { isMissingRecord, isUniqueViolation } from './prisma-errors';
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

/** The `prices` table. */
@Injectable()
export class PricingRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async listPrices(): Promise<PriceRecord[]> {
    const rows = await this.prisma.pricing.findMany({ orderBy: [{ provider: 'asc' }, { model: 'asc' }] });
    return rows.map(toRecord);
  }

  async findPrice(id: string): Promise<PriceRecord | null> {
    const row = await this.prisma.pricing.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  /** @throws DuplicateError when the provider/model pair already has a price. */
  async createPrice(price: NewPrice): Promise<PriceRecord> {
    try {
      return toRecord(await this.prisma.pricing.create({ data: price }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateError('provider/model');
      throw error;
    }
  }

  /** `null` when there is no such price. @throws DuplicateError on a provider/model clash. */
  async updatePrice(id: string, changes: PriceChanges): Promise<PriceRecord | null> {
    try {
      return toRecord(await this.prisma.pricing.update({ where: { id }, data: changes }));
    } catch (error) {
      if (isMissingRecord(error)) return null;
      if (isUniqueViolation(error)) throw new DuplicateError('provider/model');
      throw error;
    }
  }

  /** `false` when there was no such price. */
  async deletePrice(id: string): Promise<boolean> {
    const { count } = await this.prisma.pricing.deleteMany({ where: { id } });
    return count > 0;
  }
}
