import { z } from 'zod';
import { CHAT_ONLY_PARAMETERS } from './chat-parameters';
import { FUNCTION_NAME, MAX_OUTPUT_TOKENS } from './chat-request.schema';
import { jsonObject, modelName, textOrItems } from './schema-helpers';

/**
 * `POST /v1/messages` body validation (Anthropic Messages API). Loose: fields this
 * schema does not name pass through, except Chat Completions arguments the
 * Messages API has no field for (`n`, `logprobs`...), which are refused. Block types the gateway does not translate
 * are left to `anthropicToChat`, which rejects them naming the block.
 */

const text = z.looseObject({ text: z.string() });

const imageSource = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string().min(1) }),
  z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
  z.looseObject({ type: z.literal('file'), file_id: z.string().min(1) }),
]);

const resultBlocks = {
  text,
  image: z.looseObject({ source: imageSource }),
};

const contentBlocks = {
  ...resultBlocks,
  document: z.looseObject({ source: z.looseObject({ type: z.string() }) }),
  tool_use: z.looseObject({ id: z.string().min(1), name: z.string().min(1), input: jsonObject }),
  // Sent back unchanged: Anthropic checks the signature against the text.
  thinking: z.looseObject({ thinking: z.string(), signature: z.string() }),
  redacted_thinking: z.looseObject({ data: z.string() }),
  tool_result: z.looseObject({
    tool_use_id: z.string().min(1),
    content: textOrItems(resultBlocks, 'content must be a string or an array of text and image blocks').optional(),
    is_error: z.boolean().optional(),
  }),
};

const message = z.looseObject({
  role: z.enum(['user', 'assistant', 'system'], { error: "role must be one of 'user', 'assistant', 'system'" }),
  content: textOrItems(contentBlocks, 'content must be a string or an array of content blocks'),
});

const tool = z
  .looseObject({
    // Anthropic's server tools and toolsets (`computer_toolset_…`, `mcp_toolset`) may have no name.
    name: z.string().optional(),
    description: z.string().optional(),
    input_schema: jsonObject.optional(),
    type: z.string().nullish(),
  })
  .superRefine((value, ctx) => {
    const custom = value.type === undefined || value.type === null || value.type === 'custom';
    if (!custom) return;
    // Anthropic's rule for tool names, which is also OpenAI's: any upstream accepts them.
    if (value.name === undefined || !FUNCTION_NAME.test(value.name)) {
      ctx.addIssue({ code: 'custom', message: 'must be 1-64 letters, digits, underscores or dashes', path: ['name'] });
    }
    if (value.input_schema === undefined) {
      ctx.addIssue({ code: 'custom', message: 'input_schema is required', path: ['input_schema'] });
    }
  });

const toolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({
    type: z.literal('tool'),
    name: z.string().min(1),
    disable_parallel_tool_use: z.boolean().optional(),
  }),
  z.looseObject({ type: z.literal('none') }),
]);

/** The Messages request body; give it to `@Body({ schema })` on `POST /v1/messages`. */
const messagesBody = z.looseObject({
  model: modelName,
  max_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS),
  messages: z.array(message).min(1),
  system: textOrItems({ text }, 'system must be a string or an array of text blocks', true).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  thinking: z.looseObject({ type: z.string() }).optional(),
});

/** Refuses the Chat Completions arguments the Messages API has no field for (see {@link CHAT_ONLY_PARAMETERS}). */
function noChatOnlyFields(body: Record<string, unknown>, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(body)) {
    if (!CHAT_ONLY_PARAMETERS.has(key)) continue;
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: `${key} is a Chat Completions parameter: the Messages API has no such field (use /v1/chat/completions for it)`,
    });
  }
}

export const anthropicMessagesSchema = messagesBody
  .superRefine(noChatOnlyFields)
  .meta({ id: 'AnthropicMessageRequest' });

export type AnthropicMessagesBody = z.infer<typeof anthropicMessagesSchema>;

/** The `count_tokens` body: a Messages body whose `max_tokens` is optional (only the prompt is counted). */
export const anthropicCountTokensSchema = messagesBody
  .partial({ max_tokens: true })
  .superRefine(noChatOnlyFields)
  .meta({ id: 'AnthropicCountTokensRequest' });
