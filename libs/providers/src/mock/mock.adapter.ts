import type {
  ChatChunk,
  ChatChunkDelta,
  ChatFinishReason,
  ChatRequest,
  ChatResponse,
  CompletionChunk,
  CompletionRequest,
  CompletionResponse,
  EmbeddingRequest,
  EmbeddingResponse,
} from '@app/contracts';
import { GatewayError } from '@app/contracts';
import { clientAbortError } from '../errors';
import { completionPlan } from './mock.completion';
import { checkChoicesSize, choiceCount, rejectAudioOutput, rejectChatLogprobs, rejectCustomTools } from './mock.limits';

export { MAX_MOCK_CHOICES_CHARS } from './mock.limits';
import type {
  CallContext,
  HealthResult,
  ModelInfo,
  ProviderAdapter,
  ProviderCapabilities,
  ProviderConfig,
} from '../provider.interface';
import {
  countTokens,
  mockUsage,
  mockVector,
  planMockReply,
  promptText,
  replyText,
  stableHash,
  words,
  type MockReply,
} from './mock.reply';

export const MOCK_MODELS: ReadonlyArray<ModelInfo> = [
  {
    id: 'echo-1',
    ownedBy: 'mock',
    description: '[mock] Echoes the last user message; no network. For tests and demos.',
  },
  {
    id: 'echo-tools',
    ownedBy: 'mock',
    description: '[mock] Echo model that calls a given tool when asked to "call tool"; no network. For tests.',
  },
];

const DEFAULT_EMBEDDING_DIMENSIONS = 8;
/** OpenAI's largest (text-embedding-3-large). */
export const MAX_MOCK_EMBEDDING_DIMENSIONS = 3072;
/** Numbers per embeddings response (inputs × dimensions): about 2.5 MB of JSON, built in tens of ms. */
export const MAX_MOCK_EMBEDDING_VALUES = 262_144;
function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** The `n` replies of a chat request: the first as without `n`, the others told apart from it. */
function chatReplies(request: ChatRequest): MockReply[] {
  rejectChatLogprobs(request);
  rejectAudioOutput(request);
  rejectCustomTools(request);
  const first = planMockReply(request);
  const n = choiceCount(request.n, replyText(first).length);
  const replies = [first];
  for (let choice = 1; choice < n; choice++) replies.push(planMockReply(request, choice));
  checkChoicesSize(
    n,
    replies.reduce((sum, reply) => sum + replyText(reply).length, 0),
  );
  return replies;
}

function embeddingInputs(input: EmbeddingRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.length === 0) return [];
  if (typeof input[0] === 'number') return [input.join(' ')];
  return (input as Array<string | number[]>).map((item) => (typeof item === 'string' ? item : item.join(' ')));
}

/** The mock's vectors are built on the event loop: their size is bounded, visibly. */
function checkEmbeddingSize(inputs: number, dimensions: number): void {
  if (dimensions > MAX_MOCK_EMBEDDING_DIMENSIONS) {
    throw new GatewayError(
      'invalid_request_error',
      `The mock provider embeds with at most ${MAX_MOCK_EMBEDDING_DIMENSIONS} dimensions (asked for ${dimensions}).`,
      { param: 'dimensions' },
    );
  }
  if (inputs * dimensions > MAX_MOCK_EMBEDDING_VALUES) {
    throw new GatewayError(
      'invalid_request_error',
      `The mock provider returns at most ${MAX_MOCK_EMBEDDING_VALUES} numbers per request (inputs × dimensions); ` +
        `${inputs} inputs of ${dimensions} dimensions are ${inputs * dimensions}. Send fewer inputs or dimensions.`,
      { param: 'input' },
    );
  }
}

/** The stop sequence a text reply ended before, named as vLLM names it (`stop_reason`), which the Messages API reports. */
function stopReasonOf(reply: MockReply): { stop_reason?: string } {
  return reply.kind === 'text' && reply.stopSequence !== undefined ? { stop_reason: reply.stopSequence } : {};
}

function finishOf(reply: MockReply): ChatFinishReason {
  return reply.kind === 'tool' ? 'tool_calls' : reply.finish;
}

/** A reply as stream deltas: each tool call in turn (name, then arguments), or the text word by word. */
function replyDeltas(reply: MockReply): ChatChunkDelta[] {
  if (reply.kind === 'text') return words(reply.text).map((content) => ({ content }));
  return reply.calls.flatMap(({ id, name, arguments: args }, index): ChatChunkDelta[] => [
    { tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] },
    { tool_calls: [{ index, function: { arguments: args } }] },
  ]);
}

/** Built-in deterministic provider: no network, clearly labelled `[mock]`. */
export class MockAdapter implements ProviderAdapter {
  readonly name: string;
  readonly kind = 'mock' as const;
  readonly capabilities: ProviderCapabilities = {
    tools: true,
    jsonSchema: true,
    embeddings: true,
    legacyCompletions: true,
  };

