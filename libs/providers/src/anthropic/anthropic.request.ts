import type {
  AnthropicContentBlockParam,
  AnthropicMessageParam,
  AnthropicMessageParams,
  AnthropicTool,
  AnthropicToolChoice,
  ChatAssistantMessage,
  ChatMessage,
  ChatReasoning,
  ChatRequest,
  ChatTool,
  ChatToolChoice,
  AnthropicTextBlockParam,
} from '@app/contracts';
import { allowedToolNames, unsupportedByProvider } from '@app/contracts';
import {
  assistantTextBlocks,
  cacheControlOf,
  invalid,
  plainText,
  thinkingBlocks,
  userBlocks,
} from './anthropic.content';
import { addAnthropicFields, betasOf } from './anthropic.fields';

/** The API version that still accepts `temperature` / `top_p` / `top_k` (2026-10-21 rejects them). */
export const ANTHROPIC_SAMPLING_API_VERSION = '2023-06-01';
export const DEFAULT_MAX_TOKENS = 4096;

/**
 * Messages params as sent (the adapter sets `stream`). The sampling fields left the
 * SDK's types with API version 2026-10-21 but older versions still take them.
 */
export type AnthropicParams = AnthropicMessageParams & { temperature?: number; top_p?: number; top_k?: number };

export interface AnthropicRequestOptions {
  /** The model id sent upstream. */
  model: string;
  /** The `anthropic-version` the request will carry. */
  apiVersion: string;
}

export interface AnthropicRequestPlan {
  params: AnthropicParams;
  /** Name of the tool forced to carry a `response_format` answer; its input becomes the content. */
  jsonTool?: string;
  /** The request's `betas`, for its `anthropic-beta` header (comma-separated). */
  betas?: string;
}

type Effort = 'low' | 'medium' | 'high' | 'xhigh';
const EFFORTS: ReadonlySet<string> = new Set<Effort>(['low', 'medium', 'high', 'xhigh']);

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** OpenAI parameters with no Anthropic equivalent are refused, never dropped. */
function rejectUnsupported(req: ChatRequest): void {
  if (isSet(req.n) && req.n !== 1) throw unsupportedByProvider('n', 'n > 1 is not supported by this provider');
  if (req.logprobs) throw unsupportedByProvider('logprobs', 'logprobs are not supported by this provider');
  if (isSet(req.top_logprobs))
    throw unsupportedByProvider('top_logprobs', 'logprobs are not supported by this provider');
  if (isSet(req.audio) || req.modalities?.includes('audio')) {
    throw unsupportedByProvider('modalities', 'audio output is not supported by this provider');
  }
  if (isSet(req.prediction))
    throw unsupportedByProvider('prediction', 'predicted outputs are not supported by this provider');
  if (req.logit_bias && Object.keys(req.logit_bias).length > 0) {
    throw unsupportedByProvider('logit_bias', 'logit_bias is not supported by this provider');
  }
  for (const param of ['frequency_penalty', 'presence_penalty'] as const) {
    if (isSet(req[param]) && req[param] !== 0)
      throw unsupportedByProvider(param, `${param} is not supported by this provider`);
  }
  if (isSet(req.functions) || isSet(req.function_call)) {
    throw unsupportedByProvider(
      req.functions ? 'functions' : 'function_call',
      'use tools / tool_choice instead of functions',
    );
  }
  if (isSet(req.web_search_options))
    throw unsupportedByProvider('web_search_options', 'web search is not supported by this provider');
  if (isSet(req.verbosity)) throw unsupportedByProvider('verbosity', 'verbosity is not supported by this provider');
}

type Sampling = { temperature?: number; top_p?: number; top_k?: number };

function samplingParams(req: ChatRequest, apiVersion: string): Sampling {
  const out: Sampling = {};
  for (const param of ['temperature', 'top_p', 'top_k'] as const) {
    const value = req[param] as number | null | undefined;
    if (value === undefined || value === null) continue;
    if (apiVersion !== ANTHROPIC_SAMPLING_API_VERSION) {
      throw invalid(
        param,
        `${param} is not accepted by Anthropic API version ${apiVersion}; remove it, or configure the provider with apiVersion ${ANTHROPIC_SAMPLING_API_VERSION}`,
      );
    }
    out[param] = value;
  }
  return out;
}

