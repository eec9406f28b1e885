import { z } from 'zod';
import {
  type ProviderStatus,
  apiKeySchema,
  httpUrlSchema,
  modelListSchema,
  providerKindSchema,
  providerNameSchema,
  providerOptionsSchema,
  timeoutMsSchema,
} from '@app/completions';
import { redactOptions, redactUrl } from '@app/db';
import type { AdminProvider } from '../providers.service';

const providerFields = {
  name: providerNameSchema.describe("Unique slug, the `provider` of `provider/model` (no '/')"),
  kind: providerKindSchema,
  baseUrl: httpUrlSchema
    .nullable()
    .optional()
    .describe('Upstream base URL (http/https); required for openai-compatible and azure-openai'),
  apiKey: apiKeySchema
    .nullable()
    .optional()
    .describe('Write-only: stored encrypted, never returned (see hasApiKey); null removes it'),
  enabled: z.boolean().optional().describe('Disabled providers are never routed to (default true)'),
  models: modelListSchema.optional().describe('Models to list besides the discovered ones'),
  timeoutMs: timeoutMsSchema.nullable().optional().describe('Default per-call timeout in ms'),
  options: providerOptionsSchema
    .optional()
    .describe('Kind-specific settings; header values are write-only like the key'),
};

export const CreateProviderBody = z.strictObject(providerFields).meta({ id: 'CreateProvider' });
export type CreateProviderBody = z.infer<typeof CreateProviderBody>;

export const UpdateProviderBody = z.strictObject(providerFields).partial().meta({ id: 'UpdateProvider' });
export type UpdateProviderBody = z.infer<typeof UpdateProviderBody>;

const HealthResponse = z.object({
  ok: z.boolean(),
  latencyMs: z.number(),
  message: z.string().optional(),
  checkedAt: z.string(),
});

export const ProviderResponse = z
  .object({
    id: z.string().describe('Row id; `env:<name>` for providers configured through the environment'),
    name: z.string(),
    kind: providerKindSchema,
    source: z.enum(['database', 'environment']),
    baseUrl: z.string().nullable(),
    hasApiKey: z.boolean(),
    enabled: z.boolean(),
    models: z.array(z.string()),
    timeoutMs: z.number().nullable(),
    options: z.record(z.string(), z.unknown()),
    /** Environment providers only: a database provider of the same name replaces it. */
    overridden: z.boolean(),
    health: HealthResponse.nullable().describe('Last background health check'),
    problem: z.string().nullable().describe('Why the provider cannot be used, if so'),
    createdAt: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .meta({ id: 'Provider' });
export type ProviderResponse = z.infer<typeof ProviderResponse>;

export const ProbeResponse = z
  .object({
    ok: z.boolean(),
    latencyMs: z.number(),
    message: z.string().optional(),
    models: z.array(z.string()).describe('Up to 20 of the models it reports'),
    modelCount: z.number().nullable(),
  })
  .meta({ id: 'ProviderProbe' });
export type ProbeResponse = z.infer<typeof ProbeResponse>;

export const ProviderModelsResponse = z
  .object({
    provider: z.string(),
    configured: z.array(z.string()),
    discovered: z.array(
      z.object({
        id: z.string(),
        ownedBy: z.string(),
        created: z.number().optional(),
        description: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'ProviderModels' });
export type ProviderModelsResponse = z.infer<typeof ProviderModelsResponse>;

/**
 * A stored base URL as shown: a password saved before base URLs were refused with
 * credentials (`user:password@`) is masked; any other URL is shown as stored.
 */
function shownBaseUrl(url: string | null): string | null {
  return url && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url) ? redactUrl(url) : url;
}

export function toProviderResponse(provider: AdminProvider, status: ProviderStatus | undefined): ProviderResponse {
  const common = { health: status?.health ?? null, problem: status?.problem ?? null };
  if (provider.source === 'environment') {
    const { config } = provider;
    return {
      id: `env:${config.name}`,
      name: config.name,
      kind: config.kind,
      source: 'environment',
      baseUrl: config.baseUrl ?? null,
      hasApiKey: Boolean(config.apiKey),
      enabled: true,
      models: config.models ?? [],
      timeoutMs: config.timeoutMs ?? null,
      options: {},
      overridden: provider.overridden,
      ...common,
      createdAt: null,
      updatedAt: null,
    };
  }
  const { record } = provider;
  return {
    id: record.id,
    name: record.name,
    kind: record.kind,
    source: 'database',
    baseUrl: shownBaseUrl(record.baseUrl),
    hasApiKey: record.hasApiKey,
    enabled: record.enabled,
    models: record.models,
    timeoutMs: record.timeoutMs,
    options: redactOptions(record.options),
    overridden: false,
    ...common,
    createdAt: record.createdAt.toISOString(),
    updatedAt: record.updatedAt.toISOString(),
  };
}
