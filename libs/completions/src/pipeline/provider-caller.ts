import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type {
  ChatChunk,
  ChatRequest,
  ChatResponse,
  CompletionChunk,
  CompletionRequest,
  CompletionResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from '@app/contracts';
import { GatewayError, asError, withFields } from '@app/contracts';
import { type CallContext, ProviderError, type RouteTarget } from '@app/providers';
import { ProviderRegistry, type RegisteredProvider } from '../catalog';
import {
  addUsage,
  checkJsonReply,
  type JsonReplyCheck,
  emulatedToolProblem,
  emulatedToolStream,
  emulateToolsRequest,
  instructForJson,
  chatRequestFor,
  messagesRequestFor,
  parseEmulatedToolReply,
  repairRequest,
  toolOffer,
  toolRepairRequest,
  usesTools,
} from '../translate';
import type { OpenedStream } from './generation-runner';
import { chatChunksToCompletion, chatToCompletion, completionToChat } from './legacy-completion.mapping';
import type { RequestContext } from './request-context';

/**
 * Calls one target for a chat request: strips `provider/`, and fills in what the
 * upstream lacks — tools described in the prompt for providers without native
 * tool calling, JSON instructed, validated and repaired once for providers
 * without native structured output — so the client cannot tell the difference.
 */
@Injectable()
export class ProviderCaller {
  constructor(
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  provider(target: RouteTarget): RegisteredProvider {
    const provider = this.registry.get(target.provider);
    if (!provider?.enabled) {
      throw new ProviderError('model_not_found', `Provider "${target.provider}" is not configured or is disabled.`, {
        provider: target.provider,
        reason: 'not_found',
        retryable: false,
      });
    }
    return provider;
  }

  callContext(target: RouteTarget, provider: RegisteredProvider, ctx: RequestContext): CallContext {
    return {
      signal: ctx.signal,
      requestId: ctx.requestId,
      hops: ctx.hops + 1,
      timeoutMs: target.timeoutMs ?? provider.timeoutMs ?? this.config.requestTimeoutMs,
    };
  }

  /**
   * `checkJson`: a `json_schema` reply is checked against its schema (with one repair turn)
   * even when the provider produced it natively, as `/v1/generate/structured` promises a
   * conforming value: a failed check is then the attempt's failure, recorded and routed as
   * such, not a success turned into an error after it was recorded.
   */
  chat(target: RouteTarget, req: ChatRequest, ctx: RequestContext, checkJson = false): Promise<ChatResponse> {
    try {
      const provider = this.provider(target);
      const call = this.callContext(target, provider, ctx);
      const { emulateTools, emulateJson } = this.emulation(provider, target, req);
      const ensureJson = emulateJson || (checkJson && req.response_format?.type === 'json_schema');
      // `stream_options` is left for the adapters: the one that passes fields through (OpenAI-compatible) drops it.
      const upstream: ChatRequest = withFields(this.fitted(req, provider, ctx), { model: target.model, stream: false });
      // Natively served, the adapter's promise is the answer: no async layer (a promise and a turn) of our own.
      if (!emulateTools && !ensureJson) return provider.adapter.chat(upstream, call);
      return this.emulatedChat(provider, req, upstream, call, emulateTools, emulateJson, ensureJson);
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }

  private async emulatedChat(
    provider: RegisteredProvider,
    req: ChatRequest,
    native: ChatRequest,
    call: CallContext,
    emulateTools: boolean,
    emulateJson: boolean,
    checkJson: boolean,
  ): Promise<ChatResponse> {
    let upstream = native;
    if (emulateTools) upstream = emulateToolsRequest(upstream);
    if (emulateJson) upstream = instructForJson(upstream);
    let res = await provider.adapter.chat(upstream, call);
    if (emulateTools) res = await this.ensureToolCalls(provider, req, upstream, res, call);
    if (checkJson) res = await this.ensureJson(provider, req, upstream, res, call);
    return res;
  }

  /**
   * Reads the tool calls out of an emulated-tools reply; a reply that breaks the
   * protocol (a call of a tool not on offer, malformed call markup, text where a
   * call is required) gets one repair turn, and is never passed on as it is.
   */
  private async ensureToolCalls(
    provider: RegisteredProvider,
    req: ChatRequest,
    upstream: ChatRequest,
    res: ChatResponse,
    call: CallContext,
  ): Promise<ChatResponse> {
    let fault = emulatedToolProblem(res, req);
    if (fault) {
      const repair = toolRepairRequest(upstream, fault.text, fault.problem, toolOffer(req));
      res = await this.askAgain(provider, res, repair, call);
      fault = emulatedToolProblem(res, req);
    }
    if (fault) throw unusableAnswer(provider, `The model did not make a valid tool call: ${fault.problem}`, res);
    return parseEmulatedToolReply(res, req);
  }

  /**
   * The repair call's answer, with the usage of both calls: both were made, and billed,
   * for this one answer. Should the repair call fail, its error carries the first call's
   * usage, so the tokens are recorded all the same.
   */
  private async askAgain(
    provider: RegisteredProvider,
    first: ChatResponse,
    repair: ChatRequest,
    call: CallContext,
  ): Promise<ChatResponse> {
    let repaired: ChatResponse;
    try {
      repaired = await provider.adapter.chat(repair, call);
    } catch (error) {
      if (error instanceof ProviderError) error.usage = addUsage(first.usage, error.usage);
      throw error;
    }
    const usage = addUsage(first.usage, repaired.usage);
    return usage ? { ...repaired, usage } : repaired;
  }

  async openStream(target: RouteTarget, req: ChatRequest, ctx: RequestContext): Promise<OpenedStream<ChatChunk>> {
    const provider = this.provider(target);
    const started = performance.now();
    const { emulateTools, emulateJson } = this.emulation(provider, target, req);
    if (emulateTools || emulateJson) {
      // The reply must be complete to be parsed or validated; it is then streamed as native chunks.
      const res = await this.chat(target, req, ctx);
      const chunks = emulatedToolStream(res)[Symbol.iterator]();
      const rest: AsyncIterator<ChatChunk> = { next: async () => chunks.next() };
      return { first: (await rest.next()).value as ChatChunk | undefined, rest, ttftMs: performance.now() - started };
    }
    const upstream: ChatRequest = withFields(this.fitted(req, provider, ctx), { model: target.model, stream: true });
    const stream = provider.adapter.chatStream(upstream, this.callContext(target, provider, ctx));
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    return { first: first.done ? undefined : first.value, rest: iterator, ttftMs: performance.now() - started };
  }

  /** Legacy completions: native where the provider has them, through chat otherwise. */
  async completion(target: RouteTarget, req: CompletionRequest, ctx: RequestContext): Promise<CompletionResponse> {
    const provider = this.provider(target);
    const adapter = provider.adapter;
    if (adapter.capabilities.legacyCompletions && adapter.completion) {
      return adapter.completion(
        withFields(req, { model: target.model, stream: false }),
        this.callContext(target, provider, ctx),
      );
    }
    const chat = await this.chat(target, completionToChat(req, provider.name), ctx).catch((err: unknown) => {
      throw promptRefusal(err);
    });
    return chatToCompletion(chat, req);
  }

  async openCompletionStream(
    target: RouteTarget,
    req: CompletionRequest,
    ctx: RequestContext,
  ): Promise<OpenedStream<CompletionChunk>> {
    const provider = this.provider(target);
    const adapter = provider.adapter;
    if (adapter.capabilities.legacyCompletions && adapter.completionStream) {
      const started = performance.now();
      const upstream = withFields(req, { model: target.model, stream: true });
      const rest = adapter.completionStream(upstream, this.callContext(target, provider, ctx))[Symbol.asyncIterator]();
      const first = await rest.next();
      return { first: first.done ? undefined : first.value, rest, ttftMs: performance.now() - started };
    }
    const chat = await this.openStream(target, completionToChat(req, provider.name), ctx).catch((err: unknown) => {
      throw promptRefusal(err);
    });
    const toCompletion = chatChunksToCompletion(req);
    const rest: AsyncIterator<CompletionChunk> = {
      next: async () => {
        const r = await chat.rest.next();
        return r.done ? { done: true, value: undefined } : { done: false, value: toCompletion(r.value) };
      },
      return: async () => {
        await chat.rest.return?.();
        return { done: true, value: undefined };
      },
    };
    return { first: chat.first && toCompletion(chat.first), rest, ttftMs: chat.ttftMs };
  }

  async embed(target: RouteTarget, req: EmbeddingRequest, ctx: RequestContext): Promise<EmbeddingResponse> {
    const provider = this.provider(target);
    if (!provider.adapter.capabilities.embeddings || !provider.adapter.embed) {
      throw new ProviderError('invalid_request_error', `Provider "${provider.name}" does not serve embeddings.`, {
        provider: provider.name,
        reason: 'unsupported',
        retryable: false,
        param: 'model',
        status: 400,
      });
    }
    return provider.adapter.embed(withFields(req, { model: target.model }), this.callContext(target, provider, ctx));
  }

  /** The request as this provider takes it: a Messages request loses what the provider's API has no place for. */
  private fitted(req: ChatRequest, provider: RegisteredProvider, ctx: RequestContext): ChatRequest {
    return ctx.endpoint === 'messages'
      ? messagesRequestFor(req, provider.kind, provider.adapter.capabilities.reasoningHistory)
      : chatRequestFor(req, provider.kind);
  }

  private emulation(
    provider: RegisteredProvider,
    target: RouteTarget,
    req: ChatRequest,
  ): { emulateTools: boolean; emulateJson: boolean } {
    const caps = provider.adapter.capabilitiesOf(target.model);
    const format = req.response_format?.type;
    return {
      emulateTools: !caps.tools && usesTools(req),
      emulateJson: (format === 'json_schema' || format === 'json_object') && !caps.jsonSchema,
    };
  }

  /**
   * Checks every choice of an instructed JSON reply against the client's schema
   * (`req`, before the instruction replaced response_format); one repair turn when
   * one does not conform. A choice that calls a tool carries no JSON to check.
   */
  private async ensureJson(
    provider: RegisteredProvider,
    req: ChatRequest,
    upstream: ChatRequest,
    res: ChatResponse,
    call: CallContext,
  ): Promise<ChatResponse> {
    let checks = checkJsonChoices(req, res);
    let fault = firstFault(res, checks);
    if (fault) {
      res = await this.askAgain(provider, res, repairRequest(upstream, fault.text, fault.errors), call);
      checks = checkJsonChoices(req, res);
      fault = firstFault(res, checks);
    }
    if (fault)
      throw unusableAnswer(provider, `The model did not produce JSON matching the schema: ${fault.errors}`, res);
    const choices = res.choices.map((choice, i) => {
      const check = checks[i];
      return check?.ok ? { ...choice, message: { ...choice.message, content: check.json } } : choice;
    });
    return { ...res, choices };
  }
}

/**
 * A 502 for an answer still unusable after its repair turn: the model's doing, so
 * the router does not hold it against the provider; the tokens of both calls go with it.
 */
function unusableAnswer(provider: RegisteredProvider, message: string, res: ChatResponse): ProviderError {
  return new ProviderError('upstream_error', message, {
    provider: provider.name,
    reason: 'unusable_answer',
    retryable: false,
    ...(res.usage ? { usage: res.usage } : {}),
  });
}

/**
 * Each choice's JSON checked against the request's schema; `undefined` for a choice that
 * calls one of the request's tools. A call when no tool was offered answers nothing: its
 * content is checked (and repaired), as any reply without the JSON.
 */
function checkJsonChoices(req: ChatRequest, res: ChatResponse): Array<JsonReplyCheck | undefined> {
  const offered = (req.tools?.length ?? 0) > 0;
  return res.choices.map((choice) =>
    offered && choice.finish_reason === 'tool_calls' ? undefined : checkJsonReply(req, choice.message.content ?? ''),
  );
}

/** The first choice whose JSON does not conform: its text and what is wrong with it. */
function firstFault(
  res: ChatResponse,
  checks: Array<JsonReplyCheck | undefined>,
): { text: string; errors: string } | undefined {
  if (res.choices.length === 0) return { text: '', errors: 'the reply has no choices' };
  for (const [i, check] of checks.entries()) {
    if (check && !check.ok) return { text: res.choices[i].message.content ?? '', errors: check.errors };
  }
  return undefined;
}

/**
 * A refusal of the chat request a legacy completion was sent as, by the gateway
 * (not the upstream's): that request's one message is the prompt, so what it
 * says of `messages[0]` it says of `prompt` (an empty prompt, which Anthropic refuses).
 */
function promptRefusal(err: unknown): unknown {
  if (!(err instanceof GatewayError) || err instanceof ProviderError || !err.param?.startsWith('messages[0]'))
    return err;
  return new GatewayError(err.code, err.message, { param: 'prompt', status: err.status, cause: err });
}
