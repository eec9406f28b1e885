import type { CompletionRequest, CompletionResponse, Usage } from '@app/contracts';
import {
  checkChoiceCount,
  checkChoicesSize,
  choiceCount,
  limitText,
  rejectCompletionLogprobs,
  type LimitedText,
} from './mock.limits';
import { completionPrompts, countTokens, mockPrefix, stableHash, tokenUsage } from './mock.reply';

/** Pure: what the mock answers to a legacy completion request. */

export interface CompletionPlan {
  base: Omit<CompletionResponse, 'choices' | 'usage'>;
  /** One per choice: prompt-major, `n` per prompt; with `echo`, the prompt before the text. */
  choices: LimitedText[];
  usage: Usage;
}

/**
 * Each prompt's `n` answers: `[mock] <prompt>`, then `[mock:1] <prompt>`, `[mock:2] <prompt>`...,
 * ended at `stop` and after `max_tokens` words.
 */
export function completionPlan(request: CompletionRequest): CompletionPlan {
  rejectCompletionLogprobs(request);
  const prompts = completionPrompts(request.prompt);
  const n = choiceCount(
    request.n,
    prompts.reduce((sum, prompt) => sum + prompt.text.length + 7, 0),
  );
  checkChoiceCount(prompts.length * n);
  const answers = prompts.flatMap((prompt) =>
    Array.from({ length: n }, (_, choice) => ({
      prompt: prompt.text,
      ...limitText(`${mockPrefix(choice)} ${prompt.text}`, request.stop, request.max_tokens),
    })),
  );
  const choices = answers.map(({ prompt, text, finish }) => ({
    text: request.echo === true ? prompt + text : text,
    finish,
  }));
  // All choices together, of a batch of prompts too (n copies of one large echo were the first case).
  checkChoicesSize(
    choices.length,
    choices.reduce((sum, choice) => sum + choice.text.length, 0),
  );
  const key = typeof request.prompt === 'string' ? request.prompt : JSON.stringify(request.prompt ?? '');
  return {
    base: {
      id: `cmpl-mock-${stableHash(key)}`,
      object: 'text_completion' as const,
      created: Math.floor(Date.now() / 1000),
      model: request.model,
    },
    choices,
    usage: tokenUsage(
      prompts.reduce((sum, prompt) => sum + prompt.tokens, 0),
      answers.reduce((sum, answer) => sum + countTokens(answer.text), 0),
    ),
  };
}
