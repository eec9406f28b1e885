import { z } from 'zod';
import { plainText, providerNameSchema, timeoutMsSchema } from '@app/completions';
import { ROUTE_STRATEGY_VALUES, type RouteRecord } from '@app/db';

/** A route alias: what clients send as `model`; never contains '/' (that would read as provider/model). */
export const RouteAlias = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/,
    "must be 1-128 letters, digits or '.', '_', ':', '@', '+', '-' (no '/' or spaces)",
  );

export const RouteStrategy = z.enum(ROUTE_STRATEGY_VALUES);

const RouteTargetBody = z.strictObject({
  provider: providerNameSchema.describe('A configured provider (stored or from the environment)'),
  model: plainText(256).min(1).describe("The provider's own model id"),
  weight: z.number().int().min(1).max(1000).optional().describe('For the weighted strategy (default 1)'),
  timeoutMs: timeoutMsSchema
    .nullable()
    .optional()
    .describe('Bound on this target (default: the route, then the provider)'),
});

const routeFields = {
  alias: RouteAlias,
  strategy: RouteStrategy.describe('fallback (in order), round-robin, weighted, least-latency (recent p50)'),
  targets: z.array(RouteTargetBody).min(1).max(32).describe('In fallback order'),
  timeoutMs: timeoutMsSchema.nullable().optional().describe('Per-target timeout unless the target sets one'),
  description: plainText(500).nullable().optional(),
  enabled: z.boolean().optional().describe('A disabled route is not resolved (default true)'),
};

export const CreateRouteBody = z.strictObject(routeFields).meta({ id: 'CreateRoute' });
export type CreateRouteBody = z.infer<typeof CreateRouteBody>;

export const UpdateRouteBody = z
  .strictObject(routeFields)
  .partial()
  .meta({ id: 'UpdateRoute', description: 'Changed fields; `targets` replaces the whole list' });
export type UpdateRouteBody = z.infer<typeof UpdateRouteBody>;

export const RouteResponse = z
  .object({
    id: z.string(),
    alias: z.string(),
    strategy: RouteStrategy,
    targets: z.array(
      z.object({ provider: z.string(), model: z.string(), weight: z.number(), timeoutMs: z.number().nullable() }),
    ),
    timeoutMs: z.number().nullable(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Route' });
export type RouteResponse = z.infer<typeof RouteResponse>;

export function toRouteResponse(route: RouteRecord): RouteResponse {
  return {
    id: route.id,
    alias: route.alias,
    strategy: route.strategy,
    targets: route.targets.map((t) => ({
      provider: t.provider,
      model: t.model,
      weight: t.weight,
      timeoutMs: t.timeoutMs,
    })),
    timeoutMs: route.timeoutMs,
    description: route.description,
    enabled: route.enabled,
    createdAt: route.createdAt.toISOString(),
    updatedAt: route.updatedAt.toISOString(),
  };
}
