import {
  GatewayError,
  type AnthropicContentBlockParam,
  type AnthropicImageBlockParam,
  type AnthropicMessageParam,
  type AnthropicMessageRequest,
  type AnthropicTool,
  type AnthropicToolChoice,
  type AnthropicToolResultBlockParam,
  type ChatAssistantMessage,
  type ChatContentPart,
  type ChatFunctionToolCall,
  type ChatMessage,
  type ChatReasoning,
  type ChatRequest,
  type ChatThinkingBlock,
  type ChatTool,
  type ChatToolChoice,
  type ChatToolMessage,
  SchemaBudget,
  validateJsonSchemaDefinition,
} from '@app/contracts';

/**
 * Anthropic Messages request (inbound `POST /v1/messages`) -> the canonical chat
 * request, so an Anthropic SDK client reaches every provider. Pure. The reverse
 * of the Anthropic provider's outbound mapping: the two compose losslessly for
 * everything the canonical format can express.
 */

type DocumentBlock = Extract<AnthropicContentBlockParam, { type: 'document' }>;
type ToolUnion = NonNullable<AnthropicMessageRequest['tools']>[number];

/** Request fields consumed here; every other field passes through untouched. */
const MAPPED = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'stop_sequences',
  'metadata',
  'stream',
  'output_config',
]);

/**
 * The client's `anthropic-beta` header as the body's `betas` (the Anthropic SDK's
 * name for it), which the Anthropic provider sends on as its own header; other
 * providers never see the header. Without the header, the body as it is.
 */
export function withClientBetas<T extends object>(body: T, header: string | string[] | undefined): T {
  if (header === undefined) return body;
  const betas = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => beta !== '');
  return betas.length ? { ...body, betas } : body;
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request_error', message, { param });
}

/**
 * What the chat format has no place for: Anthropic providers get the client's
 * request as it is (see `MessagesPipeline`), the others cannot be given it.
 */
function unsupported(param: string, what: string): GatewayError {
  return invalid(param, `${what} has no equivalent outside Anthropic's API: only Anthropic providers take it`);
}

function imagePart(source: AnthropicImageBlockParam['source'], at: string): ChatContentPart {
  if (source.type === 'base64') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source.type === 'url') return { type: 'image_url', image_url: { url: source.url } };
  throw unsupported(`${at}.source.type`, `image source type '${source.type}' (use base64 or url)`);
}

function documentPart(block: DocumentBlock, at: string): ChatContentPart {
  const { source, title } = block;
  if (source.type === 'base64') {
    const file_data = `data:${source.media_type};base64,${source.data}`;
    return { type: 'file', file: { file_data, ...(title ? { filename: title } : {}) } };
  }
  if (source.type === 'text') return { type: 'text', text: title ? `${title}\n\n${source.data}` : source.data };
  throw unsupported(`${at}.source.type`, `document source type '${source.type}' (use base64 or text)`);
}

function userPart(block: AnthropicContentBlockParam, at: string): ChatContentPart {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text, ...cacheMark(block) };
    case 'image':
      return imagePart(block.source, at);
    case 'document':
      return documentPart(block, at);
    default:
      throw unsupported(`${at}.type`, `content block type '${block.type}' in a user message`);
  }
}

interface ToolResult {
  message: ChatToolMessage;
  /** Images and files a tool returned; tool messages carry text only, so they follow in a user message. */
  images: ChatContentPart[];
}

function toolResult(block: AnthropicToolResultBlockParam, at: string): ToolResult {
  const content = block.content ?? '';
  const texts: string[] = [];
  const images: ChatContentPart[] = [];
  if (typeof content === 'string') texts.push(content);
  else {
    content.forEach((part, k) => {
      if (part.type === 'text') texts.push(part.text);
      else if (part.type === 'image') images.push(imagePart(part.source, `${at}.content[${k}]`));
      else if (part.type === 'document') {
        // As a document at the top of a turn: a text document is text; a PDF a file part, after the tool message.
        const translated = documentPart(part, `${at}.content[${k}]`);
        if (translated.type === 'text') texts.push(translated.text);
        else images.push(translated);
      } else throw unsupported(`${at}.content[${k}].type`, `block type '${part.type}' in a tool_result`);
    });
  }
  const text = texts.join('\n');
  // The canonical tool message has no error flag: the model reads it in the text.
  const shown = block.is_error ? (text ? `Error: ${text}` : 'Error') : text;
  if (images.length > 0) {
    const what = images.every((part) => part.type === 'image_url') ? 'Images' : 'Files';
    images.unshift({ type: 'text', text: `${what} returned by tool call ${block.tool_use_id}:` });
  }
  return { message: { role: 'tool', tool_call_id: block.tool_use_id, content: shown }, images };
}

/**
 * A lone text part is sent as a plain string, which every upstream accepts, unless
 * it carries a prompt-caching mark, which a string cannot.
 */
