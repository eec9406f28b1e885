import {
  type ChatChunk,
  type ChatRequest,
  type ChatResponse,
  type CompletionChunk,
  type CompletionRequest,
  type CompletionResponse,
  GatewayError,
  withFields,
} from '@app/contracts';

/**
 * What chat cannot express, with the values that ask for nothing: `logprobs` asks
 * for log probabilities at any number (0 is the sampled tokens' own), `best_of` 1
 * and an empty `suffix` change nothing, and `max_tokens` 0 (a prompt scored, not
 * continued) is no chat request.
 */
const UNSUPPORTED_ON_CHAT = {
  suffix: (value: unknown) => value === '',
  best_of: (value: unknown) => value === 1,
  max_tokens: (value: unknown) => value !== 0,
  logprobs: () => false,
} as const;

/**
 * A legacy completion as a chat request, for providers that only speak chat:
 * the prompt becomes one user message. What chat cannot express is refused
 * visibly rather than dropped.
 */
export function completionToChat(req: CompletionRequest, provider: string): ChatRequest {
  const prompt = singlePrompt(req.prompt, provider);
  for (const [field, asksNothing] of Object.entries(UNSUPPORTED_ON_CHAT)) {
    const value = req[field];
    if (value !== undefined && value !== null && !asksNothing(value)) {
      throw new GatewayError(
        'invalid_request_error',
        `"${field}" is not supported for legacy completions on provider "${provider}".`,
        { param: field, unsupported: true },
      );
    }
  }
  const { prompt: _prompt, echo: _echo, suffix: _suffix, best_of: _bestOf, logprobs: _logprobs, ...rest } = req;
  return withFields(rest, { messages: [{ role: 'user' as const, content: prompt }] });
}

export function chatToCompletion(res: ChatResponse, req: CompletionRequest): CompletionResponse {
  const prefix = req.echo ? singlePrompt(req.prompt, '') : '';
  return {
    id: res.id.replace(/^chatcmpl-/, 'cmpl-'),
    object: 'text_completion',
    created: res.created,
    model: res.model,
    system_fingerprint: res.system_fingerprint ?? undefined,
    choices: res.choices.map((choice) => ({
      index: choice.index,
      text: prefix + (choice.message.content ?? ''),
      logprobs: null,
      finish_reason:
        choice.finish_reason === 'tool_calls' || choice.finish_reason === 'function_call'
          ? 'stop'
          : choice.finish_reason,
    })),
    usage: res.usage,
  };
}

/**
 * Chat chunks as legacy completion chunks, for one stream: with `echo`, the prompt
 * opens each choice's text (its first chunk), as in OpenAI's own streams.
 */
export function chatChunksToCompletion(req: CompletionRequest): (chunk: ChatChunk) => CompletionChunk {
  if (!req.echo) return chatChunkToCompletion;
  const prompt = singlePrompt(req.prompt, '');
  const echoed = new Set<number>();
  return (chunk) => {
    const out = chatChunkToCompletion(chunk);
    for (const choice of out.choices) {
      if (echoed.has(choice.index)) continue;
      echoed.add(choice.index);
      choice.text = prompt + choice.text;
    }
    return out;
  };
}

export function chatChunkToCompletion(chunk: ChatChunk): CompletionChunk {
  return {
    id: chunk.id.replace(/^chatcmpl-/, 'cmpl-'),
    object: 'text_completion',
    created: chunk.created,
    model: chunk.model,
    choices: chunk.choices.map((choice) => ({
      index: choice.index,
      text: choice.delta?.content ?? '',
      logprobs: null,
      finish_reason:
        choice.finish_reason === 'tool_calls' || choice.finish_reason === 'function_call'
          ? 'stop'
          : (choice.finish_reason ?? null),
    })),
    usage: chunk.usage ?? undefined,
  };
}

function singlePrompt(prompt: CompletionRequest['prompt'], provider: string): string {
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  if (prompt === null || prompt === undefined) return '';
  throw new GatewayError(
    'invalid_request_error',
    `Provider "${provider}" takes a single text prompt for legacy completions (no token arrays or batches).`,
    { param: 'prompt', unsupported: true },
  );
}
