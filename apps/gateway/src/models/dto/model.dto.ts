import { z } from 'zod';

/** One entry of `GET /v1/models`, exactly as OpenAI shapes it. */
export const ModelResponse = z
  .object({
    id: z.string().describe('`provider/model`, a route alias or an agent'),
    object: z.literal('model'),
    created: z.number().describe('Unix seconds'),
    owned_by: z.string().describe("The upstream's owner, `gateway-route` for aliases, `gateway-agent` for agents"),
  })
  .meta({ id: 'Model' });
export type ModelResponse = z.infer<typeof ModelResponse>;

export const ModelListResponse = z
  .object({ object: z.literal('list'), data: z.array(ModelResponse) })
  .meta({ id: 'ModelList' });
export type ModelListResponse = z.infer<typeof ModelListResponse>;
