import { z } from 'zod';
import {
  apiKeySchema,
  httpUrlSchema,
  modelListSchema,
  providerKindSchema,
  providerNameSchema,
  providerOptionsSchema,
  timeoutMsSchema,
} from '@app/completions';
import { REDACTED_HEADER_VALUE } from '@app/db';

export const ProviderStatusResponse = z
  .object({
    name: z.string(),
    kind: providerKindSchema,
    source: z.enum(['database', 'environment']),
    enabled: z.boolean(),
    health: z
      .object({ ok: z.boolean(), latencyMs: z.number(), message: z.string().optional(), checkedAt: z.string() })
      .nullable()
      .describe('The last background health check; null before the first one or when disabled'),
    circuit: z.enum(['closed', 'open', 'half-open']).nullable().describe("The router's circuit breaker state"),
    models: z.object({
      total: z.number(),
      discovered: z.number(),
      fetchedAt: z.string().nullable(),
      error: z.string().nullable().describe('The last discovery failure (the previous list is kept)'),
    }),
    problem: z.string().nullable().describe('Why the provider cannot be used, if so'),
  })
  .meta({ id: 'ProviderStatus' });
export type ProviderStatusResponse = z.infer<typeof ProviderStatusResponse>;

export const ProviderStatusListResponse = z
  .object({ object: z.literal('list'), data: z.array(ProviderStatusResponse) })
  .meta({ id: 'ProviderStatusList' });
export type ProviderStatusListResponse = z.infer<typeof ProviderStatusListResponse>;

/** A provider configuration to check; nothing is stored. */
export const ProviderTestBody = z
  .strictObject({
    name: providerNameSchema.optional().describe('Used in messages (default "test")'),
    kind: providerKindSchema,
    baseUrl: httpUrlSchema.optional(),
    apiKey: apiKeySchema.optional(),
    models: modelListSchema.optional(),
    timeoutMs: timeoutMsSchema.optional(),
    options: providerOptionsSchema.optional(),
  })
  .superRefine((body, ctx) => {
    // The admin API shows stored header values as this placeholder; nothing is stored here for it to stand for.
    for (const [name, value] of Object.entries(body.options?.headers ?? {})) {
      if (value !== REDACTED_HEADER_VALUE) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['options', 'headers', name],
        message: `"${REDACTED_HEADER_VALUE}" stands for a stored value, and nothing is stored for a test; send the value`,
      });
    }
  })
  .meta({ id: 'ProviderTest' });
export type ProviderTestBody = z.infer<typeof ProviderTestBody>;

export const ProviderTestResponse = z
  .object({
    ok: z.boolean().describe('The upstream answered its health check'),
    latencyMs: z.number(),
    message: z.string().optional().describe('Why not (credentials scrubbed)'),
    models: z.array(z.string()).describe('Up to 20 of the models it reports'),
    modelCount: z.number().nullable(),
  })
  .meta({ id: 'ProviderTestResult' });
export type ProviderTestResponse = z.infer<typeof ProviderTestResponse>;

export const ModelsRefreshQuery = z.strictObject({
  refresh: z
    .enum(['true', 'false'])
    .optional()
    .describe('Discover again before answering; a failed discovery answers 502 (504 on timeout)'),
});
export type ModelsRefreshQuery = z.infer<typeof ModelsRefreshQuery>;
