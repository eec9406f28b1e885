import { Injectable } from '@nestjs/common';
import type { ChatChunk, ChatRequest, ChatResponse } from '@app/contracts';
import { validateChatRequest } from '../translate';
import { GenerationRunner } from './generation-runner';
import { reportedOrEstimated, tokenUsage } from './token-usage';
import { ProviderCaller } from './provider-caller';
import type { RequestContext } from './request-context';
import { type ChunkReader, withoutUsage } from './stream-relay';
import { estimateChatTokens, estimateTokens } from './token-estimate';

export const chatChunkReader: ChunkReader<ChatChunk> = {
  usage: (chunk) => (chunk.usage ? tokenUsage(chunk.usage) : undefined),
  outputChars: (chunk) =>
    chunk.choices.reduce(
      (sum, choice) =>
        sum +
        (choice.delta?.content?.length ?? 0) +
        (choice.delta?.tool_calls?.reduce((n, call) => n + (call.function?.arguments?.length ?? 0), 0) ?? 0),
      0,
    ),
  model: (chunk) => chunk.model,
  withoutUsage,
};

/** Characters of generated output in an answer, to estimate its usage when the upstream gave none. */
function answerChars(res: ChatResponse): number {
  let chars = 0;
  for (const choice of res.choices ?? []) {
    chars += choice.message?.content?.length ?? 0;
    for (const call of choice.message?.tool_calls ?? []) {
      chars += call.type === 'function' ? (call.function?.arguments?.length ?? 0) : (call.custom?.input?.length ?? 0);
    }
  }
  return chars;
}

/** `POST /v1/chat/completions` over any provider, JSON or streamed. */
@Injectable()
export class ChatPipeline {
  constructor(
    private readonly runner: GenerationRunner,
    private readonly caller: ProviderCaller,
  ) {}

  /** `checkJson`: a `json_schema` reply is validated even when natively produced (see `ProviderCaller.chat`). */
  complete(
    req: ChatRequest,
    ctx: RequestContext,
    checkJson = false,
  ): Promise<{ value: ChatResponse; headers: Record<string, string> }> {
    validateChatRequest(req);
    return this.runner.json(ctx, {
      model: req.model,
      estimatedTokens: estimateChatTokens(req),
      call: (target) => this.caller.chat(target, req, ctx, checkJson),
      usage: (res) =>
        reportedOrEstimated(
          tokenUsage(res.usage),
          () => estimateTokens(req.messages),
          () => answerChars(res),
        ),
      modelServed: (res) => res.model,
    });
  }

  stream(req: ChatRequest, ctx: RequestContext) {
    validateChatRequest(req);
    return this.runner.stream(ctx, {
      model: req.model,
      estimatedTokens: estimateChatTokens(req),
      promptEstimate: estimateTokens(req.messages),
      includeUsage: req.stream_options?.include_usage === true,
      open: (target) => this.caller.openStream(target, req, ctx),
      reader: chatChunkReader,
    });
  }
}
