import type { ChatFunctionTool, ChatMessage, ChatRequest, CompletionRequest, Usage } from '@app/contracts';
import { allowedToolNames, toolChoiceMode } from '@app/contracts';
import { sampleFromSchema } from './json-from-schema';
import { limitText, type LimitedText } from './mock.limits';

/** Pure, deterministic decisions of the mock provider. */

export interface MockCall {
  id: string;
  name: string;
  arguments: string;
}

/** A text, or the tool calls of one turn (several when the prompt names several tools). */
export type MockReply = ({ kind: 'text' } & LimitedText) | { kind: 'tool'; calls: MockCall[] };

export const MOCK_PREFIX = '[mock]';

/**
 * What starts the text of choice `choice` (of `n`): `[mock]` for the first (and
 * only) one, `[mock:1]`, `[mock:2]`... for the others, so choices tell apart.
 */
export function mockPrefix(choice: number): string {
  return choice === 0 ? MOCK_PREFIX : `[mock:${choice}]`;
}

/** FNV-1a, hex: stable ids from request content. */
export function stableHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

export function countTokens(text: string): number {
  return text.split(/\s+/).filter((word) => word.length > 0).length;
}

export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part) => ('text' in part && typeof part.text === 'string' ? part.text : ''))
    .filter((text) => text.length > 0)
    .join(' ');
}

function lastUserText(messages: ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === 'user') return messageText(messages[i]);
  }
  return '';
}

function functionTools(req: ChatRequest): ChatFunctionTool[] {
  return (req.tools ?? []).filter((tool): tool is ChatFunctionTool => tool.type === 'function');
}

/**
 * The tools to call, or none: the one tool_choice names; else, forced by `required` or
 * asked for with "call tool", each tool the text names, in its order (parallel calls; the
 * first of them with `parallel_tool_calls: false`), or the first tool when it names none.
 * Only the tools `allowed_tools` lists are called, and its mode says whether one must be.
 */
function chooseTools(req: ChatRequest, text: string): ChatFunctionTool[] {
  const choice = req.tool_choice;
  const allowed = allowedToolNames(choice);
  const mode = toolChoiceMode(choice);
  const tools = functionTools(req).filter((tool) => !allowed || allowed.has(tool.function.name));
  if (tools.length === 0 || mode === 'none') return [];
  if (typeof choice === 'object' && choice.type === 'function') return tools.slice(0, 1);
  if (mode !== 'required' && !/call tool/i.test(text)) return [];
  const lower = text.toLowerCase();
  const at = (tool: ChatFunctionTool) => lower.indexOf(tool.function.name.toLowerCase());
  const named = tools.filter((tool) => at(tool) >= 0).sort((a, b) => at(a) - at(b));
  if (named.length === 0) return tools.slice(0, 1);
  return req.parallel_tool_calls === false ? named.slice(0, 1) : named;
}

/** The results of the turn's tool calls: the tool messages that end the conversation. */
function toolResults(messages: ChatMessage[]): string[] {
  let first = messages.length;
  while (first > 0 && messages[first - 1].role === 'tool') first--;
  return messages.slice(first).map(messageText);
}

/** One call of each tool, its arguments built from its parameters; ids `call_mock_<hash>[_t<i>][_<choice>]`. */
function toolCalls(req: ChatRequest, tools: ChatFunctionTool[], choice: number): MockCall[] {
  const base = `call_mock_${stableHash(JSON.stringify(req.messages))}`;
  return tools.map((tool, i) => {
    const param = `tools[${(req.tools ?? []).indexOf(tool)}].function.parameters`;
    const parameters = tool.function.parameters ?? { type: 'object' };
    const args = sampleFromSchema(parameters, { properties: 'required', param, variant: choice });
    return {
      id: `${base}${i === 0 ? '' : `_t${i}`}${choice === 0 ? '' : `_${choice}`}`,
      name: tool.function.name,
      arguments: JSON.stringify(args ?? {}),
    };
  });
}