  constructor(config: ProviderConfig) {
    this.name = config.name;
  }

  capabilitiesOf(): ProviderCapabilities {
    return this.capabilities;
  }

  async chat(request: ChatRequest, call: CallContext): Promise<ChatResponse> {
    this.checkAbort(call);
    const replies = chatReplies(request);
    return {
      id: this.chatId(request),
      object: 'chat.completion',
      created: now(),
      model: request.model,
      choices: replies.map((reply, index) => ({
        index,
        message: this.message(reply),
        finish_reason: finishOf(reply),
        logprobs: null,
        ...stopReasonOf(reply),
      })),
      usage: mockUsage(promptText(request.messages), replies.map(replyText)),
    };
  }

  /** Each of the `n` choices in turn: its role, its words (or tool call), its finish; then usage. */
  async *chatStream(request: ChatRequest, call: CallContext): AsyncGenerator<ChatChunk> {
    const replies = chatReplies(request);
    const base = {
      id: this.chatId(request),
      object: 'chat.completion.chunk' as const,
      created: now(),
      model: request.model,
    };
    const chunk = (
      index: number,
      delta: ChatChunkDelta,
      finish: ChatFinishReason | null = null,
      extra = {},
    ): ChatChunk => ({
      ...base,
      choices: [{ index, delta, finish_reason: finish, logprobs: null, ...extra }],
    });
    for (const [index, reply] of replies.entries()) {
      for (const delta of [{ role: 'assistant' as const, content: '' }, ...replyDeltas(reply)]) {
        await this.pause(call);
        yield chunk(index, delta);
      }
      await this.pause(call);
      yield chunk(index, {}, finishOf(reply), stopReasonOf(reply));
    }
    yield { ...base, choices: [], usage: mockUsage(promptText(request.messages), replies.map(replyText)) };
  }

  /** One choice per prompt, `n` times each, prompt-major as OpenAI orders them. */
  async completion(request: CompletionRequest, call: CallContext): Promise<CompletionResponse> {
    this.checkAbort(call);
    const plan = completionPlan(request);
    return {
      ...plan.base,
      choices: plan.choices.map(({ text, finish }, index) => ({ index, text, finish_reason: finish, logprobs: null })),
      usage: plan.usage,
    };
  }

  async *completionStream(request: CompletionRequest, call: CallContext): AsyncGenerator<CompletionChunk> {
    const { base, choices, usage } = completionPlan(request);
    for (const [index, { text, finish }] of choices.entries()) {
      for (const piece of words(text)) {
        await this.pause(call);
        yield { ...base, choices: [{ index, text: piece, finish_reason: null, logprobs: null }] };
      }
      yield { ...base, choices: [{ index, text: '', finish_reason: finish, logprobs: null }] };
    }
    yield { ...base, choices: [], usage };
  }

  async embed(request: EmbeddingRequest, call: CallContext): Promise<EmbeddingResponse> {
    this.checkAbort(call);
    const inputs = embeddingInputs(request.input);
    const dimensions = request.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
    checkEmbeddingSize(inputs.length, dimensions);
    const tokens = inputs.reduce((sum, text) => sum + countTokens(text), 0);
    return {
      object: 'list',
      model: request.model,
      data: inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: this.vector(text, dimensions, request),
      })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  async listModels(): Promise<ModelInfo[]> {
    return MOCK_MODELS.map((model) => ({ ...model }));
  }

  async health(): Promise<HealthResult> {
    return { ok: true, latencyMs: 0, message: 'mock provider (no network)' };
  }

  async close(): Promise<void> {}

  private message(reply: MockReply): ChatResponse['choices'][number]['message'] {
    if (reply.kind === 'text') return { role: 'assistant', content: reply.text, refusal: null };
    return {
      role: 'assistant',
      content: null,
      refusal: null,
      tool_calls: reply.calls.map(({ id, name, arguments: args }) => ({
        id,
        type: 'function' as const,
        function: { name, arguments: args },
      })),
    };
  }

  private chatId(request: ChatRequest): string {
    return `chatcmpl-mock-${stableHash(JSON.stringify(request.messages))}`;
  }

  /** `encoding_format: base64` is what the OpenAI JS SDK asks for by default. */
  private vector(text: string, dimensions: number, request: EmbeddingRequest): number[] {
    const vector = mockVector(text, dimensions);
    if (request.encoding_format !== 'base64') return vector;
    const base64 = Buffer.from(new Float32Array(vector).buffer).toString('base64');
    return base64 as unknown as number[];
  }

  private checkAbort(call: CallContext): void {
    if (call.signal.aborted) throw clientAbortError(this.name, call.signal.reason);
  }

  /** Lets other work (and an abort) in between chunks, as a network stream would. */
  private async pause(call: CallContext): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.checkAbort(call);
  }
}