/** Thinking first, as Anthropic wrote it, then text, then tool calls. */
function assistantBlocks(msg: ChatAssistantMessage, i: number): AnthropicContentBlockParam[] {
  const thinking = (msg as ChatReasoning).thinking_blocks;
  // A refusal OpenAI answered (`refusal`, its content empty) is what the model said: text, as refusal parts are.
  const refusal = (msg as { refusal?: unknown }).refusal;
  const said = assistantTextBlocks(msg.content);
  const text =
    said.length === 0 && typeof refusal === 'string' && refusal !== ''
      ? [{ type: 'text' as const, text: refusal }]
      : said;
  const blocks: AnthropicContentBlockParam[] =
    thinking === undefined || thinking === null ? text : [...thinkingBlocks(thinking, i), ...text];
  (msg.tool_calls ?? []).forEach((call, j) => {
    const param = `messages[${i}].tool_calls[${j}]`;
    if (call.type !== 'function')
      throw unsupportedByProvider(param, 'only function tool calls are supported by this provider');
    let input: unknown;
    try {
      input = call.function.arguments.trim() === '' ? {} : (JSON.parse(call.function.arguments) as unknown);
    } catch {
      throw invalid(`${param}.function.arguments`, 'tool call arguments must be a JSON object');
    }
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input });
  });
  return blocks;
}

const EMPTY_USER_CONTENT = 'a user message must have some non-empty content for this provider';

/**
 * System and developer messages become `system` (joined, in order), or the one user
 * turn when there is nothing else; tool results become `tool_result` blocks of one
 * user turn per run of consecutive tool messages.
 */
function convertMessages(messages: ChatMessage[]): {
  system?: string | AnthropicTextBlockParam[];
  messages: AnthropicMessageParam[];
} {
  const system: AnthropicTextBlockParam[] = [];
  const out: AnthropicMessageParam[] = [];
  let toolTurn: AnthropicContentBlockParam[] | undefined;
  messages.forEach((msg, i) => {
    if (msg.role !== 'tool') toolTurn = undefined;
    switch (msg.role) {
      case 'system':
      case 'developer':
        system.push(...systemBlocks(msg.content));
        return;
      case 'user': {
        const content = userBlocks(msg.content, `messages[${i}].content`);
        // Empty text parts are left out; Anthropic refuses a turn with nothing left (`content: []` or "").
        if (content.length === 0) throw unsupportedByProvider(`messages[${i}].content`, EMPTY_USER_CONTENT);
        out.push({ role: 'user', content });
        return;
      }
      case 'assistant': {
        const content = assistantBlocks(msg, i);
        if (content.length > 0) out.push({ role: 'assistant', content });
        return;
      }
      case 'tool': {
        const block: AnthropicContentBlockParam = {
          type: 'tool_result',
          tool_use_id: msg.tool_call_id,
          content: plainText(msg.content),
        };
        if (toolTurn) toolTurn.push(block);
        else out.push({ role: 'user', content: (toolTurn = [block]) });
        return;
      }
      default:
        throw unsupportedByProvider(`messages[${i}].role`, `role '${msg.role}' is not supported by this provider`);
    }
  });
  // OpenAI answers a conversation of instructions alone; Anthropic needs a turn to answer.
  if (out.length === 0 && system.length > 0) return { messages: [{ role: 'user', content: system }] };
  return { system: joinSystem(system), messages: out };
}

/** System text as blocks, keeping prompt-caching marks (`cache_control` on a content part). */
function systemBlocks(content: ChatMessage['content']): AnthropicTextBlockParam[] {
  if (typeof content === 'string' || !Array.isArray(content)) {
    const text = plainText(content);
    return text ? [{ type: 'text', text }] : [];
  }
  return (content as Array<{ text?: string }>).flatMap((part): AnthropicTextBlockParam[] =>
    part.text ? [{ type: 'text', text: part.text, ...cacheControlOf(part) }] : [],
  );
}

/** A plain string unless some block asks to be cached, which only the block form can say. */
function joinSystem(blocks: AnthropicTextBlockParam[]): string | AnthropicTextBlockParam[] | undefined {
  if (blocks.length === 0) return undefined;
  if (blocks.some((block) => block.cache_control)) return blocks;
  return blocks.map((block) => block.text).join('\n\n');
}

function convertTools(tools: ChatTool[] | undefined): AnthropicTool[] {
  return (tools ?? []).map((tool, i): AnthropicTool => {
    if (tool.type !== 'function')
      throw unsupportedByProvider(`tools[${i}]`, 'only function tools are supported by this provider');
    const fn = tool.function;
    return {
      name: fn.name,
      ...(fn.description ? { description: fn.description } : {}),
      input_schema: { properties: {}, ...fn.parameters, type: 'object' },
      ...(fn.strict ? { strict: true } : {}),
    };
  });
}

function convertToolChoice(
  choice: ChatToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...disable } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  if (choice.type === 'function') return { type: 'tool', name: choice.function.name, ...disable };
  // The tools it allows are the only ones offered (see toolsAndChoice).
  if (choice.type === 'allowed_tools')
    return { type: choice.allowed_tools.mode === 'required' ? 'any' : 'auto', ...disable };
  throw unsupportedByProvider('tool_choice', `tool_choice type '${choice.type}' is not supported by this provider`);
}

interface JsonTool {
  tool: AnthropicTool;
}

