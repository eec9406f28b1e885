import { asArray, asNumber, asRecord, countTokens, embedText, type JsonRecord, toBase64Floats } from './fake-content';
import {
  chatCompletionBody,
  chatCompletionEvents,
  completionBody,
  completionEvents,
  CACHE_MIN_PROMPT_CHARS,
  planChat,
  planCompletion,
  type ResponseMeta,
  withAsyncFilterAnnotations,
} from './fake-openai.responses';
import { FakeUpstream } from './fake-upstream';
import type { FakeBehaviour, FakeReply, FakeUpstreamOptions, RecordedRequest } from './fake-upstream.types';
import type { SseEvent } from './sse-writer';

export interface FakeOpenAIServerOptions extends FakeUpstreamOptions {
  /** Path prefix of the API (default `/v1`; Gemini's OpenAI layer is `/v1beta/openai`). */
  basePath?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or `api-key: <apiKey>`. */
  apiKey?: string;
  /** Reject requests without any credential with 401 (default true). */
  requireApiKey?: boolean;
  /** Ids listed by `GET /models`. */
  models?: string[];
  /** `owned_by` of listed models (default `openai`). */
  ownedBy?: string;
  /**
   * Refuse a chat request carrying an argument OpenAI does not define, with the
   * 400 OpenAI and Azure answer ("Unrecognized request argument supplied: ..."),
   * instead of ignoring it as many OpenAI-compatible servers do.
   */
  strictArguments?: boolean;
  /**
   * Answer embeddings with float arrays whatever `encoding_format` asks for, as some
   * Ollama versions and other OpenAI-compatible servers do.
   */
  ignoreEncodingFormat?: boolean;
  /** Leave `usage` out of embeddings answers, as some OpenAI-compatible servers do. */
  omitEmbeddingUsage?: boolean;
  /** Embed with 8 dimensions whatever `dimensions` asks for, as servers without Matryoshka support do. */
  ignoreDimensions?: boolean;
  /**
   * Refuse `response_format: json_schema` with `strict: true` whose schema strict mode
   * does not support (an object without `additionalProperties: false`, or with a property
   * left out of `required`), with the 400 OpenAI answers.
   */
  strictSchemas?: boolean;
  /**
   * Refuse, as DeepSeek's thinking mode does, a chat request whose history has an
   * assistant turn with `tool_calls` but without its reasoning in this field, with
   * DeepSeek's 400 ("The reasoning_content in the thinking mode must be passed back
   * to the API.").
   */
  requireReasoningBack?: 'reasoning_content' | 'reasoning';
  /**
   * Report cached tokens for a long prompt that begins as one answered before, as
   * OpenAI's automatic prefix caching does, hint or not (off: only a caching hint
   * in the request does, so that other tests' usage stays what they expect).
   */
  cachesPrefixes?: boolean;
  /**
   * Refuse, as Gemini 3 does, a history whose assistant tool calls come back without
   * a thought signature (`tool_calls[0].extra_content.google.thought_signature`),
   * with Gemini's 400 ("Function call is missing a thought_signature...").
   */
  requireThoughtSignatures?: boolean;
  /**
   * Stream as Azure's asynchronous content filter does: the prompt's annotation first,
   * then each piece of text followed by an annotation chunk with no `delta` (or `text`)
   * and an empty `id`, `model` and `object` (see `withAsyncFilterAnnotations`).
   */
  asyncContentFilter?: boolean;
  /**
   * Refuse `max_tokens` for OpenAI's reasoning models (`o1`, `o3-mini`, `gpt-5`...), with the
   * 400 OpenAI answers (`unsupported_parameter`: "Use 'max_completion_tokens' instead.").
   */
  reasoningModels?: boolean;
}

/** OpenAI's reasoning models, which take `max_completion_tokens` only. */
const REASONING_MODEL = /^(?:o\d|gpt-5)/;

