import {
  applyLimits,
  asArray,
  asNumber,
  asRecord,
  asString,
  countTokens,
  isRecord,
  type JsonRecord,
  pickTools,
  sampleFromSchema,
  splitEvery,
  splitWords,
  stopList,
  TOOL_TRIGGER,
} from './fake-content';
import type { SseEvent } from './sse-writer';

/** Pure builders for OpenAI Chat Completions / Completions bodies and stream chunks. */

/** Identity of one generated response. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

export interface ToolCallPlan {
  id: string;
  name: string;
  arguments: string;
}

/** What the fake "model" decided to answer to one chat request. */
export interface ChatPlan {
  text: string | null;
  /** The tool calls of the turn: several when the prompt names several tools (parallel calls). */
  toolCalls?: ToolCallPlan[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  usage: JsonRecord;
  choices: number;
  /** With `logprobs: true`: how many `top_logprobs` each token lists (0 when not asked). */
  topLogprobs?: number;
  /** Thinking given before the answer, and the field that carries it. */
  reasoning?: { text: string; field: 'reasoning_content' | 'reasoning' };
}

/** Prompt size above which a cache hint yields cached tokens. */
export const CACHE_MIN_PROMPT_CHARS = 200;
const CACHED_TOKENS = 128;

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .map((part) => asString(asRecord(part).text) ?? '')
    .join('');
}

/**
 * Usage in OpenAI's shape; `cacheHint` (a caching hint in the request, or a long
 * prompt seen before: OpenAI caches repeated prefixes by itself) makes cached
 * tokens appear on long prompts.
 */
