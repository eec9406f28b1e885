import { Injectable } from '@nestjs/common';
import {
  type AnthropicMessage,
  type AnthropicMessageRequest,
  type ChatRequest,
  GatewayError,
  asError,
  withFields,
} from '@app/contracts';
import { type ProviderAdapter, ProviderError, type RoutePlan, type RouteTarget } from '@app/providers';
import { ProviderRegistry } from '../catalog';
import { anthropicToChat, chatToAnthropic, nativeMessagesRequest, validateChatRequest } from '../translate';
import type { OpenedStream } from './generation-runner';
import { type MessagesStreamPart, nativeParts, translatedParts } from './messages-stream';
import { ProviderCaller } from './provider-caller';
import type { RequestContext } from './request-context';
import { estimateMessagesPromptTokens } from './token-estimate';

/** An adapter that speaks Anthropic's Messages API itself. */
type NativeAdapter = Required<Pick<ProviderAdapter, 'createMessage' | 'streamMessage'>>;

function nativeAdapter(adapter: ProviderAdapter): NativeAdapter | undefined {
  return adapter.createMessage && adapter.streamMessage ? (adapter as NativeAdapter) : undefined;
}

/**
 * A `/v1/messages` request: the client's body, and its chat translation, made
 * once, when a target that needs it is tried (a request that only Anthropic
 * providers serve is never translated).
 */
export class MessagesRequest {
  private translated: ChatRequest | undefined;

  constructor(
    readonly body: AnthropicMessageRequest,
    private readonly stream: boolean,
  ) {}

  /** The request for a native target (see `nativeMessagesRequest`), with that target's model. */
  nativeFor(model: string): AnthropicMessageRequest {
    return withFields(nativeMessagesRequest(this.body), { model });
  }

  /** The chat translation; what the chat format has no place for is thrown (a 400 naming it). */
  chat(): ChatRequest {
    if (this.translated) return this.translated;
    const fields = this.stream ? { stream: true, stream_options: { include_usage: true } } : { stream: false };
    const req: ChatRequest = withFields(anthropicToChat(this.body), fields);
    validateChatRequest(req);
    return (this.translated = req);
  }

  /**
   * The translation for one target of a plan that has native ones too: what it
   * cannot carry (Anthropic's server tools...) fails this target alone, with the
   * same 400, which the router holds neither against the provider nor against the
   * request: the next target is tried.
   */
  chatFor(provider: string): ChatRequest {
    try {
      return this.chat();
    } catch (error) {
      if (!(error instanceof GatewayError) || error instanceof ProviderError) throw error;
      throw new ProviderError(error.code, `Provider "${provider}" cannot serve this request: ${error.message}`, {
        provider,
        reason: 'unsupported',
        retryable: false,
        status: error.status,
        param: error.param,
      });
    }
  }
}

/**
 * Calls one target for a `/v1/messages` request: natively where its provider
 * speaks Anthropic's Messages API (the client's request as it is but for
 * `model`; the answer as it came), elsewhere translated to chat, called as
 * `/v1/chat/completions` calls it (`ProviderCaller`: the provider's fitting,
 * tool and JSON emulation, repair turns) and translated back.
 */
@Injectable()
export class MessagesCaller {
  constructor(
    private readonly caller: ProviderCaller,
    private readonly registry: ProviderRegistry,
  ) {}

  /**
   * A plan none of whose targets is native is translated before any limit is
   * taken: what the translation cannot carry is the client's 400 on every target.
   */
  checkPlan(plan: RoutePlan, request: MessagesRequest): void {
    if (!plan.targets.some((target) => this.isNative(target))) request.chat();
  }

  create(target: RouteTarget, request: MessagesRequest, ctx: RequestContext): Promise<AnthropicMessage> {
    try {
      const provider = this.caller.provider(target);
      const native = nativeAdapter(provider.adapter);
      // Natively served, the adapter's promise is the answer: no async layer of our own.
      if (native) {
        const call = this.caller.callContext(target, provider, ctx);
        return native.createMessage(request.nativeFor(target.model), call);
      }
      return this.translated(target, request.chatFor(provider.name), ctx);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  async open(
    target: RouteTarget,
    request: MessagesRequest,
    ctx: RequestContext,
  ): Promise<OpenedStream<MessagesStreamPart>> {
    const provider = this.caller.provider(target);
    const native = nativeAdapter(provider.adapter);
    if (!native) {
      const chat = await this.caller.openStream(target, request.chatFor(provider.name), ctx);
      return translatedParts(chat, request.body.model, estimateMessagesPromptTokens(request.body));
    }
    const started = performance.now();
    const call = this.caller.callContext(target, provider, ctx);
    const events = native.streamMessage(request.nativeFor(target.model), call)[Symbol.asyncIterator]();
    const first = await events.next();
    return nativeParts(first.done ? undefined : first.value, events, request.body.model, performance.now() - started);
  }

  /** The chat answer as an Anthropic message, naming the model the upstream named (the client's is set after). */
  private async translated(target: RouteTarget, req: ChatRequest, ctx: RequestContext): Promise<AnthropicMessage> {
    const res = await this.caller.chat(target, req, ctx);
    return chatToAnthropic(res, res.model);
  }

  private isNative(target: RouteTarget): boolean {
    const provider = this.registry.get(target.provider);
    return Boolean(provider?.enabled && nativeAdapter(provider.adapter));
  }
}
