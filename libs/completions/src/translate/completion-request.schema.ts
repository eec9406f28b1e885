import { z } from 'zod';
import { choiceCount, maxTokens, stop, temperature, topP } from './chat-request.schema';
import { modelName } from './schema-helpers';

/** `POST /v1/completions` (legacy) and `POST /v1/embeddings` body validation. Loose objects. */

const tokenIds = z.array(z.number().int().nonnegative());

/** A prompt or an embedding input: text, texts, token ids, or lists of token ids. */
function textsOrTokens(field: string) {
  return z.union([z.string(), z.array(z.string()), tokenIds, z.array(tokenIds)], {
    error: `${field} must be a string, an array of strings, an array of token ids, or an array of token id arrays`,
  });
}

/** The legacy completions body; give it to `@Body({ schema })`. */
export const completionRequestSchema = z
  .looseObject({
    model: modelName,
    prompt: textsOrTokens('prompt'),
    max_tokens: maxTokens,
    n: choiceCount,
    best_of: z.number().int().min(1).max(20).nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
    suffix: z.string().nullish(),
    echo: z.boolean().nullish(),
    logprobs: z.number().int().min(0).max(5).nullish(),
    temperature,
    top_p: topP,
    stop,
    seed: z.number().int().nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    user: z.string().optional(),
  })
  .meta({ id: 'CompletionRequest' });

/** OpenAI's cap on inputs per embeddings request. */
export const MAX_EMBEDDING_INPUTS = 2048;

type EmbeddingInput = string | string[] | number[] | number[][];

/** Empty inputs embed nothing and upstreams reject them; so do batches past the cap. */
function checkEmbeddingInput(input: EmbeddingInput, ctx: z.core.$RefinementCtx): void {
  if (input.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'input must not be empty' });
    return;
  }
  if (typeof input === 'string') return;
  if (input.length > MAX_EMBEDDING_INPUTS) {
    ctx.addIssue({ code: 'custom', message: `input must have at most ${MAX_EMBEDDING_INPUTS} items` });
  }
  input.forEach((item, i) => {
    if (typeof item !== 'number' && item.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must not be empty', path: [i] });
    }
  });
}

/** The embeddings body; give it to `@Body({ schema })`. */
export const embeddingRequestSchema = z
  .looseObject({
    model: modelName,
    input: textsOrTokens('input').superRefine(checkEmbeddingInput),
    encoding_format: z.enum(['float', 'base64'], { error: 'encoding_format must be float or base64' }).optional(),
    dimensions: z.number().int().positive().optional(),
    user: z.string().optional(),
  })
  .meta({ id: 'EmbeddingRequest' });
