import { z } from 'zod';
import { functionName, maxTokens, promptMessageSchema, temperature } from './chat-request.schema';
import { modelName } from './schema-helpers';

/**
 * `POST /v1/generate/structured` body validation: the gateway's own endpoint, so a
 * strict object; its messages and sampling fields are checked as chat's are.
 */
export const structuredRequestSchema = z
  .strictObject({
    model: modelName,
    messages: z.array(promptMessageSchema).min(1, 'messages must contain at least one message').optional(),
    prompt: z.string().min(1).optional(),
    schema: z.record(z.string(), z.unknown()),
    name: functionName.optional(),
    temperature,
    max_tokens: maxTokens,
  })
  .refine((body) => body.messages || body.prompt, { message: 'Give either messages or prompt', path: ['messages'] })
  // Both would leave one unsaid: the prompt was silently left out.
  .refine((body) => !(body.messages && body.prompt), {
    message: 'Give either messages or prompt, not both (put the prompt in a user message)',
    path: ['prompt'],
  })
  .meta({ id: 'StructuredGenerationRequest' });
