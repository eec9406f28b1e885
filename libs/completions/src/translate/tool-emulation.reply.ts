import {
  type ChatChunk,
  type ChatChunkChoice,
  type ChatChunkDelta,
  type ChatFunctionToolCall,
  type ChatRequest,
  type ChatResponse,
  validateAgainst,
} from '@app/contracts';
import { jsonCandidateSpans, jsonCandidates } from './json-extract';
import { randomId } from './prompt-messages';
import { type ToolOffer, toolOffer } from './tool-offer';

/** Reading the emulated tool protocol back out of a reply, and replaying a reply as a stream. */

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Arguments as a JSON object text; a string holding a JSON object is accepted too. */
function argumentsText(raw: unknown): string | undefined {
  if (raw === undefined || raw === null) return '{}';
  if (typeof raw === 'string') {
    try {
      const parsed = raw.trim() === '' ? {} : (JSON.parse(raw) as unknown);
      return isRecord(parsed) ? JSON.stringify(parsed) : undefined;
    } catch {
      return undefined;
    }
  }
  return isRecord(raw) ? JSON.stringify(raw) : undefined;
}

/** `{name, arguments}`, also as models often vary it: `parameters` / `input`, or OpenAI's `{function: {...}}`. */
function normalizeCall(raw: unknown, names: ReadonlySet<string>): ChatFunctionToolCall | undefined {
  if (!isRecord(raw)) return undefined;
  const call = isRecord(raw['function']) ? raw['function'] : raw;
  const name = call['name'];
  if (typeof name !== 'string' || !names.has(name)) return undefined;
  const args = argumentsText(call['arguments'] ?? call['parameters'] ?? call['input']);
  if (args === undefined) return undefined;
  return { id: randomId('call_'), type: 'function', function: { name, arguments: args } };
}

function protocolCalls(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value as unknown[];
  if (!isRecord(value)) return undefined;
  const calls = value['tool_calls'];
  if (Array.isArray(calls)) return calls as unknown[];
  return typeof value['name'] === 'string' ? [value] : undefined;
}

/**
 * The tool calls a reply makes under the protocol, or `undefined` when it makes
 * none. The JSON may sit in code fences or after prose, or be spread over several
 * objects (as models that call in their own markup write parallel calls); every call
 * of an object must name an offered tool and carry object arguments, else that object
 * counts as plain text (nothing is half-executed). With `single`, only the first call is kept.
 */
export function parseToolCallsFromText(
  text: string,
  names: ReadonlySet<string>,
  single = false,
): ChatFunctionToolCall[] | undefined {
  return readToolCalls(text, names, single)?.calls;
}

/**
 * The call markup of models trained on their own tool formats (Hermes and Qwen's
 * `<tool_call>` tags, Mistral's `[TOOL_CALLS]`, Llama's `<|python_tag|>`), which is
 * no prose once the calls inside it are read.
 */
const CALL_MARKUP = /<\/?tool_calls?>|\[TOOL_CALLS\]|<\|python_tag\|>|<\|eom_id\|>|<\|eot_id\|>/g;

/** The text of a call's JSON written out of JSON (cut short, a brace missing): an attempt all the same. */
const CALL_SHAPED = /"name"\s*:\s*"[^"]*"\s*,\s*"(?:arguments|parameters|input)"\s*:/;

/**
 * The text of `text` outside `spans` (in reading order; a span inside another is part of
 * it), with the spans themselves.
 */
function outside<T extends { start: number; end: number }>(text: string, spans: T[]): { pieces: string[]; kept: T[] } {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const pieces: string[] = [];
  const kept: T[] = [];
  let at = 0;
  for (const span of sorted) {
    if (span.start < at) continue; // inside a span already taken
    pieces.push(text.slice(at, span.start));
    kept.push(span);
    at = span.end;
  }
  pieces.push(text.slice(at));
  return { pieces, kept };
}

/**
 * The calls of a reply (as {@link parseToolCallsFromText}), in the order it makes
 * them, and the text around them, trimmed and without call markup: what the model
 * said besides calling ('' when nothing). Where calls nest (a list of calls, a fenced
 * block), the outermost is read.
 */
