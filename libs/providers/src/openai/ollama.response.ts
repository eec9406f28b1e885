import type { ChatChunk, ChatResponse, CompletionChunk, CompletionRequest, CompletionResponse } from '@app/contracts';

/**
 * Pure: answers as OpenAI gives them for fields Ollama ignores. Legacy completions for
 * `echo`: the prompt before each choice's text (in a stream, at the start of each
 * choice's first chunk); Ollama takes a single text prompt, so that is the one echoed.
 * Chat for `parallel_tool_calls: false`: one tool call a turn. Answers are new objects:
 * what was parsed is forwarded as the text it came in, so it is never changed.
 */

/** The prompt to put before the text, or `undefined` when nothing is to be echoed. */
export function echoedPrompt(req: CompletionRequest): string | undefined {
  if (req.echo !== true) return undefined;
  const prompt = req.prompt;
  if (typeof prompt === 'string') return prompt;
  return Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string' ? prompt[0] : undefined;
}

export function echoCompletion(res: CompletionResponse, prompt: string): CompletionResponse {
  return { ...res, choices: res.choices.map((choice) => ({ ...choice, text: prompt + (choice.text ?? '') })) };
}

export async function* echoCompletionChunks(
  chunks: AsyncIterable<CompletionChunk>,
  prompt: string,
): AsyncGenerator<CompletionChunk> {
  const echoed = new Set<number>();
  for await (const chunk of chunks) {
    if (chunk.choices.every((choice) => echoed.has(choice.index))) {
      yield chunk;
      continue;
    }
    const choices = chunk.choices.map((choice) => {
      if (echoed.has(choice.index)) return choice;
      echoed.add(choice.index);
      return { ...choice, text: prompt + (choice.text ?? '') };
    });
    yield { ...chunk, choices };
  }
}

/**
 * Pure: a chat answer held to `parallel_tool_calls: false`, which Ollama ignores (its
 * request type has no such field): each choice keeps its first tool call, as OpenAI
 * promises (at most one call a turn); the model can make the next one next turn.
 */
export function firstToolCall(res: ChatResponse): ChatResponse {
  if (!res.choices.some((choice) => (choice.message.tool_calls?.length ?? 0) > 1)) return res;
  const choices = res.choices.map((choice) => {
    const calls = choice.message.tool_calls;
    return calls && calls.length > 1
      ? { ...choice, message: { ...choice.message, tool_calls: calls.slice(0, 1) } }
      : choice;
  });
  return { ...res, choices };
}

/**
 * The stream of {@link firstToolCall}: tool call deltas past a choice's first call
 * (index 0) are left out, and a chunk left with nothing to say (an empty delta, no
 * finish, no usage) with them: OpenAI never sends one.
 */
export async function* firstToolCallChunks(chunks: AsyncIterable<ChatChunk>): AsyncGenerator<ChatChunk> {
  for await (const chunk of chunks) {
    const kept = withFirstToolCall(chunk);
    if (kept === chunk || !saysNothing(kept)) yield kept;
  }
}

function saysNothing(chunk: ChatChunk): boolean {
  return (
    !chunk.usage &&
    chunk.choices.every(
      (choice) => !choice.finish_reason && !choice.logprobs && Object.keys(choice.delta ?? {}).length === 0,
    )
  );
}

function withFirstToolCall(chunk: ChatChunk): ChatChunk {
  if (chunk.choices.every((choice) => (choice.delta?.tool_calls ?? []).every((call) => call.index === 0))) return chunk;
  const choices = chunk.choices.map((choice) => {
    const calls = choice.delta?.tool_calls;
    if (!calls || calls.every((call) => call.index === 0)) return choice;
    const kept = calls.filter((call) => call.index === 0);
    const { tool_calls: _later, ...delta } = choice.delta;
    return { ...choice, delta: kept.length > 0 ? { ...delta, tool_calls: kept } : delta };
  });
  return { ...chunk, choices };
}
