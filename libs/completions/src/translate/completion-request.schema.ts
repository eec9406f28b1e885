import { z } from 'zod';
import { choiceCount, MAX_OUTPUT_TOKENS, stop, temperature, topP } from './chat-request.schema';
import { modelName } from './schema-helpers';

/** `POST /v1/completions` (legacy) and `POST /v1/embeddings` body validation. Loose objects. */

type TextsOrTokens = string | string[] | number[] | number[][];

function isTokenId(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isTokenIds(value: unknown): boolean {
  return Array.isArray(value) && value.every(isTokenId);
}

/**
 * One kind of item throughout, told by the first, each item checked once: linear in
 * the input. (A zod union of the four forms tried each in turn, with an issue made
 * per item of each form that failed: a flat list of millions of token ids held the
 * event loop for seconds.)
 */
function isTextsOrTokens(value: unknown): value is TextsOrTokens {
  if (typeof value === 'string') return true;
  if (!Array.isArray(value)) return false;
  if (value.length === 0) return true;
  const first: unknown = value[0];
  if (typeof first === 'string') return value.every((item) => typeof item === 'string');
  if (typeof first === 'number') return value.every(isTokenId);
  return value.every(isTokenIds);
}

/** The JSON Schema of the four forms, for the OpenAPI document (the check itself is {@link isTextsOrTokens}). */
const TEXTS_OR_TOKENS_SCHEMA = {
  anyOf: [
    { type: 'string' },
    { type: 'array', items: { type: 'string' } },
    { type: 'array', items: { type: 'integer', minimum: 0 } },
    { type: 'array', items: { type: 'array', items: { type: 'integer', minimum: 0 } } },
  ],
};

/**
 * A prompt or an embedding input: text, texts, token ids, or lists of token ids. A
 * text or any list (documented as the four forms), refined by the type guard
 * {@link isTextsOrTokens}; checks after it run only on what passed it.
 */
function textsOrTokens(field: string) {
  const error = `${field} must be a string, an array of strings, an array of token ids, or an array of token id arrays`;
  return z
    .union([z.string(), z.array(z.unknown())], { error })
    .refine(isTextsOrTokens, { error, abort: true })
    .meta(TEXTS_OR_TOKENS_SCHEMA);
}

/** The legacy completions body; give it to `@Body({ schema })`. */
export const completionRequestSchema = z
  .looseObject({
    model: modelName,
    prompt: textsOrTokens('prompt'),
    // 0 is OpenAI's way to score a prompt (with `echo` and `logprobs`) without continuing it.
    max_tokens: z.number().int().min(0).max(MAX_OUTPUT_TOKENS).nullish(),
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

/** Empty inputs embed nothing and upstreams reject them; so do batches past the cap. */
function checkEmbeddingInput(input: TextsOrTokens, ctx: z.core.$RefinementCtx): void {
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
