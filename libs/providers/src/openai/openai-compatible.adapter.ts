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
import { withFields } from '@app/contracts';
import type OpenAI from 'openai';
import type { Agent } from 'undici';
import { normalizeProviderError, providerSecrets, type ErrorContext } from '../errors';
import type {
  CallContext,
  HealthResult,
  ModelInfo,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderConfig,
} from '../provider.interface';
import { openScope, type CallScope } from '../shared/call-scope';
import { closeDispatcher, createDispatcher } from '../shared/http';
import { toGeminiChatRequest } from './gemini.request';
import { mendChatAnswer } from './openai.answer';
import type { CapabilitiesOf } from '../shared/model-capabilities';
import { listOllamaModels, ollamaVersion, type OllamaRequest } from './ollama.api';
import { toOllamaChatRequest, toOllamaCompletionRequest, toOllamaEmbeddingRequest } from './ollama.request';
import {
  echoCompletion,
  echoCompletionChunks,
  echoedPrompt,
  firstToolCall,
  firstToolCallChunks,
} from './ollama.response';
import { fitEmbeddingEncoding } from './openai.embeddings';
import { parseOpenAIModelList } from './openai.models';
import { OpenAIHttp } from './openai.http';
import { type ChunkShape, OpenAIChunkNormalizer } from './openai.stream';
import {
  createOpenAIClient,
  openAICapabilities,
  openAIModelCapabilities,
  resolveEndpoint,
  upstreamModel,
  type OpenAIEndpoint,
  type OpenAIFlavor,
} from './openai-compatible.config';

/** The SDK's per-request options (its type is not exported by name). */
type RequestOptions = NonNullable<Parameters<OpenAI['models']['list']>[0]>;

/**
 * OpenAI, Azure OpenAI, Gemini (OpenAI endpoint), Ollama and any OpenAI-compatible
 * server. Requests pass through as sent (unknown fields too); only `model` is
 * rewritten (Azure deployments) and streams always ask for usage.
 *
 * Departure from DESIGN.md ("openai SDK for OpenAI-shaped providers"): the hot
 * path (chat, chat stream, legacy completions, embeddings) goes straight to
 * undici's `request` on the provider's keep-alive pool (`OpenAIHttp`), parsing
 * JSON and SSE itself, because the SDK's fetch-based client costs ~600 µs of CPU
 * per call against ~170 µs for `undici.request` (~430 µs even with an undici
 * fetch shim), more than the gateway's whole per-request budget (see README,
 * Performance). URLs, headers and error semantics are the SDK's; the SDK still
 * serves the cold paths (model lists, health) and its errors are still normalised.
 */
