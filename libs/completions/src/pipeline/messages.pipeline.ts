import { Injectable, Logger } from '@nestjs/common';
import {
  type AnthropicMessage,
  type AnthropicCountTokensRequest,
  type AnthropicMessageRequest,
  GatewayError,
  headerValue,
  withFields,
} from '@app/contracts';
import { type CallContext, ProviderError, type RouteTarget } from '@app/providers';
import { anthropicToChat, nativeMessagesRequest, validateChatRequest } from '../translate';
import { GenerationRunner } from './generation-runner';
import { MessagesCaller, MessagesRequest } from './messages-caller';
import { messageChars, messagesEvents, messagesPartReader } from './messages-stream';
import { ProviderCaller } from './provider-caller';
import { RequestAdmission } from './request-admission.service';
import type { RequestContext } from './request-context';
import { estimateMessagesPromptTokens, estimateMessagesTokens, estimatePromptTokens } from './token-estimate';
import { anthropicTokenUsage, reportedOrEstimated } from './token-usage';

/** Failures of an upstream count that are the request's own fault: reported, not estimated over. */
const REQUEST_FAULTS = new Set([400, 413, 422]);

/**
 * Anthropic's `POST /v1/messages`, inbound, on any provider, with what every
 * generation gets around its call (admission, routing with retries and
 * fallbacks, usage). Each target is called natively when its provider speaks
 * the Messages API (Anthropic: the request as the client sent it but for
 * `model`, the answer or its events as they came), else through a translation
 * to the canonical chat request and back (JSON, or Anthropic's SSE event
 * sequence); so a route may mix both and fall back from one to the other. Every
 * answer names the model the client asked for.
 */
@Injectable()
export class MessagesPipeline {
  private readonly logger = new Logger(MessagesPipeline.name);

  constructor(
    private readonly runner: GenerationRunner,
    private readonly targets: MessagesCaller,
    private readonly admission: RequestAdmission,
    private readonly caller: ProviderCaller,
  ) {}

  async create(body: AnthropicMessageRequest, ctx: RequestContext) {
    const request = new MessagesRequest(body, false);
    const { value, headers } = await this.runner.json(ctx, {
      model: body.model,
      estimatedTokens: estimateMessagesTokens(body),
      promptEstimate: estimateMessagesPromptTokens(body),
      checkPlan: (plan) => this.targets.checkPlan(plan, request),
      call: (target) => this.targets.create(target, request, ctx),
      usage: (message) =>
        reportedOrEstimated(
          anthropicTokenUsage(message.usage),
          () => estimateMessagesPromptTokens(body),
          () => messageChars(message),
        ),
      modelServed: (message) => message.model,
    });
    return { value: withFields(value, { model: body.model, usage: usageOrEstimate(value, body) }), headers };
  }

  async stream(body: AnthropicMessageRequest, ctx: RequestContext) {
    const request = new MessagesRequest(body, true);
    const { headers, chunks } = await this.runner.stream(ctx, {
      model: body.model,
      estimatedTokens: estimateMessagesTokens(body),
      promptEstimate: estimateMessagesPromptTokens(body),
      includeUsage: true,
      checkPlan: (plan) => this.targets.checkPlan(plan, request),
      open: (target) => this.targets.open(target, request, ctx),
      reader: messagesPartReader,
    });
    return { headers, events: messagesEvents(chunks) };
  }

  /**
   * `POST /v1/messages/count_tokens`: the input tokens of a Messages request for the
   * model it names (a route counts on its first target). The upstream counts where
   * it can (Anthropic); elsewhere, or when the upstream cannot count (its endpoint
   * missing, down, rate-limited), the gateway estimates (~4 characters a token, as
   * the rate limiter does). `x-gateway-token-count` says which (`upstream` or
   * `estimated`). Nothing is generated: no limit is taken and no usage recorded.
   */
  async countTokens(
    body: AnthropicCountTokensRequest,
    ctx: RequestContext,
  ): Promise<{ value: { input_tokens: number }; headers: Record<string, string> }> {
    // The first target that can carry the request counts it, as the first that can serve it answers it.
    let refusal: unknown;
    for (const target of this.admission.resolve(body.model, ctx).targets) {
      try {
        return await this.countOn(target, body, ctx);
      } catch (error) {
        const cannotCarry = error instanceof GatewayError && !(error instanceof ProviderError) && error.status === 400;
        if (!cannotCarry || ctx.clientGone) throw error;
        refusal = error;
      }
    }
    throw refusal;
  }

  private async countOn(
    target: RouteTarget,
    body: AnthropicCountTokensRequest,
    ctx: RequestContext,
  ): Promise<{ value: { input_tokens: number }; headers: Record<string, string> }> {
    const provider = this.caller.provider(target);
    let counted: number | undefined;
    let estimate: () => number;
    const countMessageTokens = provider.adapter.countMessageTokens?.bind(provider.adapter);
    const countTokens = provider.adapter.countTokens?.bind(provider.adapter);
    if (countMessageTokens) {
      // Counted natively, as /v1/messages calls this provider: server tools and the like count as they are.
      const native = withFields(nativeMessagesRequest(body), { model: target.model });
      counted = await this.upstreamCount(target, ctx, (call) => countMessageTokens(native, call));
      estimate = () => estimateMessagesPromptTokens(body);
    } else {
      // The translation needs a max_tokens; no count includes it.
      const req = anthropicToChat(withFields(body, { max_tokens: body.max_tokens ?? 1 }));
      validateChatRequest(req);
      const translated = withFields(req, { model: target.model });
      if (countTokens) {
        counted = await this.upstreamCount(target, ctx, (call) => countTokens(translated, call));
      }
      estimate = () => estimatePromptTokens(req);
    }
    const headers = {
      'x-gateway-provider': headerValue(target.provider),
      'x-gateway-model': headerValue(target.model),
      'x-gateway-token-count': counted === undefined ? 'estimated' : 'upstream',
    };
    return { value: { input_tokens: counted ?? estimate() }, headers };
  }

  /** The upstream's count, or `undefined` where there is none to be had. */
  private async upstreamCount(
    target: RouteTarget,
    ctx: RequestContext,
    count: (call: CallContext) => Promise<number>,
  ): Promise<number | undefined> {
    const provider = this.caller.provider(target);
    try {
      return await count(this.caller.callContext(target, provider, ctx));
    } catch (error) {
      if (ctx.clientGone || (error instanceof GatewayError && REQUEST_FAULTS.has(error.status))) throw error;
      this.logger.warn(`count_tokens on ${target.provider} failed, estimating: ${(error as Error).message}`);
      return undefined;
    }
  }
}

/**
 * An answer's usage, or, when its upstream reported none (a translated answer then
 * says 0 and 0), the estimate the gateway records and limits by: a client reading
 * `usage` is told what it is charged, not nothing.
 */
function usageOrEstimate(message: AnthropicMessage, body: AnthropicMessageRequest): AnthropicMessage['usage'] {
  const usage = message.usage;
  if (usage && (usage.input_tokens > 0 || usage.output_tokens > 0)) return usage;
  return withFields(usage ?? {}, {
    input_tokens: estimateMessagesPromptTokens(body),
    output_tokens: Math.ceil(messageChars(message) / 4),
  });
}