export function openAIUsage(promptText: string, completionText: string, cacheHint: boolean): JsonRecord {
  const prompt = countTokens(promptText);
  const completion = countTokens(completionText);
  const cached = cacheHint && promptText.length > CACHE_MIN_PROMPT_CHARS ? Math.min(CACHED_TOKENS, prompt) : 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** `prompt_cache_key`, a truthy `cache`, or any `cache_control` marker counts as a cache hint. */
function hasCacheHint(body: JsonRecord, messages: JsonRecord[]): boolean {
  if (typeof body.prompt_cache_key === 'string' || Boolean(body.cache)) return true;
  return messages.some(
    (m) => 'cache_control' in m || asArray(m.content).some((part) => 'cache_control' in asRecord(part)),
  );
}

/** Decides the reply: a tool call, a JSON object for `response_format`, or echo text. */
export function planChat(
  body: JsonRecord,
  overrideText: string | undefined,
  callId: string,
  seenBefore: (promptText: string) => boolean = () => false,
): ChatPlan {
  const messages = asArray(body.messages).map(asRecord);
  const promptText = messages
    .map(
      (m) =>
        contentText(m.content) +
        asArray(m.tool_calls)
          .map((c) => JSON.stringify(c))
          .join(''),
    )
    .join('\n');
  const last = messages.at(-1) ?? {};
  const lastUser = contentText([...messages].reverse().find((m) => m.role === 'user')?.content);
  // Evaluated either way: a prompt is remembered whether or not it carries a hint.
  const repeated = seenBefore(promptText);
  const cacheHint = hasCacheHint(body, messages) || repeated;
  const choices = Math.max(1, asNumber(body.n) ?? 1);
  const toolCalls = planToolCalls(body, last, lastUser, callId);
  if (toolCalls.length > 0) {
    const usage = openAIUsage(promptText, toolCalls.map((c) => c.name + c.arguments).join(''), cacheHint);
    return { text: null, toolCalls, finishReason: 'tool_calls', usage, choices };
  }
  const raw =
    last.role === 'tool'
      ? `Tool result: ${contentText(last.content)}`
      : (overrideText ?? jsonReply(body.response_format, lastUser) ?? `Echo: ${lastUser}`);
  const maxTokens = asNumber(body.max_completion_tokens) ?? asNumber(body.max_tokens);
  const limited = applyLimits(raw, maxTokens, stopList(body.stop));
  const finishReason = limited.reason === 'length' ? 'length' : 'stop';
  const usage = openAIUsage(promptText, limited.text, cacheHint);
  const topLogprobs = body.logprobs === true ? (asNumber(body.top_logprobs) ?? 0) : undefined;
  return { text: limited.text, finishReason, usage, choices, ...(topLogprobs === undefined ? {} : { topLogprobs }) };
}

function planToolCalls(body: JsonRecord, last: JsonRecord, lastUser: string, id: string): ToolCallPlan[] {
  const tools = asArray(body.tools)
    .map(asRecord)
    .filter((t) => t.type === 'function' && isRecord(t.function))
    .map((t) => ({ name: String(asRecord(t.function).name), parameters: asRecord(t.function).parameters }));
  const choice = body.tool_choice;
  if (tools.length === 0 || choice === 'none') return [];
  const forcedName = asString(asRecord(asRecord(choice).function).name);
  const forced = choice === 'required' || forcedName !== undefined;
  if (!forced && !(last.role === 'user' && TOOL_TRIGGER.test(lastUser))) return [];
  return pickTools(tools, lastUser, forcedName, body.parallel_tool_calls !== false).map((tool, i) => ({
    id: i === 0 ? id : `${id}_${i}`,
    name: tool.name,
    arguments: JSON.stringify(sampleFromSchema(tool.parameters ?? { type: 'object' })),
  }));
}

/**
 * OpenAI's `logprobs.content` entries for pieces of text: the sampled token with its
 * log probability and UTF-8 bytes, and `top` alternatives (the sampled token first).
 */
export function tokenLogprobs(pieces: string[], top: number): JsonRecord[] {
  const entry = (token: string, logprob: number): JsonRecord => ({
    token,
    logprob,
    bytes: [...Buffer.from(token, 'utf8')],
  });
  return pieces.map((token) => {
    const logprob = -((token.length % 5) + 1) / 100;
    const alternatives = Array.from({ length: Math.max(0, top - 1) }, (_, j) =>
      entry(`${token}#${j + 1}`, logprob - j - 1),
    );
    return { ...entry(token, logprob), top_logprobs: top > 0 ? [entry(token, logprob), ...alternatives] : [] };
  });
}

function jsonReply(format: unknown, lastUser: string): string | undefined {
  const f = asRecord(format);
  if (f.type === 'json_schema') return JSON.stringify(sampleFromSchema(asRecord(f.json_schema).schema ?? {}));
  if (f.type === 'json_object') return JSON.stringify({ message: `Echo: ${lastUser}` });
  return undefined;
}

function assistantMessage(plan: ChatPlan): JsonRecord {
  const message: JsonRecord = { role: 'assistant', content: plan.text, refusal: null, annotations: [] };
  if (plan.reasoning) message[plan.reasoning.field] = plan.reasoning.text;
  if (plan.toolCalls) {
    message.tool_calls = plan.toolCalls.map(({ id, name, arguments: args }) => ({
      id,
      type: 'function',
      function: { name, arguments: args },
    }));
  }
  return message;
}

/** A choice's `logprobs`: `null` unless asked for, as OpenAI answers. */
function choiceLogprobs(plan: ChatPlan, pieces: string[]): JsonRecord | null {
  if (plan.topLogprobs === undefined) return null;
  return { content: tokenLogprobs(pieces, plan.topLogprobs), refusal: null };
}

export function chatCompletionBody(plan: ChatPlan, meta: ResponseMeta): JsonRecord {
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: Array.from({ length: plan.choices }, (_, index) => ({
      index,
      message: assistantMessage(plan),
      logprobs: choiceLogprobs(plan, splitWords(plan.text ?? '')),
      finish_reason: plan.finishReason,
    })),
    usage: plan.usage,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
}

/**
 * The chunk sequence OpenAI streams: role, content or tool-call deltas (each call's id and
 * name, then its argument fragments, one call after the other), finish, usage, `[DONE]`.
 * With `n` > 1 the choices' chunks take turns, each carrying its `index`, as OpenAI's do.
 * `interleaved`: the tool calls' starts first, then their argument fragments taking turns.
 */
export function chatCompletionEvents(
  plan: ChatPlan,
  meta: ResponseMeta,
  includeUsage: boolean,
  interleaved = false,
): SseEvent[] {
  const perChoice = Array.from({ length: plan.choices }, (_, index) => choiceChunks(plan, index, interleaved));
  const chunk = (choice: JsonRecord): SseEvent => ({
    data: {
      id: meta.id,
      object: 'chat.completion.chunk',
      created: meta.created,
      model: meta.model,
      system_fingerprint: 'fp_fake',
      choices: [choice],
      ...(includeUsage ? { usage: null } : {}),
    },
  });
  const events: SseEvent[] = [];
  for (let step = 0; step < Math.max(...perChoice.map((c) => c.length)); step++) {
    for (const choices of perChoice) if (step < choices.length) events.push(chunk(choices[step]));
  }
  return finishStream(events, meta, 'chat.completion.chunk', includeUsage ? plan.usage : undefined);
}

/** One choice's stream: its `choices[]` entries in order, the finish last. */
function choiceChunks(plan: ChatPlan, index: number, interleaved: boolean): JsonRecord[] {
  const choice = (delta: JsonRecord, finishReason: string | null = null, logprobs: unknown = null): JsonRecord => ({
    index,
    delta,
    logprobs,
    finish_reason: finishReason,
  });
  const out: JsonRecord[] = [];
  if (plan.reasoning) {
    // As DeepSeek streams it: thinking deltas with a null content, before the answer's.
    const { field, text } = plan.reasoning;
    out.push(choice({ role: 'assistant', content: null, [field]: '' }));
    for (const piece of splitWords(text)) out.push(choice({ content: null, [field]: piece }));
  }
  if (plan.toolCalls) {
    const starts = plan.toolCalls.map(({ id, name }, i) => {
      const call = { index: i, id, type: 'function', function: { name, arguments: '' } };
      return choice(i === 0 ? { role: 'assistant', content: null, tool_calls: [call] } : { tool_calls: [call] });
    });
    const fragments = plan.toolCalls.map(({ arguments: args }, i) =>
      splitEvery(args, 8).map((piece) => choice({ tool_calls: [{ index: i, function: { arguments: piece } }] })),
    );
    if (interleaved) {
      out.push(...starts);
      for (let step = 0; step < Math.max(...fragments.map((f) => f.length)); step++) {
        for (const pieces of fragments) if (step < pieces.length) out.push(pieces[step]);
      }
    } else {
      for (const [i, start] of starts.entries()) out.push(start, ...fragments[i]);
    }
  } else {
    out.push(choice({ role: 'assistant', content: '', refusal: null }, null, choiceLogprobs(plan, [])));
    for (const piece of splitWords(plan.text ?? ''))
      out.push(choice({ content: piece }, null, choiceLogprobs(plan, [piece])));
  }
  out.push(choice({}, plan.finishReason));
  return out;
}

function finishStream(events: SseEvent[], meta: ResponseMeta, object: string, usage?: JsonRecord): SseEvent[] {
  if (usage) {
    const { id, created, model } = meta;
    events.push({ data: { id, object, created, model, system_fingerprint: 'fp_fake', choices: [], usage } });
  }
  events.push({ data: '[DONE]' });
  return events;
}

/** What the fake "model" answers to a legacy completion: a choice per prompt and `n`, prompt-major. */
export interface CompletionPlan {
  choices: Array<{ text: string; finishReason: 'stop' | 'length' }>;
  usage: JsonRecord;
}

/** The prompts of a legacy request: a text, texts, one list of token ids, or lists of them. */
function completionPrompts(prompt: unknown): string[] {
  if (typeof prompt === 'string') return [prompt];
  const items = asArray(prompt);
  if (items.length === 0) return [''];
  if (items.every((item) => typeof item === 'number')) return [items.join(' ')];
  return items.map((item) => (typeof item === 'string' ? item : asArray(item).join(' ')));
}

/** Legacy `/completions`: echo each prompt, `n` times, as OpenAI orders the choices (prompt-major). */
export function planCompletion(body: JsonRecord, overrideText: string | undefined): CompletionPlan {
  const prompts = completionPrompts(body.prompt);
  const n = Math.max(1, asNumber(body.n) ?? 1);
  const choices = prompts.flatMap((prompt) => {
    const limited = applyLimits(overrideText ?? `Echo: ${prompt}`, asNumber(body.max_tokens), stopList(body.stop));
    const finishReason: 'stop' | 'length' = limited.reason === 'length' ? 'length' : 'stop';
    return Array.from({ length: n }, () => ({ text: limited.text, finishReason }));
  });
  const usage = openAIUsage(prompts.join('\n'), choices.map((choice) => choice.text).join(''), false);
  return { choices, usage };
}

export function completionBody(plan: CompletionPlan, meta: ResponseMeta): JsonRecord {
  return {
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: plan.choices.map(({ text, finishReason }, index) => ({
      text,
      index,
      logprobs: null,
      finish_reason: finishReason,
    })),
    usage: plan.usage,
    system_fingerprint: 'fp_fake',
  };
}

/** Each choice's text word by word, then its finish; the choices take turns, as OpenAI's do. */
export function completionEvents(plan: CompletionPlan, meta: ResponseMeta, includeUsage: boolean): SseEvent[] {
  const chunk = (index: number, text: string, finishReason: string | null): SseEvent => ({
    data: {
      id: meta.id,
      object: 'text_completion',
      created: meta.created,
      model: meta.model,
      choices: [{ text, index, logprobs: null, finish_reason: finishReason }],
    },
  });
  const perChoice = plan.choices.map(({ text, finishReason }, index) => [
    ...splitWords(text).map((piece) => chunk(index, piece, null)),
    chunk(index, '', finishReason),
  ]);
  const events: SseEvent[] = [];
  for (let step = 0; step < Math.max(...perChoice.map((c) => c.length)); step++) {
    for (const choiceEvents of perChoice) if (step < choiceEvents.length) events.push(choiceEvents[step]);
  }
  return finishStream(events, meta, 'text_completion', includeUsage ? plan.usage : undefined);
}

const SAFE = { filtered: false, severity: 'safe' };

/**
 * A stream as Azure's asynchronous content filter sends it: opened by the prompt's
 * annotation (`choices: []`, `prompt_filter_results`), and each piece of text
 * followed, later, by an annotation of it: a choice with `content_filter_results` and
 * `content_filter_offsets` but no `delta` (no `text` for a legacy completion), its
 * chunk's `id`, `model` and `object` empty and `created` 0.
 */
export function withAsyncFilterAnnotations(events: SseEvent[]): SseEvent[] {
  const empty = { id: '', object: '', created: 0, model: '' };
  const out: SseEvent[] = [
    {
      data: {
        choices: [],
        ...empty,
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: SAFE, violence: SAFE } }],
      },
    },
  ];
  let offset = 0;
  for (const event of events) {
    out.push(event);
    const choices = typeof event.data === 'object' ? (event.data as { choices?: JsonRecord[] }).choices : undefined;
    const first = choices?.[0];
    const text = first === undefined ? undefined : ((first.delta as JsonRecord | undefined)?.content ?? first.text);
    if (first === undefined || typeof text !== 'string' || text === '') continue;
    const end = offset + text.length;
    out.push({
      data: {
        ...empty,
        choices: [
          {
            index: first.index,
            finish_reason: null,
            content_filter_results: { hate: SAFE, violence: SAFE },
            content_filter_offsets: { check_offset: offset, start_offset: offset, end_offset: end },
          },
        ],
      },
    });
    offset = end;
  }
  return out;
}
