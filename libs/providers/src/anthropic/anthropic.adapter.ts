import Anthropic, { type Middleware } from '@anthropic-ai/sdk';
import type {
  AnthropicCountTokensRequest,
  AnthropicMessage,
  AnthropicMessageRequest,
  AnthropicSseEvent,
  AnthropicStreamEvent,
  ChatChunk,
  ChatRequest,
  ChatResponse,
} from '@app/contracts';
import type { Agent } from 'undici';
import { badResponseError, providerSecrets, type ErrorContext } from '../errors';
import type {
  CallContext,
  HealthResult,
  ModelInfo,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderConfig,
} from '../provider.interface';
import { DEFAULT_SDK_TIMEOUT_MS, openScope, type CallScope } from '../shared/call-scope';
import { closeDispatcher, createDispatcher, readUpstream, recordingFetch } from '../shared/http';
import { touchingStream, untilWhole } from '../shared/stream-activity';
import { normalizeAnthropicError } from './anthropic.errors';
import { anthropicSseEvents, nativeCountParams, nativeParams } from './anthropic.native';
import { toAnthropicRequest, type AnthropicRequestPlan } from './anthropic.request';
import { fromAnthropicMessage } from './anthropic.response';
import { anthropicStreamToChunks } from './anthropic.stream';

export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
/** Sent explicitly so an SDK upgrade never changes the API contract behind our back. */
export const DEFAULT_ANTHROPIC_API_VERSION = '2026-10-21';
const MAX_LISTED_MODELS = 1_000;

type RequestOptions = NonNullable<Parameters<Anthropic['models']['list']>[1]>;

/** The SDK client, never reading credentials from the environment or disk. */
class GatewayAnthropicClient extends Anthropic {
  protected override _shouldResolveDefaultCredentials(): boolean {
    return false;
  }
}

/** A Messages API answer as its SDKs read it: content blocks (objects with a type) and a usage object. */
function isMessage(value: unknown): value is AnthropicMessage {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const content = record['content'];
  return (
    Array.isArray(content) &&
    content.every((block) => typeof (block as { type?: unknown } | null)?.type === 'string') &&
    typeof record['usage'] === 'object' &&
    record['usage'] !== null
  );
}

/**
 * A stream's body read through {@link touchingStream}: every chunk of bytes is
 * activity for the call's timeout (the SDK passes on no `ping` event and no comment).
 */
function touchingMiddleware(scope: CallScope): Middleware {
  return async (request, next) => {
    const response = await next(request);
    if (!response.ok || !response.body) return response;
    const { status, statusText, headers } = response;
    return new Response(touchingStream(response.body, scope), { status, statusText, headers });
  };
}

/** Anthropic Messages behind the OpenAI chat contract (mapping in the pure sibling files). */
export class AnthropicAdapter implements ProviderAdapter {
  readonly name: string;
  readonly kind = 'anthropic' as const;
  readonly capabilities: ProviderCapabilities = {
    tools: true,
    jsonSchema: true,
    embeddings: false,
    legacyCompletions: false,
  };
  private readonly apiVersion: string;
  private readonly dispatcher: Agent;
  private readonly client: Anthropic;
  private readonly secrets: string[];
  /** The `anthropic-beta` header the provider is configured with, which a request's betas add to. */
  private readonly betas: string | undefined;

  constructor(private readonly config: ProviderConfig) {
    this.name = config.name;
    this.secrets = providerSecrets(config);
    this.apiVersion = config.options?.apiVersion ?? DEFAULT_ANTHROPIC_API_VERSION;
    this.dispatcher = createDispatcher();
    const configured = Object.entries(config.options?.headers ?? {}).find(([name]) => /^anthropic-beta$/i.test(name));
    this.betas = configured?.[1] || undefined;
    const key = config.apiKey;
    this.client = new GatewayAnthropicClient({
      apiKey: key ?? null,
      authToken: null,
      webhookKey: null,
      baseURL: (config.baseUrl ?? DEFAULT_ANTHROPIC_BASE_URL).replace(/\/+$/, '').replace(/\/v1$/, ''),
      maxRetries: 0,
      timeout: config.timeoutMs ?? DEFAULT_SDK_TIMEOUT_MS,
      fetch: recordingFetch,
      fetchOptions: { dispatcher: this.dispatcher },
      logLevel: 'off',
      openTelemetry: false,
      // The SDK sends the key as a bearer token; `x-api-key` too, for proxies that read only that.
      defaultHeaders: {
        ...(key ? { 'x-api-key': key } : { Authorization: null }),
        'anthropic-version': this.apiVersion,
        ...config.options?.headers,
      },
    });
  }

  capabilitiesOf(): ProviderCapabilities {
    return this.capabilities;
  }

