import type { ChatRequest, CompletionRequest } from '@app/contracts';
import { GatewayError, customToolParam } from '@app/contracts';

/** Pure: where the mock's replies end, as a model's would, and what it cannot answer. */

/** Characters of all `n` choices together, when n > 1: n copies of a large echo are refused, one is not. */
export const MAX_MOCK_CHOICES_CHARS = 1_000_000;

/**
 * How many choices to answer: `n`, unless `n` replies of about `chars`
 * characters each would be more than {@link MAX_MOCK_CHOICES_CHARS}. Checked
 * before the others are built, and again on all of them ({@link checkChoicesSize}).
 */
export function choiceCount(n: number | null | undefined, chars: number): number {
  const count = n ?? 1;
  if (count > 1) checkChoicesSize(count, count * chars);
  return count;
}

/** Choices of one answer (prompts of a batch times `n`): each costs the event loop, even an empty one. */
export const MAX_MOCK_CHOICES = 10_000;

export function checkChoiceCount(count: number): void {
  if (count <= MAX_MOCK_CHOICES) return;
  throw new GatewayError(
    'invalid_request_error',
    `The mock provider answers at most ${MAX_MOCK_CHOICES} choices (prompts times n); this request asks for ${count}.`,
    { param: 'prompt', unsupported: true },
  );
}

export function checkChoicesSize(count: number, chars: number): void {
  if (count <= 1 || chars <= MAX_MOCK_CHOICES_CHARS) return;
  throw new GatewayError(
    'invalid_request_error',
    `The mock provider writes at most ${MAX_MOCK_CHOICES_CHARS} characters for n choices; ` +
      `${count} replies take ${chars}. Ask for fewer choices.`,
    { param: 'n', unsupported: true },
  );
}

/** A reply's text as the mock ends it, and why it ended. */
export interface LimitedText {
  text: string;
  finish: 'stop' | 'length';
  /** The stop sequence the text ended before, if one did (vLLM names it in the choice's `stop_reason`). */
  stopSequence?: string;
}

/** The stop sequences of a request (`stop` as a string or a list); empty ones stop nothing. */
function stopSequences(stop: ChatRequest['stop']): string[] {
  const list = typeof stop === 'string' ? [stop] : (stop ?? []);
  return list.filter((sequence) => sequence !== '');
}

/**
 * `text` ended as a model ends its output: before the first stop sequence it contains
 * (finish `stop`), then after `maxTokens` tokens, the mock's tokens being words (finish
 * `length`, as when a model runs out of tokens).
 */
export function limitText(text: string, stop: ChatRequest['stop'], maxTokens: number | null | undefined): LimitedText {
  let cut = Infinity;
  let matched: string | undefined;
  for (const sequence of stopSequences(stop)) {
    const at = text.indexOf(sequence);
    if (at >= 0 && at < cut) [cut, matched] = [at, sequence];
  }
  const stopped = matched === undefined ? text : text.slice(0, cut);
  const ended =
    matched === undefined
      ? { text: stopped, finish: 'stop' as const }
      : { text: stopped, finish: 'stop' as const, stopSequence: matched };
  if (maxTokens === null || maxTokens === undefined) return ended;
  const tokens = [...stopped.matchAll(/\S+/g)];
  if (tokens.length <= maxTokens) return ended;
  const last = tokens[maxTokens - 1];
  return { text: last ? stopped.slice(0, last.index + last[0].length) : '', finish: 'length' };
}

function noLogprobs(param: string): GatewayError {
  return new GatewayError(
    'invalid_request_error',
    'The mock provider has no token probabilities: logprobs are not supported by it.',
    { param, unsupported: true },
  );
}

/** Custom (free-form) tools: the mock builds calls from a function's parameters, and a custom tool has none. */
export function rejectCustomTools(req: ChatRequest): void {
  const param = customToolParam(req);
  if (param === undefined) return;
  throw new GatewayError('invalid_request_error', 'custom tools are not supported by the mock provider', {
    param,
    unsupported: true,
  });
}

/** Audio output (`modalities` with `audio`, or `audio`): refused, never answered as text alone as if asked for it. */
export function rejectAudioOutput(req: ChatRequest): void {
  const modalities = (req as { modalities?: unknown }).modalities;
  const audio = (req as { audio?: unknown }).audio;
  if (Array.isArray(modalities) && modalities.includes('audio')) throw noAudio('modalities');
  if (audio !== undefined && audio !== null) throw noAudio('audio');
}

function noAudio(param: string): GatewayError {
  return new GatewayError(
    'invalid_request_error',
    'The mock provider answers text only: audio output is not supported by it.',
    { param, unsupported: true },
  );
}

/** Chat `logprobs` / `top_logprobs`: refused, never answered with `logprobs: null` as if asked for nothing. */
export function rejectChatLogprobs(req: ChatRequest): void {
  if (req.logprobs === true) throw noLogprobs('logprobs');
  if (req.top_logprobs !== undefined && req.top_logprobs !== null) throw noLogprobs('top_logprobs');
}

/** Legacy `logprobs` asks for the sampled tokens' probabilities at any value, 0 included. */
export function rejectCompletionLogprobs(req: CompletionRequest): void {
  if (req.logprobs !== undefined && req.logprobs !== null) throw noLogprobs('logprobs');
}