export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly name: string;
  readonly kind: OpenAIFlavor;
  readonly capabilities: ProviderCapabilities;
  readonly capabilitiesOf: CapabilitiesOf;
  private readonly endpoint: OpenAIEndpoint;
  private readonly dispatcher: Agent;
  private readonly client: OpenAI;
  private readonly http: OpenAIHttp;
  private readonly secrets: string[];
  /** The server takes `stream_options` (Azure before api-version 2024-09-01 refuses it: usage is then estimated). */
  private readonly streamOptions: boolean;

  constructor(
    private readonly config: ProviderConfig,
    flavor: OpenAIFlavor,
  ) {
    this.name = config.name;
    this.kind = flavor;
    this.secrets = providerSecrets(config);
    this.capabilities = openAICapabilities(config, flavor);
    this.capabilitiesOf = openAIModelCapabilities(config, flavor, this.capabilities);
    this.endpoint = resolveEndpoint(config, flavor);
    this.streamOptions =
      flavor !== 'azure-openai' ||
      this.endpoint.azureV1 === true ||
      azureTakesStreamOptions(config.options?.apiVersion);

    this.dispatcher = createDispatcher();
    this.client = createOpenAIClient(config, this.endpoint, this.dispatcher);
    this.http = new OpenAIHttp(config, this.endpoint, this.dispatcher, (scope) => this.errorContext(scope));
  }

  chat(request: ChatRequest, call: CallContext): Promise<ChatResponse> {
    const { stream_options: _streamOptions, ...rest } = this.fitChat(request);
    const body = withFields(rest, { model: this.model(request.model), stream: false });
    const posted = this.post<ChatResponse>('/chat/completions', body, call, 'choices');
    // OpenAI's own answers need no mending; its look-alikes' may (see `mendChatAnswer`).
    const answer = this.kind === 'openai' || this.kind === 'azure-openai' ? posted : posted.then(mendChatAnswer);
    return this.singleToolCall(request) ? answer.then(firstToolCall) : answer;
  }

  chatStream(request: ChatRequest, call: CallContext): AsyncIterable<ChatChunk> {
    const body = withFields(this.fitChat(request), {
      model: this.model(request.model),
      stream: true,
      stream_options: this.usageOptions(request.stream_options),
    });
    const chunks = this.http.postSse(
      '/chat/completions',
      body,
      call,
      this.normalizer('chat'),
    ) as AsyncIterable<ChatChunk>;
    return this.singleToolCall(request) ? firstToolCallChunks(chunks) : chunks;
  }

  completion(request: CompletionRequest, call: CallContext): Promise<CompletionResponse> {
    const { stream_options: _streamOptions, ...rest } = this.fitCompletion(request);
    const body = withFields(rest, { model: this.model(request.model), stream: false });
    const answer = this.post<CompletionResponse>('/completions', body, call, 'choices');
    const echo = this.echo(request);
    return echo === undefined ? answer : answer.then((res) => echoCompletion(res, echo));
  }

  completionStream(request: CompletionRequest, call: CallContext): AsyncIterable<CompletionChunk> {
    const body = withFields(this.fitCompletion(request), {
      model: this.model(request.model),
      stream: true,
      stream_options: this.usageOptions(request.stream_options),
    });
    const chunks = this.http.postSse(
      '/completions',
      body,
      call,
      this.normalizer('completion'),
    ) as AsyncIterable<CompletionChunk>;
    const echo = this.echo(request);
    return echo === undefined ? chunks : echoCompletionChunks(chunks, echo);
  }

  /**
   * Posted as is (the SDK's `embeddings.create` would swap the encoding to base64 and decode it);
   * the vectors come back in the encoding the client asked for, whatever the server sent.
   */
  embed(request: EmbeddingRequest, call: CallContext): Promise<EmbeddingResponse> {
    const fitted = this.kind === 'ollama' ? toOllamaEmbeddingRequest(request) : request;
    const body = withFields(fitted, { model: this.model(request.model) });
    return this.post<EmbeddingResponse>('/embeddings', body, call, 'data').then((response) =>
      fitEmbeddingEncoding(response, request, this.name),
    );
  }

  listModels(call: CallContext): Promise<ModelInfo[]> {
    if (this.kind === 'azure-openai') return Promise.resolve(this.configuredModels());
    return this.call(call, async (options, scope) => {
      if (this.endpoint.ollamaHost) return listOllamaModels(this.ollamaRequest(scope));
      // The raw answer, not the SDK's page: that reads anything without a `data` array as an empty list.
      const body = await this.client.get<unknown>('/models', options());
      return parseOpenAIModelList(body, this.name, this.kind === 'gemini' ? 'models/' : undefined);
    });
  }

  async health(call: CallContext): Promise<HealthResult> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      await this.call(call, async (options, scope) => {
        if (this.endpoint.ollamaHost) await ollamaVersion(this.ollamaRequest(scope));
        else await this.client.models.list(options());
      });
      return { ok: true, latencyMs: elapsed() };
    } catch (err) {
      return { ok: false, latencyMs: elapsed(), message: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    await closeDispatcher(this.dispatcher);
  }

  /** The request as the server honours it: Ollama ignores some fields that matter (see `ollama.request.ts`). */
  private fitChat(request: ChatRequest): ChatRequest {
    if (this.kind === 'ollama') return toOllamaChatRequest(request);
    if (this.kind === 'gemini') return toGeminiChatRequest(request);
    return this.kind === 'openai' ? withCompletionTokens(request) : request;
  }

  private fitCompletion(request: CompletionRequest): CompletionRequest {
    return this.kind === 'ollama' ? toOllamaCompletionRequest(request) : request;
  }

  /** `parallel_tool_calls: false`, which Ollama ignores, is kept by the gateway (see `ollama.response.ts`). */
  private singleToolCall(request: ChatRequest): boolean {
    return this.kind === 'ollama' && request.parallel_tool_calls === false;
  }

  /** The prompt the gateway echoes itself (Ollama ignores `echo`), if any. */
  private echo(request: CompletionRequest): string | undefined {
    return this.kind === 'ollama' ? echoedPrompt(request) : undefined;
  }

  /**
   * A stream's `stream_options`: the client's, asking for usage, where the server takes
   * them; elsewhere none (the gateway estimates the usage, and sends its chunk to a
   * client that asked for it).
   */
  private usageOptions(options: ChatRequest['stream_options']): ChatRequest['stream_options'] {
    return this.streamOptions ? withFields(options ?? {}, { include_usage: true }) : undefined;
  }

  /** Mends what look-alike servers send differently from OpenAI (see `openai.stream.ts`). */
  private normalizer(shape: ChunkShape): OpenAIChunkNormalizer {
    return new OpenAIChunkNormalizer(this.kind !== 'openai' && this.kind !== 'azure-openai', shape);
  }

  private model(model: string): string {
    return upstreamModel(this.config, this.kind, model);
  }

  private configuredModels(): ModelInfo[] {
    const ids = new Set([...(this.config.models ?? []), ...Object.keys(this.config.options?.deployments ?? {})]);
    return [...ids].map((id) => ({ id, ownedBy: this.name }));
  }

  private errorContext(scope?: CallScope): ErrorContext {
    return { provider: this.name, secrets: this.secrets, scope };
  }

  private requestOptions(scope: CallScope): RequestOptions {
    return {
      signal: scope.signal,
      timeout: scope.sdkTimeoutMs,
      headers: { 'x-request-id': scope.requestId, 'x-gateway-hops': scope.hops },
    };
  }

  private ollamaRequest(scope: CallScope): OllamaRequest {
    return {
      host: this.endpoint.ollamaHost ?? '',
      dispatcher: this.dispatcher,
      signal: scope.signal,
      headers: this.config.options?.headers,
      errors: this.errorContext(scope),
    };
  }

  /** A 2xx that is not the promised JSON object (an HTML page, a proxy's text) is a 502. */
  private post<T>(path: string, body: { model: string }, call: CallContext, arrayKey: string): Promise<T> {
    return this.http.postJson(path, body, call, arrayKey) as Promise<T>;
  }

  /** Runs `run` in a call scope; `options()` are the SDK's request options (made only when asked for). */
  private async call<T>(
    call: CallContext,
    run: (options: () => RequestOptions, scope: CallScope) => Promise<T>,
  ): Promise<T> {
    const scope = openScope(call, this.config.timeoutMs);
    try {
      return await run(() => this.requestOptions(scope), scope);
    } catch (err) {
      throw normalizeProviderError(err, this.errorContext(scope));
    } finally {
      scope.dispose();
    }
  }
}