export function readToolCalls(
  text: string,
  names: ReadonlySet<string>,
  single = false,
): { calls: ChatFunctionToolCall[]; prose: string } | undefined {
  const found: Array<{ calls: ChatFunctionToolCall[]; start: number; end: number }> = [];
  for (const { value, start, end } of jsonCandidateSpans(text)) {
    const raw = protocolCalls(value);
    if (!raw || raw.length === 0) continue;
    const calls = raw.map((call) => normalizeCall(call, names));
    if (calls.every((call): call is ChatFunctionToolCall => call !== undefined)) found.push({ calls, start, end });
  }
  if (found.length === 0) return undefined;
  const { pieces, kept } = outside(text, found);
  const calls = kept.flatMap((span) => span.calls);
  // What separated the calls (`;` between Llama's, `,` in a list) is no prose either.
  const said = pieces.map((piece) => piece.replace(CALL_MARKUP, '').trim()).filter((piece) => /[^\s;,]/.test(piece));
  return { calls: single ? calls.slice(0, 1) : calls, prose: said.join('\n\n') };
}

/**
 * A reply from an emulated-tools upstream as the client expects it: a reply in
 * the protocol becomes `tool_calls` (ids `call_<random>`, `finish_reason:
 * "tool_calls"`), with what the model said around the call JSON as `content`
 * (`null` when nothing), as native models answer; any other reply is left as it
 * is. `req` is the client's request (with its `tools`), not the rewritten one.
 */
export function parseEmulatedToolReply(res: ChatResponse, req: ChatRequest): ChatResponse {
  const offer = toolOffer(req);
  if (offer.tools.length === 0) return res;
  const names = new Set(offer.tools.map((tool) => tool.function.name));
  const choices = res.choices.map((choice) => {
    const text = choice.message.content;
    const read = typeof text === 'string' ? readToolCalls(text, names, offer.single) : undefined;
    if (!read) return choice;
    return {
      ...choice,
      finish_reason: 'tool_calls' as const,
      message: { ...choice.message, content: read.prose || null, tool_calls: read.calls },
    };
  });
  return { ...res, choices };
}

/** Whether a JSON value is shaped as a tool call attempt, as opposed to a JSON answer (`{"name": "Ada"}`). */
function isCallAttempt(value: unknown): boolean {
  const callShaped = (item: unknown) =>
    isRecord(item) &&
    (isRecord(item['function']) ||
      (typeof item['name'] === 'string' && ('arguments' in item || 'parameters' in item || 'input' in item)));
  if (Array.isArray(value)) return value.length > 0 && value.every(callShaped);
  return isRecord(value) && (Array.isArray(value['tool_calls']) || callShaped(value));
}

/** What is wrong with one attempted call, or `undefined` when the offer accepts it. */
function callProblem(raw: unknown, offer: ToolOffer): string | undefined {
  const call = isRecord(raw) && isRecord(raw['function']) ? raw['function'] : raw;
  const name = isRecord(call) ? call['name'] : undefined;
  if (!isRecord(call) || typeof name !== 'string') return 'a call does not name its tool';
  const tool = offer.tools.find((t) => t.function.name === name);
  if (!tool) return `"${name}" is not one of the tools you may call now`;
  const args = argumentsText(call['arguments'] ?? call['parameters'] ?? call['input']);
  if (args === undefined) return `the arguments of "${name}" are not a JSON object`;
  if (tool.function.strict === true && tool.function.parameters) {
    const check = validateAgainst(tool.function.parameters, JSON.parse(args));
    if (!check.ok) return `the arguments of "${name}" do not match its schema: ${check.errors}`;
  }
  return undefined;
}

/**
 * What is wrong with a reply to an emulated-tools request, or `undefined` when it
 * is fine: a call the client can run, or plain text where text may answer. Wrong:
 * an attempted call (protocol JSON, even malformed) naming a tool not on offer,
 * with arguments that are no object (or break a `strict` tool's schema), any call
 * when no tool is on offer (`tool_choice: "none"`: a native model answers in text),
 * and text where `tool_choice` requires a call. Such a reply is never shown to the
 * client: the model is asked once more (see `toolRepairRequest`).
 */
export function toolReplyProblem(text: string, offer: ToolOffer): string | undefined {
  if (offer.tools.length === 0) return callWithoutTools(text);
  /** Calls found fine: what lies inside them (a tool's arguments) is no attempt of its own. */
  const calls: Array<{ start: number; end: number }> = [];
  for (const { value, start, end } of jsonCandidateSpans(text)) {
    if (calls.some((call) => start >= call.start && end <= call.end)) continue;
    const raw = protocolCalls(value);
    if (!raw || raw.length === 0) continue;
    const problem = raw.map((call) => callProblem(call, offer)).find((p) => p !== undefined);
    // Every attempt counts: one faulty call among several (or in a list) must not let the others pass alone.
    if (problem !== undefined && isCallAttempt(value)) return problem;
    if (problem === undefined) calls.push({ start, end });
  }
  // Call markup left beside the calls read (one cut short, a brace missing) would reach the client as text.
  const rest = outside(text, calls).pieces.join('\n');
  if (/"tool_calls"\s*:/.test(rest) || CALL_SHAPED.test(rest)) return 'a tool call is not valid JSON';
  if (calls.length > 0) return undefined;
  if (offer.mode === 'required') return 'this reply must call a tool, and it calls none';
  return undefined;
}

