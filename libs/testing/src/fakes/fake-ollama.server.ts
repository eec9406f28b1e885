import { isRecord, type JsonRecord } from './fake-content';
import { FakeOpenAIServer, type FakeOpenAIServerOptions } from './fake-openai.server';
import type { FakeBehaviour, FakeReply, RecordedRequest } from './fake-upstream.types';

export interface FakeOllamaServerOptions extends Omit<FakeOpenAIServerOptions, 'basePath' | 'ownedBy'> {
  /** Reported by `GET /api/version` (default `0.5.7`). */
  version?: string;
}

const DEFAULT_MODELS = ['llama3:8b', 'nomic-embed-text:latest'];

/**
 * An Ollama server: its OpenAI-compatible `/v1` API (chat, completions, embeddings, models;
 * no key needed, as in Ollama) plus the native `GET /api/tags`, `GET /api/version` and `GET /`.
 * `origin` is what `OLLAMA_HOST` points at; `baseURL` is `origin + /v1`.
 */
export class FakeOllamaServer extends FakeOpenAIServer {
  private readonly version: string;

  constructor(options: FakeOllamaServerOptions = {}) {
    super({ requireApiKey: false, models: DEFAULT_MODELS, ...options, basePath: '/v1', ownedBy: 'library' });
    this.version = options.version ?? '0.5.7';
  }

  protected override route(request: RecordedRequest, behaviour: FakeBehaviour): FakeReply | undefined {
    if (request.method === 'GET') {
      if (request.path === '/') return { kind: 'body', body: 'Ollama is running' };
      if (request.path === '/api/version') return { kind: 'body', body: { version: this.version } };
      if (request.path === '/api/tags') return { kind: 'body', body: { models: this.modelIds().map(tagEntry) } };
    }
    return this.refusedInput(request) ?? super.route(request, behaviour);
  }

  /**
   * Ollama's chat request type has no `tool_choice`, `parallel_tool_calls`, `n` or
   * `max_completion_tokens`: it accepts them and its model never sees them.
   */
  protected override modelView(body: JsonRecord): JsonRecord {
    const {
      tool_choice: _choice,
      parallel_tool_calls: _parallel,
      n: _n,
      max_completion_tokens: _limit,
      ...honoured
    } = body;
    return honoured;
  }

  /**
   * What Ollama refuses of OpenAI's inputs: a legacy `prompt` that is not one string (its
   * request type has a string there), and embeddings `input` other than a text or texts.
   */
  private refusedInput(request: RecordedRequest): FakeReply | undefined {
    if (request.method !== 'POST' || !isRecord(request.body)) return undefined;
    const body = request.body;
    if (request.path === '/v1/completions' && 'prompt' in body && typeof body.prompt !== 'string') {
      const message = `json: cannot unmarshal array into Go struct field CompletionRequest.prompt of type string`;
      return ollamaError(400, 'invalid_request_error', message);
    }
    const input = body.input;
    const texts = typeof input === 'string' || (Array.isArray(input) && input.every((i) => typeof i === 'string'));
    if (request.path === '/v1/embeddings' && !texts) return ollamaError(400, 'api_error', 'invalid input type');
    return undefined;
  }
}

/** Ollama's OpenAI-layer error body (`type` as its middleware sets it; `param` and `code` null). */
function ollamaError(status: number, type: string, message: string): FakeReply {
  return { kind: 'body', status, body: { error: { message, type, param: null, code: null } } };
}

/** One `/api/tags` entry, shaped like Ollama's (sizes and digests are made up but stable). */
function tagEntry(name: string): Record<string, unknown> {
  const family = name.split(/[:-]/)[0] ?? name;
  const digest = Buffer.from(name).toString('hex').padEnd(64, '0').slice(0, 64);
  return {
    name,
    model: name,
    modified_at: '2025-01-01T00:00:00.000000000Z',
    size: 4_661_224_676,
    digest,
    details: {
      parent_model: '',
      format: 'gguf',
      family,
      families: [family],
      parameter_size: /:(\d+b)/i.exec(name)?.[1]?.toUpperCase() ?? '7B',
      quantization_level: 'Q4_0',
    },
  };
}