function userContent(parts: ChatContentPart[]): string | ChatContentPart[] {
  return parts.length === 1 && parts[0].type === 'text' && !('cache_control' in parts[0]) ? parts[0].text : parts;
}

/**
 * tool_result blocks become `tool` messages (in order), the rest of the turn one
 * user message after them. Empty text blocks are left out; a turn with nothing
 * else is refused naming its content, as Anthropic refuses it (no provider is called).
 */
function userTurn(content: AnthropicMessageParam['content'], i: number): ChatMessage[] {
  if (typeof content === 'string') {
    if (content === '') throw emptyUserContent(i);
    return [{ role: 'user', content }];
  }
  const out: ChatMessage[] = [];
  const toolImages: ChatContentPart[] = [];
  const parts: ChatContentPart[] = [];
  content.forEach((block, j) => {
    const at = `messages[${i}].content[${j}]`;
    if (block.type === 'text' && block.text === '') return;
    if (block.type !== 'tool_result') parts.push(userPart(block, at));
    else {
      const { message, images } = toolResult(block, at);
      out.push(message);
      toolImages.push(...images);
    }
  });
  const rest = [...toolImages, ...parts];
  if (rest.length > 0) out.push({ role: 'user', content: userContent(rest) });
  if (out.length === 0) throw emptyUserContent(i);
  return out;
}

function emptyUserContent(i: number): GatewayError {
  return invalid(`messages[${i}].content`, 'a user message must have non-empty content');
}

/**
 * Marks a translated request whose assistant messages carry `thinking_blocks`, so
 * that only such requests are searched when a provider has no use for them
 * (`messagesRequestFor`). Symbol-keyed: copied with the request, never serialised.
 */
export const THINKING_HISTORY: unique symbol = Symbol('thinking history');

/**
 * The translation of one request: whether some assistant turn kept thinking
 * blocks, and what its JSON Schemas have taken of their limits.
 */
interface Conversion {
  thinking: boolean;
  schemas: SchemaBudget;
}

/**
 * Text and tool_use blocks in the canonical fields; `thinking` and
 * `redacted_thinking` blocks as `thinking_blocks` (LiteLLM's field), unchanged, for
 * the Anthropic provider to send back before the text and tool calls.
 */
function assistantTurn(content: AnthropicMessageParam['content'], i: number, conv: Conversion): ChatAssistantMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text = '';
  const calls: ChatFunctionToolCall[] = [];
  let thinking: ChatThinkingBlock[] | undefined;
  content.forEach((block, j) => {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') {
      const args = JSON.stringify(block.input ?? {});
      calls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
    } else if (block.type === 'thinking') {
      (thinking ??= []).push({ type: 'thinking', thinking: block.thinking, signature: block.signature });
    } else if (block.type === 'redacted_thinking') {
      (thinking ??= []).push({ type: 'redacted_thinking', data: block.data });
    } else {
      throw unsupported(
        `messages[${i}].content[${j}].type`,
        `content block type '${block.type}' in an assistant message`,
      );
    }
  });
  const message: ChatAssistantMessage =
    calls.length === 0
      ? { role: 'assistant', content: text }
      : { role: 'assistant', content: text || null, tool_calls: calls };
  if (!thinking) return message;
  conv.thinking = true;
  return Object.assign(message, { thinking_blocks: thinking } satisfies ChatReasoning);
}

function convertMessages(messages: AnthropicMessageParam[], conv: Conversion): ChatMessage[] {
  return messages.flatMap((msg, i): ChatMessage[] => {
    if (msg.role === 'user') return userTurn(msg.content, i);
    if (msg.role === 'assistant') return [assistantTurn(msg.content, i, conv)];
    const text = typeof msg.content === 'string' ? msg.content : userTextOnly(msg.content, i);
    return [{ role: 'system', content: text }];
  });
}

function userTextOnly(blocks: AnthropicContentBlockParam[], i: number): string {
  return blocks
    .map((block, j) => {
      if (block.type !== 'text')
        throw unsupported(`messages[${i}].content[${j}].type`, `a '${block.type}' block in a system message`);
      return block.text;
    })
    .join('\n\n');
}

/**
 * System blocks become one system message: plain text, or text parts when a
 * block carries a prompt-caching mark, which then travels on to the provider.
 */
function systemMessages(system: AnthropicMessageRequest['system']): ChatMessage[] {
  if (system === undefined) return [];
  if (typeof system !== 'string' && system.some((block) => block.cache_control)) {
    const parts = system.map((block) => ({ type: 'text' as const, text: block.text, ...cacheMark(block) }));
    return [{ role: 'system', content: parts }];
  }
  const text = typeof system === 'string' ? system : system.map((block) => block.text).join('\n\n');
  return text ? [{ role: 'system', content: text }] : [];
}

