import { Injectable } from '@nestjs/common';
import type { ChatChunk, ChatRequest, ChatResponse } from '@app/contracts';
import { startedUsage } from '@app/providers';
import { validateChatRequest } from '../translate';
import { GenerationRunner } from './generation-runner';
import { reportedOrEstimated, tokenUsage, withUsageTold } from './token-usage';
import { ProviderCaller } from './provider-caller';
import type { RequestContext } from './request-context';
import { type ChunkReader, usageChunkAfter, withNullUsage, withoutUsage } from './stream-relay';
import { estimateChatTokens, estimateTokens } from './token-estimate';

/**
 * Characters of generated output in a message or a delta: its text and its tool
 * calls' arguments (a custom tool's input). Read defensively: what an upstream
 * sent inside a choice is passed on unchecked.
 */
function generatedChars(part: unknown): number {
  const fields = part as { content?: unknown; tool_calls?: unknown } | null | undefined;
  let chars = typeof fields?.content === 'string' ? fields.content.length : 0;
  if (!Array.isArray(fields?.tool_calls)) return chars;
  type Call = { function?: { arguments?: unknown }; custom?: { input?: unknown } } | null;
  for (const call of fields.tool_calls as Call[]) {
    const args = call?.function?.arguments ?? call?.custom?.input;
    if (typeof args === 'string') chars += args.length;
  }
  return chars;
}

export const chatChunkReader: ChunkReader<ChatChunk> = {
  usage: (chunk) => (chunk.usage ? tokenUsage(chunk.usage) : undefined),
  outputChars: (chunk) => chunk.choices.reduce((sum, choice) => sum + generatedChars(choice.delta), 0),
  model: (chunk) => chunk.model,
  withoutUsage,
  withUsage: withNullUsage,
  startUsage: (chunk) => {
    const usage = startedUsage(chunk);
    return usage && tokenUsage(usage);
  },
  usageChunk: usageChunkAfter,
};

/** Characters of generated output in an answer, to estimate its usage when the upstream gave none. */
function answerChars(res: ChatResponse): number {
  return res.choices.reduce((sum, choice) => sum + generatedChars(choice.message), 0);
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
      promptEstimate: estimateTokens(req.messages),
      call: (target) => this.caller.chat(target, req, ctx, checkJson),
      usage: (res) =>
        reportedOrEstimated(
          tokenUsage(res.usage),
          () => estimateTokens(req.messages),
          () => answerChars(res),
        ),
      modelServed: (res) => res.model,
      answer: withUsageTold,
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
