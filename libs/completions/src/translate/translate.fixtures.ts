import type { ChatChunk, ChatFunctionTool, ChatRequest, ChatResponse, Usage } from '@app/contracts';

/** Realistic canonical (OpenAI-shaped) payloads for the translation tests. Test data only. */

export const weatherTool: ChatFunctionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the current weather in a given location',
    parameters: {
      type: 'object',
      properties: {
        location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
      required: ['location'],
    },
  },
};

export const timeTool: ChatFunctionTool = {
  type: 'function',
  function: {
    name: 'get_time',
    description: 'Current local time in a timezone',
    parameters: { type: 'object', properties: { timezone: { type: 'string' } }, required: ['timezone'] },
  },
};

export function chatRequest(extra: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'ollama/llama3.1:8b',
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: "What's the weather like in Paris?" },
    ],
    tools: [weatherTool, timeTool],
    ...extra,
  };
}

export function usage(prompt = 120, completion = 30, cached = 0): Usage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

export function chatResponse(
  message: Partial<ChatResponse['choices'][number]['message']>,
  finish: ChatResponse['choices'][number]['finish_reason'] = 'stop',
  extra: Partial<ChatResponse> = {},
): ChatResponse {
  return {
    id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
    object: 'chat.completion',
    created: 1741570283,
    model: 'llama3.1:8b',
    system_fingerprint: 'fp_ollama',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: null, refusal: null, ...message },
        finish_reason: finish,
        logprobs: null,
      },
    ],
    usage: usage(),
    ...extra,
  };
}

/** Builds the chunks of one stream, OpenAI-style (same id, created, model on each). */
export function chunker(id = 'chatcmpl-AbC123stream', model = 'gpt-4o-mini-2024-07-18') {
  const base = { id, object: 'chat.completion.chunk' as const, created: 1741570283, model };
  return {
    delta(
      delta: ChatChunk['choices'][number]['delta'],
      finish: ChatChunk['choices'][number]['finish_reason'] = null,
    ): ChatChunk {
      return { ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] };
    },
    usage(u: Usage): ChatChunk {
      return { ...base, choices: [], usage: u };
    },
  };
}

export async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

/** An NDJSON byte stream of values, the format the SDKs' `fromReadableStream` helpers read. */
export function ndjson(values: unknown[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const value of values) controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
      controller.close();
    },
  });
}
