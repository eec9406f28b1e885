import { createHash } from 'node:crypto';
import { asArray, asRecord, isRecord, type JsonRecord } from './fake-content';
import {
  countInputTokens,
  isRedactedData,
  messageBody,
  messageEvents,
  planMessage,
  thinkingSignature,
} from './fake-anthropic.responses';
import { toolProblem } from './fake-anthropic.server-tools';
import { FakeUpstream } from './fake-upstream';
import type { FakeBehaviour, FakeReply, FakeUpstreamOptions, RecordedRequest } from './fake-upstream.types';
import type { SseEvent } from './sse-writer';

export interface FakeAnthropicServerOptions extends FakeUpstreamOptions {
  /** When set, `x-api-key` (or `Authorization: Bearer`) must equal it; otherwise any key passes. */
  apiKey?: string;
  /** Ids listed by `GET /v1/models`. */
  models?: string[];
  /** `retry-after` sent with a scripted 429 that sets no headers of its own (default `1`). */
  retryAfterSeconds?: number;
}

const DEFAULT_MODELS = ['claude-3-5-haiku-20241022', 'claude-sonnet-4-20250514', 'claude-opus-4-20250514'];
const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** Fields of a Messages request that Anthropic's count_tokens refuses as extra inputs. */
const COUNT_REFUSED_FIELDS = ['max_tokens', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'stream', 'metadata'];

/**
 * An Anthropic Messages API upstream: header and body validation, JSON and SSE replies
 * with text / tool_use blocks (and, with `thinking` on, a signed thinking block and a
 * redacted one first, whose signature and data it checks when they come back; with a
 * web search tool, the search's blocks and a cited answer, or `pause_turn` after the
 * search when asked to "search deeply"; Anthropic's own client tools such as `bash` called;
 * with `output_config.format`, JSON that fits its schema),
 * prompt-cache usage, Anthropic-shaped errors and models.
 */
export class FakeAnthropicServer extends FakeUpstream {
  private messageCount = 0;
  private readonly cachedPrefixes = new Set<string>();

  constructor(private readonly options: FakeAnthropicServerOptions = {}) {
    super(options);
  }

  /** Also forgets which prompt prefixes were cached. */
  override reset(): void {
    super.reset();
    this.cachedPrefixes.clear();
    this.messageCount = 0;
  }

  protected override route(request: RecordedRequest, behaviour: FakeBehaviour): FakeReply | undefined {
    const invalid = this.validateHeaders(request);
    if (invalid) return invalid;
    if (request.method === 'GET' && request.path === '/v1/models') return this.listModels();
    if (request.method === 'GET' && request.path.startsWith('/v1/models/')) {
      return this.getModel(decodeURIComponent(request.path.slice('/v1/models/'.length)));
    }
    if (request.method !== 'POST') return undefined;
    if (request.path === '/v1/messages') return this.messages(request.body, behaviour);
    if (request.path === '/v1/messages/count_tokens') {
      const body = isRecord(request.body) ? request.body : {};
      // As Anthropic's: the generation's own fields are no input of a count.
      const extra = COUNT_REFUSED_FIELDS.find((field) => field in body);
      if (extra) return this.errorReply(400, `${extra}: Extra inputs are not permitted`);
      return { kind: 'body', body: { input_tokens: countInputTokens(body) } };
    }
    return undefined;
  }

