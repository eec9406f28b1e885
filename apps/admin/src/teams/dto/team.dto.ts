import { z } from 'zod';
import type { TeamRecord } from '@app/db';
import { usdAmount } from '../../common/usd';

/** An exact model name or a `provider/*` pattern. */
export const ModelPattern = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[^\s*]+(\/\*)?$|^\*$/, 'must be a model name, `provider/*` or `*`');

export const BudgetPeriod = z.enum(['total', 'daily', 'monthly']);
const Usd = usdAmount(1_000_000_000);
const PerMinute = z.number().int().positive().max(1_000_000_000);

const teamFields = {
  name: z.string().trim().min(1).max(100),
  budgetUsd: Usd.nullable().optional().describe('USD per budget period; null or absent for no budget'),
  budgetPeriod: BudgetPeriod.optional().describe('total (never resets), daily or monthly (UTC); default total'),
  rpm: PerMinute.nullable().optional().describe('Requests per minute for the whole team'),
  tpm: PerMinute.nullable().optional().describe('Tokens per minute for the whole team'),
  allowedModels: z
    .array(ModelPattern)
    .max(500)
    .optional()
    .describe('Exact names and provider/* patterns; empty allows every model'),
};

export const CreateTeamBody = z.strictObject(teamFields).meta({ id: 'CreateTeam' });
export type CreateTeamBody = z.infer<typeof CreateTeamBody>;

export const UpdateTeamBody = z.strictObject(teamFields).partial().meta({ id: 'UpdateTeam' });
export type UpdateTeamBody = z.infer<typeof UpdateTeamBody>;

export const TeamResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    budgetUsd: z.number().nullable(),
    budgetPeriod: BudgetPeriod,
    rpm: z.number().nullable(),
    tpm: z.number().nullable(),
    allowedModels: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Team' });
export type TeamResponse = z.infer<typeof TeamResponse>;

export function toTeamResponse(team: TeamRecord): TeamResponse {
  return {
    id: team.id,
    name: team.name,
    budgetUsd: team.budgetUsd,
    budgetPeriod: team.budgetPeriod,
    rpm: team.rpmLimit,
    tpm: team.tpmLimit,
    allowedModels: team.allowedModels,
    createdAt: team.createdAt.toISOString(),
    updatedAt: team.updatedAt.toISOString(),
  };
}