const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];
/** The arguments of OpenAI's `POST /chat/completions`. */
const CHAT_ARGUMENTS = new Set([
  'messages',
  'model',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
]);
/** The fields a Chat Completions message may have (every role's together); OpenAI refuses any other. */
const MESSAGE_FIELDS = new Set([
  'role',
  'content',
  'name',
  'tool_calls',
  'tool_call_id',
  'refusal',
  'audio',
  'function_call',
]);
const AZURE_PATH = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/;
const ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  403: ['permission_error', null],
  404: ['invalid_request_error', 'not_found'],
  429: ['rate_limit_error', 'rate_limit_exceeded'],
};

/**
 * An OpenAI-compatible upstream: chat completions (JSON and SSE, tools, response_format),
 * legacy completions, embeddings and models, under `basePath` and in Azure's deployment form.
 */
export class FakeOpenAIServer extends FakeUpstream {
  private responseCount = 0;
  /** The long prompts answered so far (their beginnings), for `cachesPrefixes`. */
  private readonly prompts = new Set<string>();

  constructor(protected readonly options: FakeOpenAIServerOptions = {}) {
    super(options);
  }

  protected override get basePath(): string {
    return this.options.basePath ?? '/v1';
  }

  override reset(): void {
    super.reset();
    this.prompts.clear();
  }

  /** Whether a long prompt begins as one answered before (see `cachesPrefixes`). */
  private seenBefore(promptText: string): boolean {
    if (!this.options.cachesPrefixes || promptText.length <= CACHE_MIN_PROMPT_CHARS) return false;
    const prefix = promptText.slice(0, 1024);
    const seen = this.prompts.has(prefix);
    this.prompts.add(prefix);
    return seen;
  }

  protected override route(request: RecordedRequest, behaviour: FakeBehaviour): FakeReply | undefined {
    const target = this.resolveEndpoint(request);
    if (target === undefined) return undefined;
    if ('reply' in target) return target.reply;
    const denied = this.checkAuth(request);
    if (denied) return denied;
    if (request.method === 'GET') {
      if (target.endpoint === 'models') return this.listModels();
      return target.endpoint.startsWith('models/') ? this.getModel(target.endpoint.slice('models/'.length)) : undefined;
    }
    if (request.method !== 'POST') return undefined;
    if (!isJsonObject(request.body)) return this.errorReply(400, 'We could not parse the JSON body of your request.');
    const body = request.body;
    const model = target.deployment ?? (typeof body.model === 'string' ? body.model : undefined);
    if (model === undefined) return this.errorReply(400, 'you must provide a model parameter');
    switch (target.endpoint) {
      case 'chat/completions':
        return this.chat(body, model, behaviour);
      case 'completions':
        return this.completion(body, model, behaviour);
      case 'embeddings':
        return this.embeddings(body, model);
      default:
        return undefined;
    }
  }

  protected override errorBody(status: number, message: string): unknown {
    const [type, code] = ERROR_TYPES[status] ?? ['server_error', null];
    return { error: { message, type, param: null, code } };
  }

  protected override streamErrorEvent(): SseEvent {
    return { data: this.errorBody(500, 'The server had an error while processing your request.') };
  }

  /** The chat request as the server's model honours it (a look-alike may ignore some fields). */
  protected modelView(body: JsonRecord): JsonRecord {
    return body;
  }

  protected modelIds(): string[] {
    return this.options.models ?? DEFAULT_MODELS;
  }

  protected nextMeta(prefix: string, model: string): ResponseMeta {
    this.responseCount += 1;
    return { id: `${prefix}-fake${this.responseCount}`, created: Math.floor(Date.now() / 1000), model };
  }

  private resolveEndpoint(
    request: RecordedRequest,
  ): { endpoint: string; deployment?: string } | { reply: FakeReply } | undefined {
    const azure = AZURE_PATH.exec(request.path);
    if (azure) {
      if (!request.query['api-version']) return { reply: this.errorReply(404, 'Resource not found') };
      return { endpoint: azure[2], deployment: decodeURIComponent(azure[1]) };
    }
    const prefix = `${this.basePath}/`;
    return request.path.startsWith(prefix) ? { endpoint: request.path.slice(prefix.length) } : undefined;
  }