  protected override errorBody(status: number, message: string): unknown {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message }, request_id: `req_fake${Date.now()}` };
  }

  protected override errorHeaders(status: number): Record<string, string> {
    return status === 429 ? { 'retry-after': String(this.options.retryAfterSeconds ?? 1) } : {};
  }

  protected override streamErrorEvent(): SseEvent {
    return { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } };
  }

  private validateHeaders(request: RecordedRequest): FakeReply | undefined {
    const headerKey = request.headers['x-api-key'];
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const key = typeof headerKey === 'string' ? headerKey : bearer;
    if (key === undefined || key === '') return this.errorReply(401, 'x-api-key header is required');
    if (this.options.apiKey !== undefined && key !== this.options.apiKey) {
      return this.errorReply(401, 'invalid x-api-key');
    }
    if (!request.headers['anthropic-version']) {
      return this.errorReply(400, 'anthropic-version: header is required');
    }
    return undefined;
  }

  private messages(body: unknown, behaviour: FakeBehaviour): FakeReply {
    if (!isRecord(body)) return this.errorReply(400, 'messages: could not parse the JSON body');
    const problem = validateMessagesBody(body);
    if (problem) return this.errorReply(400, problem);
    this.messageCount += 1;
    const id = `msg_fake${this.messageCount}`;
    const plan = planMessage(body, behaviour.text, `toolu_fake${this.messageCount}`, (prefix) => this.seen(prefix));
    const model = String(body.model);
    const headers = { 'request-id': `req_fake${this.messageCount}` };
    if (body.stream === true) return { kind: 'sse', events: messageEvents(plan, id, model), headers };
    return { kind: 'body', body: messageBody(plan, id, model), headers };
  }

  private seen(prefix: string): boolean {
    const key = createHash('sha256').update(prefix).digest('hex');
    if (this.cachedPrefixes.has(key)) return true;
    this.cachedPrefixes.add(key);
    return false;
  }

  private modelIds(): string[] {
    return this.options.models ?? DEFAULT_MODELS;
  }

  private modelEntry(id: string): JsonRecord {
    return { type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' };
  }

  private listModels(): FakeReply {
    const ids = this.modelIds();
    return {
      kind: 'body',
      body: {
        data: ids.map((id) => this.modelEntry(id)),
        has_more: false,
        first_id: ids[0] ?? null,
        last_id: ids.at(-1) ?? null,
      },
    };
  }

  private getModel(id: string): FakeReply {
    if (!this.modelIds().includes(id)) return this.errorReply(404, `model: ${id}`);
    return { kind: 'body', body: this.modelEntry(id) };
  }
}

/** The checks Anthropic makes first, with its wording. */
function validateMessagesBody(body: JsonRecord): string | undefined {
  if (typeof body.model !== 'string') return 'model: Field required';
  if (body.max_tokens === undefined) return 'max_tokens: Field required';
  if (typeof body.max_tokens !== 'number' || body.max_tokens < 1) return 'max_tokens: Input should be a valid integer';
  const messages = asArray(body.messages);
  if (!Array.isArray(body.messages)) return 'messages: Field required';
  if (messages.length === 0) return 'messages: at least one message is required';
  return (
    toolProblem(body.tools) ?? validateContent(messages.map(asRecord)) ?? validateThinking(body, messages.map(asRecord))
  );
}

/** Anthropic refuses empty turns and empty text blocks. */
function validateContent(messages: JsonRecord[]): string | undefined {
  for (const [i, message] of messages.entries()) {
    const final = i === messages.length - 1 && message.role === 'assistant';
    const content = message.content;
    if (!final && (content === '' || (Array.isArray(content) && content.length === 0))) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    for (const [j, block] of asArray(content).map(asRecord).entries()) {
      if (block.type === 'text' && block.text === '')
        return `messages.${i}.content.${j}: text content blocks must be non-empty`;
    }
  }
  return undefined;
}

/**
 * Thinking sent back must be as Anthropic wrote it (the signature checks the text),
 * and with thinking on, the assistant turn of the last tool round must begin with it.
 */
function validateThinking(body: JsonRecord, messages: JsonRecord[]): string | undefined {
  for (const [i, message] of messages.entries()) {
    if (message.role !== 'assistant') continue;
    for (const [j, block] of asArray(message.content).map(asRecord).entries()) {
      if (block.type === 'thinking' && block.signature !== thinkingSignature(String(block.thinking))) {
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
      }
      if (block.type === 'redacted_thinking' && !isRedactedData(block.data)) {
        return `messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`;
      }
    }
  }
  const thinking = asRecord(body.thinking).type;
  if (thinking !== 'enabled' && thinking !== 'adaptive') return undefined;
  const last = messages.at(-1);
  const toolRound = last?.role === 'user' && asArray(last.content).some((b) => asRecord(b).type === 'tool_result');
  const turn = messages.length - 2;
  if (!toolRound || messages[turn]?.role !== 'assistant') return undefined;
  const first = asRecord(asArray(messages[turn].content)[0]);
  if (first.type === 'thinking' || first.type === 'redacted_thinking') return undefined;
  return (
    `messages.${turn}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first.type)}\`. ` +
    'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost ' +
    'set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To ' +
    'avoid this requirement, disable `thinking`.'
  );
}
