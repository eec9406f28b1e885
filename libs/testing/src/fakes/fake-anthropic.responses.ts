import { createHmac } from 'node:crypto';
import {
  applyLimits,
  asArray,
  asNumber,
  asRecord,
  asString,
  countTokens,
  type JsonRecord,
  type JsonValue,
  pickTools,
  sampleFromSchema,
  splitEvery,
  splitWords,
  stopList,
  TOOL_TRIGGER,
} from './fake-content';
import { planWebSearch, type ServerToolBlock, typedToolInput } from './fake-anthropic.server-tools';
import type { SseEvent } from './sse-writer';

/** Pure builders for Anthropic Messages API bodies and stream events. */

export type AnthropicBlock =
  | ServerToolBlock
  | { type: 'tool_use'; id: string; name: string; input: JsonValue }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string };

/** Signs thinking as Anthropic does, opaquely: only this fake can check its signatures. */
const SIGNING_KEY = 'fake-anthropic-thinking';

export function thinkingSignature(thinking: string): string {
  return createHmac('sha256', SIGNING_KEY).update(thinking).digest('base64');
}

/** Redacted thinking: encrypted on Anthropic, here a payload and its MAC. */
export function redactedData(payload: string): string {
  return Buffer.from(`${payload}.${thinkingSignature(payload)}`).toString('base64');
}

export function isRedactedData(data: unknown): boolean {
  if (typeof data !== 'string') return false;
  const text = Buffer.from(data, 'base64').toString();
  const dot = text.lastIndexOf('.');
  return dot > 0 && thinkingSignature(text.slice(0, dot)) === text.slice(dot + 1);
}

/** With `thinking` on, Claude thinks first: a signed thinking block, then a redacted one. */
function thinkingBlocks(body: JsonRecord, about: string): AnthropicBlock[] {
  const type = asRecord(body.thinking).type;
  if (type !== 'enabled' && type !== 'adaptive') return [];
  const thinking = `The user said: ${about}. Let me think it through.`;
  return [
    { type: 'thinking', thinking, signature: thinkingSignature(thinking) },
    { type: 'redacted_thinking', data: redactedData(`redacted ${about.length}`) },
  ];
}

function blockOutputText(block: AnthropicBlock): string {
  if (block.type === 'text') return block.text;
  if (block.type === 'thinking') return block.thinking;
  if (block.type === 'redacted_thinking') return block.data;
  // The results are input the model reads, not output it writes.
  if (block.type === 'web_search_tool_result') return '';
  return JSON.stringify(block.input);
}

export interface AnthropicPlan {
  content: AnthropicBlock[];
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn';
  stopSequence: string | null;
  usage: AnthropicUsage;
}

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  /** Searches run by a server tool, when one ran. */
  server_tool_use?: { web_search_requests: number };
}

/**
 * Remembers cached prompt prefixes: returns true when the prefix was written before
 * (a cache read), false when this request writes it (a cache creation).
 */
export type PromptCache = (prefix: string) => boolean;

/** A cached prefix shorter than this is not cached (Anthropic has a minimum too). */
const CACHE_MIN_PREFIX_CHARS = 200;

interface Segment {
  text: string;
  cacheControl: boolean;
}

function blockText(block: unknown): string {
  if (typeof block === 'string') return block;
  const b = asRecord(block);
  if (b.type === 'tool_use') return JSON.stringify(b.input ?? {});
  if (b.type === 'tool_result')
    return typeof b.content === 'string' ? b.content : asArray(b.content).map(blockText).join('');
  return asString(b.text) ?? '';
}

function blocks(content: unknown): unknown[] {
  return typeof content === 'string' ? [content] : asArray(content);
}

/** Tools, system and messages in cache order, each marked when it carries `cache_control`. */
function promptSegments(body: JsonRecord): Segment[] {
  const marked = (value: unknown): boolean => 'cache_control' in asRecord(value);
  const segments: Segment[] = asArray(body.tools).map((t) => ({ text: JSON.stringify(t), cacheControl: marked(t) }));
  for (const b of blocks(body.system)) segments.push({ text: blockText(b), cacheControl: marked(b) });
  for (const message of asArray(body.messages)) {
    for (const b of blocks(asRecord(message).content)) segments.push({ text: blockText(b), cacheControl: marked(b) });
  }
  return segments;
}