/** A reply that calls a tool (or tries to: call markup) when none may be called. */
function callWithoutTools(text: string): string | undefined {
  if (!text.includes('{') && !text.includes('[')) return undefined;
  const problem = 'it calls a tool, but no tool can be called in this reply';
  for (const value of jsonCandidates(text)) {
    if (isCallAttempt(value) && (protocolCalls(value)?.length ?? 0) > 0) return problem;
  }
  return /"tool_calls"\s*:/.test(text) ? problem : undefined;
}

/**
 * The first problem of an emulated-tools reply (see `toolReplyProblem`) with the
 * text that has it, or `undefined` when every choice is fine. `req` is the
 * client's request.
 */
export function emulatedToolProblem(
  res: ChatResponse,
  req: ChatRequest,
): { text: string; problem: string } | undefined {
  const offer = toolOffer(req);
  for (const choice of res.choices) {
    const text = typeof choice.message.content === 'string' ? choice.message.content : '';
    const problem = toolReplyProblem(text, offer);
    if (problem) return { text, problem };
  }
  return undefined;
}

/** The reasoning fields an OpenAI-shaped server may put on a message (see `ChatReasoning`), streamed as they came. */
const REASONING_FIELDS = ['reasoning_content', 'reasoning', 'thinking_blocks'] as const;

function choiceDeltas(message: ChatResponse['choices'][number]['message']): ChatChunkDelta[] {
  const calls = (message.tool_calls ?? []).filter((call): call is ChatFunctionToolCall => call.type === 'function');
  const deltas: ChatChunkDelta[] = [{ role: 'assistant', content: calls.length > 0 && !message.content ? null : '' }];
  const reasoning: Record<string, unknown> = {};
  for (const field of REASONING_FIELDS) {
    const value = (message as unknown as Record<string, unknown>)[field];
    if (value !== undefined && value !== null && value !== '') reasoning[field] = value;
  }
  if (Object.keys(reasoning).length > 0) deltas.push(reasoning);
  if (message.content) deltas.push({ content: message.content });
  if (message.refusal) deltas.push({ refusal: message.refusal });
  calls.forEach((call, index) => {
    const { id, function: fn } = call;
    deltas.push({ tool_calls: [{ index, id, type: 'function', function: { name: fn.name, arguments: '' } }] });
    if (fn.arguments) deltas.push({ tool_calls: [{ index, function: { arguments: fn.arguments } }] });
  });
  return deltas;
}

/**
 * A complete reply as the chunk sequence a native stream would have produced:
 * per choice a role chunk, its reasoning (the fields it came in), the content (or
 * refusal, with the choice's logprobs), each tool call (id and name, then its
 * arguments) and a finish chunk; then a usage chunk (`choices: []`) when
 * the reply has usage. Used when the reply had to be buffered (emulated tools or
 * structured output), so streaming clients cannot tell the difference.
 */
export function emulatedToolStream(res: ChatResponse): ChatChunk[] {
  const base = {
    id: res.id,
    object: 'chat.completion.chunk' as const,
    created: res.created,
    model: res.model,
    ...(res.system_fingerprint ? { system_fingerprint: res.system_fingerprint } : {}),
    ...(res.service_tier ? { service_tier: res.service_tier } : {}),
  };
  const chunk = (choice: ChatChunkChoice): ChatChunk => ({ ...base, choices: [choice] });
  const chunks: ChatChunk[] = [];
  for (const choice of res.choices) {
    const { index } = choice;
    // The choice's logprobs go once, with the first chunk of the text (or refusal) they are of.
    let logprobs = choice.logprobs ?? null;
    for (const delta of choiceDeltas(choice.message)) {
      const text = Boolean(delta.content) || Boolean(delta.refusal);
      chunks.push(chunk({ index, delta, finish_reason: null, logprobs: text ? logprobs : null }));
      if (text) logprobs = null;
    }
    chunks.push(chunk({ index, delta: {}, finish_reason: choice.finish_reason, logprobs: null }));
  }
  if (res.usage) chunks.push({ ...base, choices: [], usage: res.usage });
  return chunks;
}
