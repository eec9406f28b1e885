import { z } from 'zod';
import { jsonObject, modelName, textOrItems } from './schema-helpers';

/**
 * `POST /v1/chat/completions` body validation. Loose objects: fields not named
 * here pass through to the providers that understand them. Every error names
 * the field at fault (`messages[0].role`, `tools[1].function.name`...).
 */

/** OpenAI's limits on names of tools and response formats. */
export const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
export const MAX_OUTPUT_TOKENS = 1_000_000;

export const functionName = z.string().regex(FUNCTION_NAME, 'must be 1-64 letters, digits, underscores or dashes');

export const maxTokens = z.number().int().positive().max(MAX_OUTPUT_TOKENS).nullish();
export const choiceCount = z.number().int().min(1).max(128).nullish();
export const temperature = z.number().min(0).max(2).nullish();
export const topP = z.number().min(0).max(1).nullish();
export const stop = z
  .union([z.string(), z.array(z.string()).max(4)], { error: 'stop must be a string or an array of at most 4 strings' })
  .nullish();

const textPart = z.looseObject({ text: z.string() });

const userParts = {
  text: textPart,
  image_url: z.looseObject({ image_url: z.looseObject({ url: z.string().min(1), detail: z.string().optional() }) }),
  input_audio: z.looseObject({ input_audio: z.looseObject({ data: z.string(), format: z.string() }) }),
  file: z.looseObject({ file: z.looseObject({}) }),
};

const textContent = (role: string) =>
  textOrItems({ text: textPart }, `content of a ${role} message must be a string or an array of text parts`, true);

const toolCall = z.discriminatedUnion(
  'type',
  [
    z.looseObject({
      id: z.string().min(1),
      type: z.literal('function'),
      function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
    }),
    // OpenAI's free-form tools: the call's input is text (see customTool).
    z.looseObject({
      id: z.string().min(1),
      type: z.literal('custom'),
      custom: z.looseObject({ name: z.string().min(1), input: z.string() }),
    }),
  ],
  { error: 'type must be function or custom' },
);

const name = z.string().optional();

const systemMessage = z.looseObject({ role: z.literal('system'), content: textContent('system'), name });
const developerMessage = z.looseObject({ role: z.literal('developer'), content: textContent('developer'), name });
const userMessage = z.looseObject({
  role: z.literal('user'),
  content: textOrItems(userParts, 'content of a user message must be a string or an array of content parts'),
  name,
});
const assistantMessage = z
  .looseObject({
    role: z.literal('assistant'),
    content: textOrItems(
      { text: textPart, refusal: z.looseObject({ refusal: z.string() }) },
      'content of an assistant message must be a string, an array of text parts, or null',
      true,
    ).nullish(),
    tool_calls: z.array(toolCall).optional(),
    function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullish(),
    name,
  })
  .superRefine((msg, ctx) => {
    const hasCalls = (msg.tool_calls?.length ?? 0) > 0 || Boolean(msg.function_call);
    // A refusal as OpenAI answers one (`refusal` set, `content` null) is a turn with content too.
    const refused = typeof (msg as { refusal?: unknown }).refusal === 'string';
    if ((msg.content === null || msg.content === undefined) && !hasCalls && !('audio' in msg) && !refused) {
      ctx.addIssue({ code: 'custom', message: 'content is required unless tool_calls is set', path: ['content'] });
    }
  });
const toolMessage = z.looseObject({
  role: z.literal('tool'),
  content: textContent('tool'),
  tool_call_id: z
    .string({ error: 'tool_call_id is required: the id of the tool call this message answers' })
    .min(1, 'tool_call_id must not be empty'),
});
const functionMessage = z.looseObject({
  role: z.literal('function'),
  content: z.string().nullable(),
  name: z.string(),
});

export const chatMessageSchema = z
  .discriminatedUnion(
    'role',
    [systemMessage, developerMessage, userMessage, assistantMessage, toolMessage, functionMessage],
    { error: 'role must be one of system, developer, user, assistant, tool, function' },
  )
  .meta({ id: 'ChatMessage' });

/** A message of a conversation without tool results: what a prompt-only endpoint takes. */
export const promptMessageSchema = z.discriminatedUnion(
  'role',
  [systemMessage, developerMessage, userMessage, assistantMessage],
  { error: 'role must be one of system, developer, user, assistant' },
);

const functionTool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: functionName,
    description: z.string().optional(),
    parameters: jsonObject.optional(),
    strict: z.boolean().nullish(),
  }),
});

/**
 * OpenAI's free-form tool (GPT-5): the model writes its input as text, free or
 * in a grammar's `format`. Passed on to OpenAI-shaped providers; the others
 * refuse it, naming it (`customToolParam`).
 */
const customTool = z.looseObject({
  type: z.literal('custom'),
  custom: z.looseObject({
    name: functionName,
    description: z.string().optional(),
    format: jsonObject.optional(),
  }),
});

const tool = z.discriminatedUnion('type', [functionTool, customTool], {
  error: 'type must be function or custom',
});

const toolChoice = z.union(
  [
    z.enum(['none', 'auto', 'required']),
    z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
    z.looseObject({ type: z.literal('custom'), custom: z.looseObject({ name: z.string().min(1) }) }),
    z.looseObject({
      type: z.literal('allowed_tools'),
      allowed_tools: z.looseObject({ mode: z.enum(['auto', 'required']), tools: z.array(jsonObject) }),
    }),
  ],
  {
    error:
      'tool_choice must be "none", "auto", "required", {"type": "function", "function": {"name": ...}}, ' +
      '{"type": "custom", "custom": {"name": ...}} or {"type": "allowed_tools", "allowed_tools": {...}}',
  },
);

const responseFormat = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ type: z.literal('text') }),
    z.looseObject({ type: z.literal('json_object') }),
    z.looseObject({
      type: z.literal('json_schema'),
      json_schema: z.looseObject({
        name: functionName,
        description: z.string().optional(),
        schema: jsonObject.optional(),
        strict: z.boolean().nullish(),
      }),
    }),
  ],
  { error: 'type must be one of text, json_object, json_schema' },
);

/** The chat completions body; give it to `@Body({ schema })`. */
export const chatRequestSchema = z
  .looseObject({
    model: modelName,
    messages: z.array(chatMessageSchema).min(1, 'messages must contain at least one message'),
    n: choiceCount,
    max_tokens: maxTokens,
    max_completion_tokens: maxTokens,
    temperature,
    top_p: topP,
    stream: z.boolean().nullish(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
    tools: z.array(tool).optional(),
    tool_choice: toolChoice.optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: responseFormat.optional(),
    stop,
    seed: z.number().int().nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
    logit_bias: z
      .record(z.string(), z.number().min(-100).max(100), {
        error: 'logit_bias must map token ids to numbers from -100 to 100',
      })
      .nullish(),
    metadata: z.record(z.string(), z.string(), { error: 'metadata must map keys to string values' }).nullish(),
    user: z.string().optional(),
  })
  .meta({ id: 'ChatCompletionRequest' });