/**
 * A chat request's `max_tokens` as `max_completion_tokens`, OpenAI's name for it since
 * `max_tokens` was deprecated: the same bound on every chat model, and the only one its
 * reasoning models (o-series, gpt-5) take; they answer `max_tokens` with a 400. Clients of
 * `/v1/messages`, whose `max_tokens` is required, reach those models this way. A request
 * that names both is sent as it is. OpenAI's own API only: Azure's deployments of older
 * models (gpt-35-turbo, gpt-4-turbo) refuse `max_completion_tokens`, and servers that look
 * like OpenAI need not know it.
 */
export function withCompletionTokens(request: ChatRequest): ChatRequest {
  if (request.max_tokens === undefined || request.max_completion_tokens !== undefined) return request;
  const { max_tokens: limit, ...rest } = request;
  return limit === null ? rest : { ...rest, max_completion_tokens: limit };
}

/**
 * Whether an Azure api-version takes `stream_options` (2024-09-01-preview and later; the
 * GA versions before it answer 400 "Unrecognized request argument"). A version that is
 * not a date (`preview`, `latest`, the v1 API) is taken to be current.
 */
export function azureTakesStreamOptions(apiVersion: string | undefined): boolean {
  const date = /^\d{4}-\d{2}-\d{2}/.exec(apiVersion ?? '')?.[0];
  return date === undefined || date >= '2024-09-01';
}
