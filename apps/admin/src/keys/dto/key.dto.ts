import { z } from 'zod';
import type { ApiKeyRecord } from '@app/db';
import { BudgetPeriod, ModelPattern } from '../../teams/dto/team.dto';
import { usdAmount } from '../../common/usd';

export const CreateKeyBody = z
  .strictObject({
    teamId: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("The key's team; required for admins, members' keys go to their own team"),
    name: z.string().trim().min(1).max(100),
    expiresAt: z.iso
      .datetime({ offset: true })
      .nullable()
      .optional()
      .describe('ISO 8601; absent or null never expires'),
    allowedModels: z
      .array(ModelPattern)
      .max(500)
      .optional()
      .describe("Narrows the team's list; empty allows what the team allows"),
    rpm: z.number().int().positive().max(1_000_000_000).nullable().optional(),
    tpm: z.number().int().positive().max(1_000_000_000).nullable().optional(),
    budgetUsd: usdAmount(1_000_000_000).nullable().optional(),
    budgetPeriod: BudgetPeriod.optional(),
  })
  .meta({ id: 'CreateApiKey' });
export type CreateKeyBody = z.infer<typeof CreateKeyBody>;

export const ListKeysQuery = z.object({ teamId: z.string().min(1).max(100).optional() });
export type ListKeysQuery = z.infer<typeof ListKeysQuery>;

export const KeyResponse = z
  .object({
    id: z.string(),
    teamId: z.string(),
    name: z.string(),
    prefix: z.string().describe('The first characters of the key, for recognising it'),
    status: z.enum(['active', 'revoked', 'expired']),
    createdById: z.string().nullable(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    allowedModels: z.array(z.string()),
    rpm: z.number().nullable(),
    tpm: z.number().nullable(),
    budgetUsd: z.number().nullable(),
    budgetPeriod: BudgetPeriod,
    createdAt: z.string(),
  })
  .meta({ id: 'ApiKey' });
export type KeyResponse = z.infer<typeof KeyResponse>;

export const CreatedKeyResponse = KeyResponse.extend({
  key: z.string().describe('The API key itself: shown this once, never again'),
}).meta({ id: 'CreatedApiKey' });
export type CreatedKeyResponse = z.infer<typeof CreatedKeyResponse>;

export function toKeyResponse(key: ApiKeyRecord, now = new Date()): KeyResponse {
  const status = key.revokedAt ? 'revoked' : key.expiresAt && key.expiresAt <= now ? 'expired' : 'active';
  return {
    id: key.id,
    teamId: key.teamId,
    name: key.name,
    prefix: key.prefix,
    status,
    createdById: key.createdById,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    allowedModels: key.allowedModels,
    rpm: key.rpmLimit,
    tpm: key.tpmLimit,
    budgetUsd: key.budgetUsd,
    budgetPeriod: key.budgetPeriod,
    createdAt: key.createdAt.toISOString(),
  };
}