function inputUsage(body: JsonRecord, cache: PromptCache): Omit<AnthropicUsage, 'output_tokens'> {
  const segments = promptSegments(body);
  const total = countTokens(segments.map((s) => s.text).join('\n'));
  const lastMarked = segments.map((s) => s.cacheControl).lastIndexOf(true);
  const prefix = segments
    .slice(0, lastMarked + 1)
    .map((s) => s.text)
    .join('\n');
  if (lastMarked === -1 || prefix.length <= CACHE_MIN_PREFIX_CHARS) {
    return { input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  }
  const cached = Math.min(countTokens(prefix), total);
  const read = cache(prefix);
  return {
    input_tokens: total - cached,
    cache_creation_input_tokens: read ? 0 : cached,
    cache_read_input_tokens: read ? cached : 0,
  };
}

/** Decides the reply: tool_use (forced, or "call tool" in the last user text) or echo text. */
export function planMessage(
  body: JsonRecord,
  overrideText: string | undefined,
  toolId: string,
  cache: PromptCache,
): AnthropicPlan {
  const messages = asArray(body.messages).map(asRecord);
  const last = messages.at(-1) ?? {};
  const lastBlocks = blocks(last.content).map((b) => (typeof b === 'string' ? { type: 'text', text: b } : asRecord(b)));
  const toolResults = lastBlocks.filter((b) => b.type === 'tool_result');
  const lastText = lastBlocks
    .filter((b) => b.type === 'text')
    .map(blockText)
    .join('');
  const input = inputUsage(body, cache);
  const thinking = thinkingBlocks(body, toolResults.length > 0 ? 'tool results' : lastText);
  const userText = last.role === 'user' && toolResults.length === 0 ? lastText : '';
  const search = searchReply(body, userText, toolId, input, thinking);
  if (search) return search;
  const tool = planToolUse(body, userText, toolId);
  if (tool) {
    const content = [...thinking, ...tool.blocks];
    const output = countTokens(content.map(blockOutputText).join(''));
    return {
      content,
      stopReason: 'tool_use',
      stopSequence: null,
      usage: { ...input, output_tokens: output },
    };
  }
  const raw =
    toolResults.length > 0
      ? `Tool result: ${toolResults.map(blockText).join('\n')}`
      : (overrideText ?? formattedText(body) ?? `Echo: ${lastText}`);
  const limited = applyLimits(raw, asNumber(body.max_tokens), stopList(body.stop_sequences));
  const stopReason =
    limited.reason === 'length' ? 'max_tokens' : limited.reason === 'stop_sequence' ? 'stop_sequence' : 'end_turn';
  const thought = countTokens(thinking.map(blockOutputText).join(''));
  return {
    content: [...thinking, { type: 'text', text: limited.text }],
    stopReason,
    stopSequence: limited.stopSequence ?? null,
    usage: { ...input, output_tokens: thought + countTokens(limited.text) },
  };
}

/** With `output_config.format` (structured outputs), the answer is JSON that fits its schema. */
function formattedText(body: JsonRecord): string | undefined {
  const format = asRecord(asRecord(body.output_config).format);
  return format.type === 'json_schema' ? JSON.stringify(sampleFromSchema(format.schema)) : undefined;
}

/** The reply of a web search (see `planWebSearch`), after the thinking; `undefined` when none is run. */
function searchReply(
  body: JsonRecord,
  userText: string,
  toolId: string,
  input: Omit<AnthropicUsage, 'output_tokens'>,
  thinking: AnthropicBlock[],
): AnthropicPlan | undefined {
  const search = planWebSearch(body, userText, toolId.replace(/^toolu_/, 'srvtoolu_'));
  if (!search) return undefined;
  const content = [...thinking, ...search.content];
  const output = countTokens(content.map(blockOutputText).join(''));
  const server = search.searches ? { server_tool_use: { web_search_requests: search.searches } } : {};
  return {
    content,
    stopReason: search.stopReason,
    stopSequence: null,
    usage: { ...input, output_tokens: output, ...server },
  };
}

function planToolUse(body: JsonRecord, userText: string, id: string): { blocks: AnthropicBlock[] } | undefined {
  // Custom tools get an input fitting their schema; Anthropic's own client tools (bash...) the input of their kind.
  const tools = asArray(body.tools)
    .map(asRecord)
    .filter((t) => typeof t.name === 'string' && ('input_schema' in t || typedToolInput(t) !== undefined))
    .map((t) => ({ name: String(t.name), input: typedToolInput(t) ?? sampleFromSchema(t.input_schema) }));
  const choice = asRecord(body.tool_choice);
  if (tools.length === 0 || choice.type === 'none') return undefined;
  const forced = choice.type === 'any' || choice.type === 'tool';
  if (!forced && !TOOL_TRIGGER.test(userText)) return undefined;
  const parallel = choice.disable_parallel_tool_use !== true;
  const picked = pickTools(tools, userText, choice.type === 'tool' ? asString(choice.name) : undefined, parallel);
  if (picked.length === 0) return undefined;
  const uses = picked.map((tool, i): AnthropicBlock => ({
    type: 'tool_use',
    id: i === 0 ? id : `${id}_${i}`,
    name: tool.name,
    input: tool.input,
  }));
  // With tool_choice auto Claude usually says something first; forced choices answer with the tools only.
  const names = picked.map((tool) => tool.name).join(' and ');
  return { blocks: forced ? uses : [{ type: 'text', text: `I'll use the ${names} tool.` }, ...uses] };
}

function fullUsage(usage: AnthropicUsage): JsonRecord {
  return {
    ...usage,
    cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
    service_tier: 'standard',
  };
}

export function messageBody(plan: AnthropicPlan, id: string, model: string): JsonRecord {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: plan.content,
    stop_reason: plan.stopReason,
    stop_sequence: plan.stopSequence,
    usage: fullUsage(plan.usage),
  };
}