/** `response_format` json_schema / json_object as one tool whose input is the answer. */
function jsonFormatTool(req: ChatRequest): JsonTool | undefined {
  const format = req.response_format;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') {
    const schema = { type: 'object' as const, additionalProperties: true };
    return {
      tool: { name: 'json_object', description: 'Reply with your answer as a JSON object.', input_schema: schema },
    };
  }
  if (format.type !== 'json_schema') throw invalid('response_format', 'unsupported response_format type');
  const spec = format.json_schema;
  const schema = spec.schema ?? {};
  if (schema['type'] !== undefined && schema['type'] !== 'object') {
    throw invalid('response_format.json_schema.schema', 'the schema of the response must describe an object');
  }
  const description = spec.description ?? `Reply with your answer as a JSON object matching the ${spec.name} schema.`;
  const tool: AnthropicTool = { name: spec.name, description, input_schema: { ...schema, type: 'object' } };
  // Strict, as a strict function tool is: Anthropic keeps the input to the schema, as OpenAI keeps its answer.
  return { tool: spec.strict === true ? { ...tool, strict: true } : tool };
}

/**
 * The tools and `tool_choice`, with `response_format` as one more tool (see
 * {@link jsonFormatTool}). `allowed_tools` offers only the tools it allows,
 * Anthropic having no such choice.
 */
function toolsAndChoice(req: ChatRequest): Pick<AnthropicParams, 'tools' | 'tool_choice'> & { jsonTool?: string } {
  const choiceOf = req.tool_choice;
  const names =
    typeof choiceOf === 'object' && choiceOf.type === 'allowed_tools' ? allowedToolNames(choiceOf) : undefined;
  const tools = convertTools(req.tools).filter((tool) => !names || names.has(tool.name));
  const choice = tools.length ? convertToolChoice(req.tool_choice, req.parallel_tool_calls) : undefined;
  const json = jsonFormatTool(req);
  // A turn that must call one of the client's tools never answers in the format: no format tool to call instead.
  if (!json || choice?.type === 'any' || choice?.type === 'tool') {
    return tools.length ? { tools, ...(choice ? { tool_choice: choice } : {}) } : {};
  }
  const name = json.tool.name;
  if (tools.some((tool) => tool.name === name)) {
    throw invalid('response_format', `response_format name '${name}' collides with a tool of the same name`);
  }
  if (tools.length === 0 || choice?.type === 'none') {
    return { tools: [json.tool], tool_choice: { type: 'tool', name }, jsonTool: name };
  }
  // With callable tools the model either calls them or answers through the JSON tool, one tool a turn:
  // called together, a stream would have sent the tool calls before the answer that makes them moot.
  return {
    tools: [...tools, json.tool],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    jsonTool: name,
  };
}

function effortOf(req: ChatRequest): Pick<AnthropicParams, 'output_config'> {
  const effort = req.reasoning_effort;
  if (effort === undefined || effort === null) return {};
  if (!EFFORTS.has(effort))
    throw unsupportedByProvider('reasoning_effort', `reasoning_effort '${effort}' is not supported by this provider`);
  return { output_config: { effort: effort as Effort } };
}

/**
 * `stop` as `stop_sequences`. Anthropic refuses an empty sequence (which stops
 * nothing on OpenAI, so it is left out) and one of only whitespace, such as the
 * common `"\n"`, which would change the answer if dropped: refused, naming `stop`.
 */
function stopSequences(stop: ChatRequest['stop']): Pick<AnthropicParams, 'stop_sequences'> {
  const list = typeof stop === 'string' ? [stop] : (stop ?? []);
  const sequences = list.filter((sequence) => sequence !== '');
  if (sequences.some((sequence) => sequence.trim() === '')) {
    throw unsupportedByProvider(
      'stop',
      'stop sequences made only of whitespace (such as "\\n") are not supported by this provider',
    );
  }
  return sequences.length ? { stop_sequences: sequences } : {};
}

/** Pure: an OpenAI chat request as Anthropic Messages params. */
export function toAnthropicRequest(req: ChatRequest, opts: AnthropicRequestOptions): AnthropicRequestPlan {
  rejectUnsupported(req);
  const { system, messages } = convertMessages(req.messages);
  const { jsonTool, ...tooling } = toolsAndChoice(req);
  const user = req.user ?? req.safety_identifier;
  const params: AnthropicParams = {
    model: opts.model,
    max_tokens: req.max_completion_tokens ?? req.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
    ...(system ? { system } : {}),
    ...tooling,
    ...stopSequences(req.stop),
    ...(user ? { metadata: { user_id: user } } : {}),
    ...effortOf(req),
    ...samplingParams(req, opts.apiVersion),
  };
  addAnthropicFields(req, params);
  const betas = betasOf(req['betas']);
  return betas ? { params, jsonTool, betas } : { params, jsonTool };
}