  private checkAuth(request: RecordedRequest): FakeReply | undefined {
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const apiKeyHeader = request.headers['api-key'];
    const given = bearer ?? (typeof apiKeyHeader === 'string' ? apiKeyHeader : undefined);
    if (this.options.apiKey !== undefined && given !== this.options.apiKey) {
      return this.errorReply(401, `Incorrect API key provided: ${given ? `${given.slice(0, 3)}***` : 'none'}.`);
    }
    if (given === undefined && (this.options.requireApiKey ?? true)) {
      return this.errorReply(401, "You didn't provide an API key.");
    }
    return undefined;
  }

  private modelEntry(id: string): JsonRecord {
    return { id, object: 'model', created: 1_700_000_000, owned_by: this.options.ownedBy ?? 'openai' };
  }

  private listModels(): FakeReply {
    return { kind: 'body', body: { object: 'list', data: this.modelIds().map((id) => this.modelEntry(id)) } };
  }

  private getModel(id: string): FakeReply {
    const decoded = decodeURIComponent(id);
    if (!this.modelIds().includes(decoded)) return this.errorReply(404, `The model '${decoded}' does not exist`);
    return { kind: 'body', body: this.modelEntry(decoded) };
  }

  private chat(body: JsonRecord, model: string, behaviour: FakeBehaviour): FakeReply {
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return this.errorReply(400, "Invalid 'messages': expected a non-empty array.");
    }
    const unknown = Object.keys(body).filter((key) => !CHAT_ARGUMENTS.has(key));
    if (this.options.strictArguments && unknown.length > 0) {
      return this.errorReply(400, `Unrecognized request argument supplied: ${unknown.join(', ')}`);
    }
    const extra = this.options.strictArguments ? unknownMessageField(body.messages) : undefined;
    if (extra) return this.errorReply(400, `Additional properties are not allowed (${extra})`);
    const refused = this.options.strictSchemas ? strictSchemaProblem(body.response_format) : undefined;
    if (refused) return this.errorReply(400, refused);
    if (this.options.reasoningModels && REASONING_MODEL.test(model) && body.max_tokens !== undefined) {
      const message =
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
      const error = { message, type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' };
      return { kind: 'body', status: 400, body: { error } };
    }
    const field = this.options.requireReasoningBack;
    if (field && body.messages.some((msg) => toolTurnWithout(msg, field))) {
      return this.errorReply(400, `The ${field} in the thinking mode must be passed back to the API.`);
    }
    if (this.options.requireThoughtSignatures && body.messages.some(unsignedToolTurn)) {
      return this.errorReply(
        400,
        'Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly.',
      );
    }
    const meta = this.nextMeta('chatcmpl', model);
    const plan = planChat(this.modelView(body), behaviour.text, `call_fake${this.responseCount}`, (text) =>
      this.seenBefore(text),
    );
    if (behaviour.reasoning) {
      const { text, field = 'reasoning_content' } = behaviour.reasoning;
      plan.reasoning = { text, field };
    }
    if (behaviour.usage) {
      const { prompt_tokens, completion_tokens } = behaviour.usage;
      plan.usage = { ...plan.usage, prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
    }
    if (body.stream !== true) return { kind: 'body', body: chatCompletionBody(plan, meta) };
    const interleaved = behaviour.interleaveToolCalls === true;
    return { kind: 'sse', events: this.annotated(chatCompletionEvents(plan, meta, includeUsage(body), interleaved)) };
  }

  private completion(body: JsonRecord, model: string, behaviour: FakeBehaviour): FakeReply {
    if (body.prompt === undefined) return this.errorReply(400, "Missing required parameter: 'prompt'.");
    const meta = this.nextMeta('cmpl', model);
    const plan = planCompletion(body, behaviour.text);
    if (body.stream !== true) return { kind: 'body', body: completionBody(plan, meta) };
    return { kind: 'sse', events: this.annotated(completionEvents(plan, meta, includeUsage(body))) };
  }

  private annotated(events: SseEvent[]): SseEvent[] {
    return this.options.asyncContentFilter ? withAsyncFilterAnnotations(events) : events;
  }

  private embeddings(body: JsonRecord, model: string): FakeReply {
    const inputs = embeddingInputs(body.input);
    if (inputs.length === 0) return this.errorReply(400, "'input' must be a non-empty string or array.");
    const dimensions = (this.options.ignoreDimensions ? undefined : asNumber(body.dimensions)) ?? 8;
    const base64 = body.encoding_format === 'base64' && !this.options.ignoreEncodingFormat;
    const data = inputs.map((text, index) => {
      const vector = embedText(text, dimensions);
      return { object: 'embedding', index, embedding: base64 ? toBase64Floats(vector) : vector };
    });
    const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
    const usage = this.options.omitEmbeddingUsage ? {} : { usage: { prompt_tokens: tokens, total_tokens: tokens } };
    return { kind: 'body', body: { object: 'list', data, model, ...usage } };
  }
}

/** OpenAI's refusal of a strict `json_schema` whose objects are not closed and fully required. */
function strictSchemaProblem(format: unknown): string | undefined {
  const spec = asRecord(asRecord(format).json_schema);
  if (asRecord(format).type !== 'json_schema' || spec.strict !== true) return undefined;
  const invalid = (detail: string) => `Invalid schema for response_format '${String(spec.name)}': ${detail}`;
  const visit = (node: unknown, context: string): string | undefined => {
    const schema = asRecord(node);
    if (schema.type === 'object' || 'properties' in schema) {
      if (schema.additionalProperties !== false) {
        return invalid(`In context=(${context}), 'additionalProperties' is required to be supplied and to be false.`);
      }
      const required = asArray(schema.required);
      const missing = Object.keys(asRecord(schema.properties)).find((key) => !required.includes(key));
      if (missing !== undefined) {
        return invalid(
          `In context=(${context}), 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing}'.`,
        );
      }
    }
    const children = [
      ...Object.entries(asRecord(schema.properties)).map(([key, child]) => [`'properties', '${key}'`, child] as const),
      ...Object.entries(asRecord(schema.$defs)).map(([key, child]) => [`'$defs', '${key}'`, child] as const),
      ...(isJsonObject(schema.items) ? [[`'items'`, schema.items] as const] : []),
      ...asArray(schema.anyOf).map((child, i) => [`'anyOf', '${i}'`, child] as const),
    ];
    for (const [path, child] of children) {
      const problem = visit(child, context ? `${context}, ${path}` : path);
      if (problem) return problem;
    }
    return undefined;
  };
  return visit(spec.schema, '');
}

function isJsonObject(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function includeUsage(body: JsonRecord): boolean {
  return asRecord(body.stream_options).include_usage === true;
}

/** `input` as texts: a string, strings, a token array, or token arrays. */
function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  const items = asArray(input);
  if (items.length > 0 && items.every((i) => typeof i === 'number')) return [items.join(' ')];
  return items.map((i) => (Array.isArray(i) ? i.join(' ') : String(i)));
}

/** The first message field OpenAI does not know, as its error names it: `'x' was unexpected - 'messages.1'`. */
function unknownMessageField(messages: unknown[]): string | undefined {
  for (const [i, message] of messages.entries()) {
    const field = Object.keys(asRecord(message)).find((key) => !MESSAGE_FIELDS.has(key));
    if (field) return `'${field}' was unexpected - 'messages.${i}'`;
  }
  return undefined;
}

/** An assistant message with tool calls whose reasoning is not in `field` (a string, empty or not). */
function toolTurnWithout(msg: unknown, field: string): boolean {
  if (typeof msg !== 'object' || msg === null) return false;
  const { role, tool_calls: calls } = msg as JsonRecord;
  return (
    role === 'assistant' && Array.isArray(calls) && calls.length > 0 && typeof (msg as JsonRecord)[field] !== 'string'
  );
}

/** An assistant turn whose first tool call carries no thought signature (see `requireThoughtSignatures`). */
function unsignedToolTurn(message: unknown): boolean {
  const record = asRecord(message);
  const first = asRecord(asArray(record.tool_calls)[0]);
  if (record.role !== 'assistant' || Object.keys(first).length === 0) return false;
  return typeof asRecord(asRecord(first.extra_content).google).thought_signature !== 'string';
}