  async chat(request: ChatRequest, call: CallContext): Promise<ChatResponse> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      const plan = this.plan(request);
      const message: unknown = await this.client.messages.create(
        { ...plan.params, stream: false },
        this.options(scope, plan.betas),
      );
      if (!isMessage(message)) throw badResponseError(this.name, 'expected a Messages API JSON object');
      return readUpstream('the answer', () => fromAnthropicMessage(message, { jsonTool: plan.jsonTool }));
    } catch (err) {
      throw normalizeAnthropicError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }

  async *chatStream(request: ChatRequest, call: CallContext): AsyncGenerator<ChatChunk> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      const plan = this.plan(request);
      const events: AsyncIterable<AnthropicStreamEvent> = await this.client.messages.create(
        { ...plan.params, stream: true },
        { ...this.options(scope, plan.betas), middleware: [touchingMiddleware(scope)] },
      );
      const whole = untilWhole(events, scope, (event) => event.type === 'message_stop');
      yield* anthropicStreamToChunks(whole, { jsonTool: plan.jsonTool, provider: this.name });
    } catch (err) {
      throw normalizeAnthropicError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }

  async createMessage(request: AnthropicMessageRequest, call: CallContext): Promise<AnthropicMessage> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      const { params, betas } = nativeParams(request);
      const message: unknown = await this.client.messages.create(
        { ...params, stream: false },
        this.options(scope, betas),
      );
      if (!isMessage(message)) throw badResponseError(this.name, 'expected a Messages API JSON object');
      return message;
    } catch (err) {
      throw normalizeAnthropicError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }

  /** The raw response is read, not the SDK's stream: that one drops `ping` events, which the client gets too. */
  async *streamMessage(request: AnthropicMessageRequest, call: CallContext): AsyncGenerator<AnthropicSseEvent> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      const { params, betas } = nativeParams(request);
      const response = await this.client.messages
        .create({ ...params, stream: true }, { ...this.options(scope, betas), middleware: [touchingMiddleware(scope)] })
        .asResponse();
      if (!response.body) throw badResponseError(this.name, 'the stream has no body');
      const events = anthropicSseEvents(response.body, this.errorContext(scope));
      yield* untilWhole(events, scope, (event) => event.event === 'message_stop');
    } catch (err) {
      throw normalizeAnthropicError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }

  async countTokens(request: ChatRequest, call: CallContext): Promise<number> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      // count_tokens takes only what shapes the prompt (no max_tokens, sampling, stop or metadata).
      const plan = this.plan(request);
      const { model, messages, system, tools, tool_choice, thinking, output_config } = plan.params;
      const counted: unknown = await this.client.messages.countTokens(
        { model, messages, system, tools, tool_choice, thinking, output_config },
        this.options(scope, plan.betas),
      );
      return this.inputTokens(counted);
    } catch (err) {
      throw normalizeAnthropicError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }

  /**
   * `count_tokens` for a Messages request as a client wrote it (see {@link createMessage}):
   * its prompt fields sent as they are (server tools, Anthropic's typed tools, MCP
   * servers included), the generation's own fields left out, as Anthropic refuses them there.
   */
  async countMessageTokens(request: AnthropicCountTokensRequest, call: CallContext): Promise<number> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      const { params, betas } = nativeParams(request);
      const counted: unknown = await this.client.messages.countTokens(
        nativeCountParams(params),
        this.options(scope, betas),
      );
      return this.inputTokens(counted);
    } catch (err) {
      throw normalizeAnthropicError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }

  private inputTokens(counted: unknown): number {
    const tokens = (counted as { input_tokens?: unknown } | null)?.input_tokens;
    if (typeof tokens !== 'number' || !Number.isInteger(tokens) || tokens < 0) {
      throw badResponseError(this.name, 'expected a count_tokens object with input_tokens');
    }
    return tokens;
  }

  async listModels(call: CallContext): Promise<ModelInfo[]> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      const models: ModelInfo[] = [];
      for await (const model of this.client.models.list({ limit: 100 }, this.options(scope))) {
        const created = Date.parse(model.created_at);
        models.push({
          id: model.id,
          ownedBy: 'anthropic',
          created: Number.isNaN(created) ? undefined : Math.floor(created / 1000),
          description: model.display_name,
        });
        if (models.length >= MAX_LISTED_MODELS) break;
      }
      return models;
    } catch (err) {
      throw normalizeAnthropicError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }

  async health(call: CallContext): Promise<HealthResult> {
    const started = performance.now();
    const scope = openScope(call, this.config.timeoutMs);
    try {
      await this.client.models.list({ limit: 1 }, this.options(scope));
      return { ok: true, latencyMs: Math.round(performance.now() - started) };
    } catch (err) {
      const message = normalizeAnthropicError(err, this.errorContext(scope)).message;
      return { ok: false, latencyMs: Math.round(performance.now() - started), message };
    } finally {
      scope.dispose();
    }
  }

  async close(): Promise<void> {
    await closeDispatcher(this.dispatcher);
  }

  private plan(request: ChatRequest): AnthropicRequestPlan {
    return toAnthropicRequest(request, { model: request.model, apiVersion: this.apiVersion });
  }

  /** Per call: the scope, and the request's betas after those the provider is configured with. */
  private options(scope: CallScope, betas?: string): RequestOptions {
    const headers: Record<string, string> = { 'x-request-id': scope.requestId, 'x-gateway-hops': scope.hops };
    if (betas) headers['anthropic-beta'] = this.betas ? `${this.betas},${betas}` : betas;
    return { signal: scope.signal, timeout: scope.sdkTimeoutMs, headers };
  }

  private errorContext(scope: CallScope): ErrorContext {
    return { provider: this.name, secrets: this.secrets, scope };
  }
}