function formatted(req: ChatRequest, text: string, choice: number): string | undefined {
  const format = req.response_format;
  if (format?.type === 'json_schema') {
    const schema = format.json_schema.schema ?? { type: 'object' };
    const param = 'response_format.json_schema.schema';
    return JSON.stringify(sampleFromSchema(schema, { properties: 'all', param, variant: choice }));
  }
  if (format?.type === 'json_object') return JSON.stringify(choice === 0 ? { echo: text } : { echo: text, choice });
  return undefined;
}

/**
 * After tool results: a JSON value for `response_format`, else report them. Else
 * tool calls when asked, a JSON value for `response_format`, or `[mock] <last user message>`. `choice` (of `n`) > 0
 * answers the same in a way that tells it apart: `[mock:<choice>]`, tool call ids
 * ending in `_<choice>`, JSON with other values where the schema allows. A text
 * ends at `stop` and after `max_completion_tokens` (else `max_tokens`) words.
 */
export function planMockReply(req: ChatRequest, choice = 0): MockReply {
  const results = toolResults(req.messages);
  const text = lastUserText(req.messages);
  const tools = results.length > 0 ? [] : chooseTools(req, text);
  if (tools.length > 0) return { kind: 'tool', calls: toolCalls(req, tools, choice) };
  const reply =
    results.length > 0
      ? (formatted(req, results.join('; '), choice) ?? `${mockPrefix(choice)} tool result: ${results.join('; ')}`)
      : (formatted(req, text, choice) ?? `${mockPrefix(choice)} ${text}`);
  return { kind: 'text', ...limitText(reply, req.stop, req.max_completion_tokens ?? req.max_tokens) };
}

export function replyText(reply: MockReply): string {
  return reply.kind === 'text' ? reply.text : reply.calls.map((call) => `${call.name} ${call.arguments}`).join(' ');
}

/** Usage of one prompt answered with these texts (one per choice). */
export function mockUsage(promptText: string, completionTexts: readonly string[] = []): Usage {
  return tokenUsage(
    countTokens(promptText),
    completionTexts.reduce((sum, text) => sum + countTokens(text), 0),
  );
}

export function tokenUsage(prompt: number, completion: number): Usage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0 },
  };
}

export function promptText(messages: ChatMessage[]): string {
  return messages.map(messageText).join(' ');
}

/** One prompt of a legacy completion request, as the mock answers it. */
export interface MockPrompt {
  text: string;
  tokens: number;
}

/**
 * Every prompt of a legacy completion request: a text or a batch of texts, or token
 * ids (one list or a batch), which the mock cannot decode and echoes as numbers.
 */
export function completionPrompts(prompt: CompletionRequest['prompt']): MockPrompt[] {
  const ofText = (text: string): MockPrompt => ({ text, tokens: countTokens(text) });
  const ofIds = (ids: number[]): MockPrompt => ({ text: ids.join(' '), tokens: ids.length });
  if (prompt === null || prompt === undefined) return [ofText('')];
  if (typeof prompt === 'string') return [ofText(prompt)];
  if (prompt.length === 0) return [ofText('')];
  if (typeof prompt[0] === 'number') return [ofIds(prompt as number[])];
  return (prompt as Array<string | number[]>).map((item) => (typeof item === 'string' ? ofText(item) : ofIds(item)));
}

/** Word-by-word pieces whose concatenation is the text. */
export function words(text: string): string[] {
  return text.split(/(?=\s)/).filter((piece) => piece.length > 0);
}

/** A deterministic unit vector for a text. */
export function mockVector(text: string, dimensions: number): number[] {
  let seed = parseInt(stableHash(text), 16) || 1;
  const raw = Array.from({ length: dimensions }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x100000000 - 0.5;
  });
  const norm = Math.sqrt(raw.reduce((sum, v) => sum + v * v, 0)) || 1;
  return raw.map((v) => Number((v / norm).toFixed(6)));
}