/** message_start, per block start / deltas / stop (ping after the first start), message_delta, message_stop. */
export function messageEvents(plan: AnthropicPlan, id: string, model: string): SseEvent[] {
  const event = (type: string, data: JsonRecord): SseEvent => ({ event: type, data: { type, ...data } });
  const start = { ...messageBody(plan, id, model), content: [], stop_reason: null, stop_sequence: null };
  const events = [
    event('message_start', { message: { ...start, usage: fullUsage({ ...plan.usage, output_tokens: 1 }) } }),
  ];
  for (const [index, block] of plan.content.entries()) {
    events.push(event('content_block_start', { index, content_block: initialBlock(block) }));
    if (index === 0) events.push(event('ping', {}));
    for (const delta of blockDeltas(block)) events.push(event('content_block_delta', { index, delta }));
    events.push(event('content_block_stop', { index }));
  }
  events.push(
    event('message_delta', {
      delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence },
      usage: { ...plan.usage },
    }),
  );
  events.push(event('message_stop', {}));
  return events;
}

/** A block as `content_block_start` announces it: empty, but for a redacted block, which comes whole. */
function initialBlock(block: AnthropicBlock): JsonRecord {
  if (block.type === 'text') return { type: 'text', text: '' };
  if (block.type === 'thinking') return { type: 'thinking', thinking: '', signature: '' };
  if (block.type === 'redacted_thinking' || block.type === 'web_search_tool_result') return { ...block };
  return { ...block, input: {} };
}

/**
 * Text word by word (its citations first), thinking likewise (its signature last), tool
 * input in 8-character fragments; a search's results come whole in their block's start.
 */
function blockDeltas(block: AnthropicBlock): JsonRecord[] {
  if (block.type === 'text') {
    const citations = (block.citations ?? []).map((citation) => ({ type: 'citations_delta', citation }));
    return [...citations, ...splitWords(block.text).map((text) => ({ type: 'text_delta', text }))];
  }
  if (block.type === 'web_search_tool_result') return [];
  if (block.type === 'thinking') {
    const deltas: JsonRecord[] = splitWords(block.thinking).map((thinking) => ({ type: 'thinking_delta', thinking }));
    return [...deltas, { type: 'signature_delta', signature: block.signature }];
  }
  if (block.type === 'redacted_thinking') return [];
  return ['', ...splitEvery(JSON.stringify(block.input), 8)].map((partial_json) => ({
    type: 'input_json_delta',
    partial_json,
  }));
}

/** `count_tokens` answer for a request body. */
export function countInputTokens(body: JsonRecord): number {
  return countTokens(
    promptSegments(body)
      .map((s) => s.text)
      .join('\n'),
  );
}