/**
 * Anthropic's `cache_control`, kept on the canonical content part: the Anthropic
 * adapter restores it, and OpenAI-compatible servers that understand it
 * (OpenRouter, LiteLLM) use it; others ignore the unknown field. OpenAI, Azure
 * OpenAI and Gemini do not get it (`messagesRequestFor`).
 */
function cacheMark(block: { cache_control?: unknown }): { cache_control?: unknown } {
  return block.cache_control ? { cache_control: block.cache_control } : {};
}

function isCustomTool(tool: ToolUnion): tool is AnthropicTool {
  return 'input_schema' in tool && (tool.type === undefined || tool.type === null || tool.type === 'custom');
}

function convertTools(tools: ToolUnion[], conv: Conversion): ChatTool[] {
  return tools.map((tool, i): ChatTool => {
    if (!isCustomTool(tool)) throw unsupported(`tools[${i}].type`, `Anthropic tool type '${String(tool.type)}'`);
    // The SDK allows `properties: null` / `required: null`; JSON Schema does not.
    const { properties, required, ...schema } = tool.input_schema;
    const parameters = {
      ...schema,
      ...(properties !== null && properties !== undefined ? { properties } : {}),
      ...(required !== null && required !== undefined ? { required } : {}),
    };
    // Checked here to name the field as the client wrote it; the chat pipeline's check then hits the cache.
    validateJsonSchemaDefinition(parameters, `tools[${i}].input_schema`, {
      checksValues: tool.strict === true,
      budget: conv.schemas,
    });
    const fn = { name: tool.name, ...(tool.description ? { description: tool.description } : {}), parameters };
    return { type: 'function', function: tool.strict ? { ...fn, strict: true } : fn };
  });
}

function convertToolChoice(choice: AnthropicToolChoice): Pick<ChatRequest, 'tool_choice' | 'parallel_tool_calls'> {
  const serial =
    'disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use ? { parallel_tool_calls: false } : {};
  const map: Record<AnthropicToolChoice['type'], ChatToolChoice> = {
    auto: 'auto',
    any: 'required',
    none: 'none',
    tool: { type: 'function', function: { name: choice.type === 'tool' ? choice.name : '' } },
  };
  return { tool_choice: map[choice.type], ...serial };
}

/** `output_config`: effort -> `reasoning_effort`, a JSON format -> `response_format` json_schema. */
function outputConfig(config: AnthropicMessageRequest['output_config'], conv: Conversion): Partial<ChatRequest> {
  if (!config) return {};
  const out: Partial<ChatRequest> = {};
  if (config.effort) out['reasoning_effort'] = config.effort as ChatRequest['reasoning_effort'];
  if (config.format?.type === 'json_schema') {
    if (config.format.schema !== undefined) {
      validateJsonSchemaDefinition(config.format.schema, 'output_config.format.schema', {
        checksValues: true,
        budget: conv.schemas,
      });
    }
    out.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: config.format.schema } };
  }
  return out;
}

function passThrough(body: AnthropicMessageRequest): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !MAPPED.has(key)));
}

/**
 * Pure: a validated Messages body as a chat request. `system` (string or blocks)
 * becomes the first system message; content blocks become parts, tool calls and
 * `tool` messages; tools, tool_choice, stop_sequences, metadata.user_id and
 * output_config are mapped; `temperature`, `top_p`, `top_k`, `thinking` and
 * unknown fields pass through (`messagesRequestFor` fits them to each provider);
 * block-level `cache_control` marks stay on text parts. A tool's `input_schema` that is not a JSON Schema is a 400 naming `tools[i].input_schema`.
 * Assistant `thinking` / `redacted_thinking` blocks become the message's
 * `thinking_blocks` (sent back by the Anthropic provider, left out for the others:
 * see `messagesRequestFor`). Block types with no canonical form are refused (400
 * naming the block), never dropped.
 */
export function anthropicToChat(body: AnthropicMessageRequest): ChatRequest {
  const stop = body.stop_sequences?.length ? { stop: body.stop_sequences } : {};
  const user = body.metadata?.user_id ? { user: body.metadata.user_id } : {};
  const conv: Conversion = { thinking: false, schemas: new SchemaBudget() };
  const req: ChatRequest = {
    ...passThrough(body),
    model: body.model,
    max_tokens: body.max_tokens,
    messages: [...systemMessages(body.system), ...convertMessages(body.messages, conv)],
    ...(body.tools?.length ? { tools: convertTools(body.tools, conv) } : {}),
    ...(body.tool_choice ? convertToolChoice(body.tool_choice) : {}),
    ...stop,
    ...user,
    ...outputConfig(body.output_config, conv),
    ...(body.stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
  if (conv.thinking) (req as ChatRequest & { [THINKING_HISTORY]?: true })[THINKING_HISTORY] = true;
  return req;
}
