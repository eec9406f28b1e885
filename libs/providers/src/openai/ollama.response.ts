import type { CompletionChunk, CompletionRequest, CompletionResponse } from '@app/contracts';

/**
 * Pure: legacy completion answers as OpenAI gives them for `echo`, which Ollama
 * ignores: the prompt before each choice's text (in a stream, at the start of each
 * choice's first chunk). Ollama takes a single text prompt only (it refuses the
 * others), so that is the one echoed. Answers are new objects: what was parsed is
 * forwarded as the text it came in, so it is never changed.
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
