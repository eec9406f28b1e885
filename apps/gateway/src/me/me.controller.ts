import { Controller, Get, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { z } from 'zod';
import {
  ApiKeyGuard,
  type BudgetStatus,
  CurrentPrincipal,
  type Limits,
  type Principal,
  RequestLimiter,
} from '@app/auth';

const LimitsResponse = z
  .object({
    rpm: z.number().nullable(),
    tpm: z.number().nullable(),
    budgetUsd: z.number().nullable(),
    budgetPeriod: z.enum(['total', 'daily', 'monthly']),
  })
  .meta({ id: 'KeyLimits' });

const BudgetResponse = z
  .object({ budgetUsd: z.number(), spentUsd: z.number(), period: z.string(), resetsAt: z.string().nullable() })
  .meta({ id: 'BudgetStatus' });

const MeResponse = z
  .object({
    object: z.literal('api_key.principal'),
    kind: z.enum(['master', 'api_key']),
    team: z.object({ id: z.string(), name: z.string().nullable() }).nullable(),
    key: z
      .object({ id: z.string(), name: z.string().nullable(), prefix: z.string(), expiresAt: z.string().nullable() })
      .nullable(),
    allowedModels: z.array(z.string()).describe('Exact names and provider/* patterns; empty allows every model'),
    limits: z.object({ key: LimitsResponse.nullable(), team: LimitsResponse.nullable() }),
    budgets: z.object({ key: BudgetResponse.nullable(), team: BudgetResponse.nullable() }),
  })
  .meta({ id: 'ApiKeyPrincipal' });
type MeResponse = z.infer<typeof MeResponse>;

function limits(value: Limits | undefined): z.infer<typeof LimitsResponse> | null {
  if (!value) return null;
  return {
    rpm: value.rpm ?? null,
    tpm: value.tpm ?? null,
    budgetUsd: value.budgetUsd ?? null,
    budgetPeriod: value.budgetPeriod,
  };
}

function budget(value: BudgetStatus | undefined): z.infer<typeof BudgetResponse> | null {
  return value ? { ...value, resetsAt: value.resetsAt?.toISOString() ?? null } : null;
}

/** `GET /v1/me`: what the calling key is: its team, limits, allowed models and budget spend. Not rate limited. */
@ApiTags('keys')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/me')
export class MeController {
  constructor(private readonly limiter: RequestLimiter) {}

  @Get()
  @ApiOperation({ summary: "The calling API key: its team, limits, allowed models and budgets' spend" })
  @ApiOkResponse({ standardSchema: MeResponse })
  @ApiUnauthorizedResponse({ description: 'Missing, unknown, revoked or expired key' })
  async me(@CurrentPrincipal() principal: Principal): Promise<MeResponse> {
    const budgets = await this.limiter.budgetStatus(principal);
    return {
      object: 'api_key.principal',
      kind: principal.kind === 'master' ? 'master' : 'api_key',
      team: principal.teamId ? { id: principal.teamId, name: principal.teamName ?? null } : null,
      key: principal.apiKeyId
        ? {
            id: principal.apiKeyId,
            name: principal.keyName ?? null,
            prefix: principal.label,
            expiresAt: principal.keyExpiresAt?.toISOString() ?? null,
          }
        : null,
      allowedModels: principal.allowedModels,
      limits: { key: limits(principal.keyLimits), team: limits(principal.teamLimits) },
      budgets: { key: budget(budgets.key), team: budget(budgets.team) },
    };
  }
}
