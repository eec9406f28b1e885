import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import { PRISMA } from '../db.tokens';
import { isRowId } from './team.repository';

export type SpendScope = { apiKeyId: string } | { teamId: string };

/** What keys and teams have spent, from the usage log, for budgets. */
@Injectable()
export class SpendRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** Sum of `cost_usd` of the scope's usage records since `since` (inclusive), in USD. */
  async costSince(scope: SpendScope, since: Date): Promise<number> {
    const id = 'apiKeyId' in scope ? scope.apiKeyId : scope.teamId;
    if (!isRowId(id)) return 0;
    const result = await this.prisma.usageRecord.aggregate({
      where: { ...scope, createdAt: { gte: since } },
      _sum: { costUsd: true },
    });
    return result._sum.costUsd?.toNumber() ?? 0;
  }
}
