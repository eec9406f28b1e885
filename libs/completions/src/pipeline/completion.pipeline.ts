import { Injectable } from '@nestjs/common';
import type {
  CompletionChunk,
  CompletionRequest,
  CompletionResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from '@app/contracts';
import { withFields } from '@app/contracts';
import { tokenCount } from '@app/providers';
import { GenerationRunner } from './generation-runner';
import { NO_USAGE, reportedOrEstimated, tokenUsage, withUsageTold } from './token-usage';
import { ProviderCaller } from './provider-caller';
import type { RequestContext } from './request-context';
import { type ChunkReader, usageChunkAfter, withNullUsage, withoutUsage } from './stream-relay';
import { estimateTokens } from './token-estimate';

const completionChunkReader: ChunkReader<CompletionChunk> = {
  usage: (chunk) => (chunk.usage ? tokenUsage(chunk.usage) : undefined),
  outputChars: (chunk) => chunk.choices.reduce((sum, choice) => sum + (choice.text?.length ?? 0), 0),
  model: (chunk) => chunk.model,
  withoutUsage,
  withUsage: withNullUsage,
  usageChunk: usageChunkAfter,
};

/** `POST /v1/completions` (legacy) and `POST /v1/embeddings` over any provider that can serve them. */
@Injectable()
export class CompletionPipeline {
  constructor(
    private readonly runner: GenerationRunner,
    private readonly caller: ProviderCaller,
  ) {}

  complete(
    req: CompletionRequest,
    ctx: RequestContext,
  ): Promise<{ value: CompletionResponse; headers: Record<string, string> }> {
    return this.runner.json(ctx, {
      model: req.model,
      estimatedTokens: estimateTokens(req.prompt) + (req.max_tokens ?? 0) * (req.n ?? 1),
      promptEstimate: estimateTokens(req.prompt),
      call: (target) => this.caller.completion(target, req, ctx),
      usage: (res) =>
        reportedOrEstimated(
          tokenUsage(res.usage),
          () => estimateTokens(req.prompt),
          () => (res.choices ?? []).reduce((sum, choice) => sum + (choice.text?.length ?? 0), 0),
        ),
      modelServed: (res) => res.model,
      answer: withUsageTold,
    });
  }

  stream(req: CompletionRequest, ctx: RequestContext) {
    return this.runner.stream(ctx, {
      model: req.model,
      estimatedTokens: estimateTokens(req.prompt) + (req.max_tokens ?? 0) * (req.n ?? 1),
      promptEstimate: estimateTokens(req.prompt),
      includeUsage: req.stream_options?.include_usage === true,
      open: (target) => this.caller.openCompletionStream(target, req, ctx),
      reader: completionChunkReader,
    });
  }

  embed(
    req: EmbeddingRequest,
    ctx: RequestContext,
  ): Promise<{ value: EmbeddingResponse; headers: Record<string, string> }> {
    const estimatedTokens = estimateTokens(req.input);
    return this.runner.json(ctx, {
      model: req.model,
      estimatedTokens,
      promptEstimate: estimatedTokens,
      call: (target) => this.caller.embed(target, req, ctx),
      // A server that leaves usage out, or counts nothing (some OpenAI-compatible ones do), is billed and
      // limited on the estimate, not for nothing.
      usage: (res) => withFields(NO_USAGE, { promptTokens: tokenCount(res.usage?.prompt_tokens) || estimatedTokens }),
      modelServed: (res) => res.model,
    });
  }
}
