import type {
  AnthropicCountTokensRequest,
  AnthropicMessage,
  AnthropicMessageRequest,
  AnthropicSseEvent,
  ChatChunk,
  ChatRequest,
  ChatResponse,
  CompletionChunk,
  CompletionRequest,
  CompletionResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from '@app/contracts';

export const PROVIDER_KINDS = [
  'openai',
  'openai-compatible',
  'anthropic',
  'ollama',
  'gemini',
  'azure-openai',
  'mock',
] as const;

export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Kind-specific settings; each adapter reads the ones that concern it. */
export interface ProviderOptions {
  /** Azure: `api-version` query (default {@link DEFAULT_AZURE_API_VERSION}). Anthropic: `anthropic-version` header. */
  apiVersion?: string;
  /** Azure: gateway model id -> deployment name (a model without an entry is its own deployment). */
  deployments?: Record<string, string>;
  /** Extra headers sent upstream on every request. */
  headers?: Record<string, string>;
  /** `false`: the upstream cannot call tools; the gateway emulates them in the prompt. */
  nativeTools?: boolean;
  /** `false`: the upstream cannot honour `response_format: json_schema`; the gateway emulates it. */
  nativeJsonSchema?: boolean;
  /**
   * The same flags per model, by model name or glob (`*` matches any run of characters),
   * for a server whose models differ (Ollama, vLLM...); they win over the provider's own.
   * Like those, read for `ollama` and `openai-compatible` providers.
   */
  models?: Record<string, ModelCapabilityOverride>;
  /**
   * The assistant message field in which the upstream takes its own earlier reasoning
   * back (`ollama` and `openai-compatible`): DeepSeek's thinking mode refuses a tool
   * round without `reasoning_content`. Anthropic clients' thinking blocks go there.
   * Unset, they are left out (Groq and Cerebras refuse a field they do not know);
   * a DeepSeek base URL (`api.deepseek.com`) defaults to `reasoning_content`.
   */
  reasoningHistory?: ReasoningField;
}

/** Where OpenAI-shaped servers put reasoning: DeepSeek, vLLM and LiteLLM `reasoning_content`; OpenRouter and Ollama `reasoning`. */
export type ReasoningField = 'reasoning_content' | 'reasoning';

/** What one model (or the models a glob matches) can do, where it differs from its provider. */
export interface ModelCapabilityOverride {
  nativeTools?: boolean;
  nativeJsonSchema?: boolean;
}

/** A configured upstream, as the registry hands it to {@link createProviderAdapter}. */
export interface ProviderConfig {
  /** Unique provider name; the `provider` in `provider/model`. */
  name: string;
  kind: ProviderKind;
  /** Upstream base URL; each kind has a default (Ollama: the `OLLAMA_HOST`, without `/v1`). */
  baseUrl?: string;
  /** Decrypted upstream key; never logged, scrubbed from every error message. */
  apiKey?: string;
  models?: string[];
  /** Default per-call timeout (see {@link CallContext.timeoutMs}). */
  timeoutMs?: number;
  options?: ProviderOptions;
}

/**
 * What the gateway reads of a client's abort signal. An `AbortSignal` is one; the
 * request pipeline passes a lighter one (`ClientAbort` in the completions library),
 * because Node 20 tenures every `AbortSignal`: the young-generation collector never
 * frees them, and one per request cost more CPU in garbage collection than the
 * rest of the request context. A real `AbortSignal`, for the SDKs and `fetch`, is
 * made per upstream call only where one is needed (`CallScope.signal`).
 */
export interface ClientSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  /**
   * The client reads more slowly than the answer comes (its socket's buffer is full):
   * the gateway holds the upstream back meanwhile, and that silence is not the
   * upstream's (a call's timeout does not run out while this holds).
   */
  readonly clientBehind?: boolean;
  /**
   * Gives up on a client that read nothing for as long as an upstream may be silent (its
   * connection is closed: the request ends as the client's leaving, 499, not the upstream's fault).
   */
  giveUp?(): void;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Per-call context. The adapter never reads Nest requests; the pipeline builds this. */
export interface CallContext {
  /** Aborted when the client goes away; the upstream request is aborted with it. */
  signal: ClientSignal;
  /**
   * Bound on the wait for the upstream's answer: the whole response for JSON calls;
   * for streams, the wait for the first event and every silence between events.
   * Falls back to {@link ProviderConfig.timeoutMs}; none means the SDK's 10 minutes.
   */
  timeoutMs?: number;
  /** Sent upstream as `x-request-id` for correlation. */
  requestId: string;
  /**
   * Gateways the request has passed through, this one included: sent upstream as
   * `x-gateway-hops`, so a route or provider that points back at a gateway ends
   * (see `MAX_GATEWAY_HOPS`) instead of calling itself until its timeout. 1 when unset.
   */
  hops?: number;
}

/** The header that counts gateway hops ({@link CallContext.hops}). */
export const GATEWAY_HOPS_HEADER = 'x-gateway-hops';
/** A request that arrives having passed through this many gateways is refused (400): a loop. */
export const MAX_GATEWAY_HOPS = 8;

/** What an upstream can do natively; the pipeline emulates or rejects the rest. */
export interface ProviderCapabilities {
  /** `tools` / `tool_choice` are understood upstream. */
  tools: boolean;
  /** `response_format: json_schema` is honoured upstream (natively or by the adapter's own mapping). */
  jsonSchema: boolean;
  /** `embed` is implemented. */
  embeddings: boolean;
  /** `completion` / `completionStream` are implemented. */
  legacyCompletions: boolean;
  /** Where the upstream takes its earlier reasoning back in assistant messages; none: it is left out (see {@link ProviderOptions.reasoningHistory}). */
  reasoningHistory?: ReasoningField;
}

/** A model an upstream serves, by its provider-local id (no `provider/` prefix). */
export interface ModelInfo {
  id: string;
  ownedBy: string;
  /** Unix seconds, when the upstream reports it. */
  created?: number;
  description?: string;
}

export interface HealthResult {
  ok: boolean;
  latencyMs: number;
  message?: string;
}

/**
 * One upstream. Requests carry the provider-local model id in `model` (the router
 * strips `provider/`); everything else passes through as the client sent it unless
 * the provider's own format needs a translation. Every failure is a `GatewayError`
 * (a `ProviderError` from `errors.ts`).
 */
export interface ProviderAdapter {
  readonly name: string;
  readonly kind: ProviderKind;
  /** What the provider does natively (for every model, unless {@link capabilitiesOf} says otherwise). */
  readonly capabilities: ProviderCapabilities;
  /** What it does natively for one of its models: `capabilities`, with the model's overrides (`options.models`). */
  capabilitiesOf(model: string): ProviderCapabilities;
  chat(request: ChatRequest, call: CallContext): Promise<ChatResponse>;
  /**
   * Chunks as they arrive. Usage is always requested upstream; when the provider
   * reports it, the last chunk has `choices: []` and `usage` (the pipeline decides
   * whether the client sees it).
   */
  chatStream(request: ChatRequest, call: CallContext): AsyncIterable<ChatChunk>;
  completion?(request: CompletionRequest, call: CallContext): Promise<CompletionResponse>;
  completionStream?(request: CompletionRequest, call: CallContext): AsyncIterable<CompletionChunk>;
  embed?(request: EmbeddingRequest, call: CallContext): Promise<EmbeddingResponse>;
  /**
   * The request's input tokens as the upstream counts them (Anthropic's
   * `count_tokens`), where the upstream can; the pipeline estimates for the rest.
   */
  countTokens?(request: ChatRequest, call: CallContext): Promise<number>;
  /**
   * {@link countTokens} for a Messages request as the client wrote it (Anthropic
   * providers, as {@link createMessage}): its prompt fields as they are, `model` already
   * this provider's own.
   */
  countMessageTokens?(request: AnthropicCountTokensRequest, call: CallContext): Promise<number>;
  /**
   * Anthropic's Messages API spoken natively (Anthropic providers): the client's request
   * sent as it is (its `model` already this provider's own; `betas`, the client's
   * `anthropic-beta` header, sent as that header), and Anthropic's answer as it came.
   */
  createMessage?(request: AnthropicMessageRequest, call: CallContext): Promise<AnthropicMessage>;
  /**
   * {@link createMessage} streamed: every server-sent event as it arrives (`ping` too),
   * until `message_stop`. An `error` event, or a stream that ends before
   * `message_stop`, is thrown as the upstream's failure.
   */
  streamMessage?(request: AnthropicMessageRequest, call: CallContext): AsyncIterable<AnthropicSseEvent>;
  listModels(call: CallContext): Promise<ModelInfo[]>;
  /** Never throws: an unreachable upstream is `{ ok: false, message }`. */
  health(call: CallContext): Promise<HealthResult>;
  /** Closes pooled connections; in-flight requests finish first. */
  close(): Promise<void>;
}
