import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { PRISMA } from '../db.tokens';

/** Small pieces of platform state kept across restarts. */
@Injectable()
export class SettingRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.prisma.setting.findUnique({ where: { key } });
    return row ? (row.value as T) : undefined;
  }

  async set(key: string, value: InputJsonValue): Promise<void> {
    await this.prisma.setting.upsert({ where: { key }, create: { key, value }, update: { value } });
  }
}
