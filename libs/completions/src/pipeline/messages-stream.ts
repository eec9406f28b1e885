import type { AnthropicMessage, AnthropicSseEvent, ChatChunk } from '@app/contracts';
import { type AnthropicUsageState, withDeltaUsage } from '@app/providers';
import type { TokenUsage } from '@app/usage';
import { AnthropicEventMapper } from '../translate';
import { chatChunkReader } from './chat.pipeline';
import type { OpenedStream } from './generation-runner';
import type { ChunkReader } from './stream-relay';
import { anthropicTokenUsage } from './token-usage';

/**
 * One step of a `/v1/messages` stream, whoever answers: the Anthropic events it
 * gives the client, with what the relay reads of it (usage, model, output). A
 * native answer gives one event a step, as it arrives; a translated one the
 * events of one chat chunk.
 */
export interface MessagesStreamPart {
  events: AnthropicSseEvent[];
  /** The answer's usage, once the upstream gave it. */
  usage?: TokenUsage;
  /** The usage `message_start` gave (see `ChunkReader.startUsage`). */
  startUsage?: TokenUsage;
  /** The model the upstream says answered. */
  model?: string;
  /** Characters of generated output, to estimate the usage of a stream cut short. */
  outputChars: number;
}

/** Anthropic's events carry their usage whatever the client asked: parts are passed on whole. */
export const messagesPartReader: ChunkReader<MessagesStreamPart> = {
  usage: (part) => part.usage,
  outputChars: (part) => part.outputChars,
  model: (part) => part.model,
  withoutUsage: (part) => part,
  withUsage: (part) => part,
  startUsage: (part) => part.startUsage,
};

/**
 * Anthropic's own events as parts, one each, as they came — but for the model in
 * `message_start`, which names the model the client asked for, as every
 * `/v1/messages` answer does. The usage (`message_start`'s, updated by
 * `message_delta`'s) is given with `message_delta`, the end of the answer: a
 * stream cut before is settled on `message_start`'s count of the prompt, its output
 * estimated from what was relayed.
 */
export class NativeEventParts {
  private usage: AnthropicUsageState | undefined;

  constructor(private readonly requestedModel: string) {}

  part(event: AnthropicSseEvent): MessagesStreamPart {
    switch (event.event) {
      case 'message_start':
        return this.start(event);
      case 'message_delta': {
        const delta = (event.data as { usage?: Parameters<typeof withDeltaUsage>[1] }).usage;
        if (delta) this.usage = withDeltaUsage(this.usage ?? { input_tokens: 0, output_tokens: 0 }, delta);
        return { events: [event], usage: this.usage && anthropicTokenUsage(this.usage), outputChars: 0 };
      }
      case 'content_block_delta':
        return { events: [event], outputChars: deltaChars(event.data['delta']) };
      default:
        return { events: [event], outputChars: 0 };
    }
  }

  private start(event: AnthropicSseEvent): MessagesStreamPart {
    const message = event.data['message'] as Partial<AnthropicMessage> | undefined;
    if (!message) return { events: [event], outputChars: 0 };
    if (message.usage) this.usage = { ...message.usage };
    const renamed = { ...event.data, message: { ...message, model: this.requestedModel } };
    const startUsage = this.usage && anthropicTokenUsage(this.usage);
    return { events: [{ event: event.event, data: renamed }], model: message.model, outputChars: 0, startUsage };
  }
}

/** Generated characters in an answer's blocks: text, thinking, tool input (as JSON). */
export function messageChars(message: AnthropicMessage): number {
  let chars = 0;
  for (const block of message.content ?? []) {
    if (block.type === 'text') chars += block.text.length;
    else if (block.type === 'thinking') chars += block.thinking.length;
    else if (block.type === 'tool_use') chars += JSON.stringify(block.input ?? {}).length;
  }
  return chars;
}

/** Generated characters in a block delta: text, thinking, tool input. */
function deltaChars(delta: unknown): number {
  const fields = (delta ?? {}) as { text?: unknown; thinking?: unknown; partial_json?: unknown };
  const text = fields.text ?? fields.thinking ?? fields.partial_json;
  return typeof text === 'string' ? text.length : 0;
}

/**
 * An opened native stream as parts: the first event, then the rest one by one.
 * Closing it closes the upstream call.
 */
export function nativeParts(
  first: AnthropicSseEvent | undefined,
  events: AsyncIterator<AnthropicSseEvent>,
  requestedModel: string,
  ttftMs: number,
): OpenedStream<MessagesStreamPart> {
  const parts = new NativeEventParts(requestedModel);
  const rest: AsyncIterator<MessagesStreamPart> = {
    next: async () => {
      const next = await events.next();
      return next.done ? next : { done: false, value: parts.part(next.value) };
    },
    return: async () => {
      await events.return?.();
      return { done: true, value: undefined };
    },
  };
  return { first: first && parts.part(first), rest, ttftMs };
}

/**
 * An opened chat stream translated to Anthropic's events (see `AnthropicEventMapper`),
 * a part per chunk, then one with the closing events once the chunks end; its usage
 * and model are the chunks' own. Closing it closes the chat stream.
 */
export function translatedParts(
  chat: OpenedStream<ChatChunk>,
  requestedModel: string,
  promptEstimate = 0,
): OpenedStream<MessagesStreamPart> {
  const mapper = new AnthropicEventMapper(requestedModel, promptEstimate);
  let output = 0;
  const part = (chunk: ChatChunk): MessagesStreamPart => {
    const outputChars = chatChunkReader.outputChars(chunk);
    output += outputChars;
    return { events: mapper.push(chunk), usage: chatChunkReader.usage(chunk), model: chunk.model, outputChars };
  };
  // Without usage from the upstream, the closing events report the output as the gateway estimates it (~4 characters a token).
  const closing = (): MessagesStreamPart => ({ events: mapper.finish(Math.ceil(output / 4)), outputChars: 0 });
  let ended = chat.first === undefined;
  const rest: AsyncIterator<MessagesStreamPart> = {
    next: async () => {
      if (ended) return { done: true, value: undefined };
      const next = await chat.rest.next();
      if (!next.done) return { done: false, value: part(next.value) };
      ended = true;
      return { done: false, value: closing() };
    },
    return: async () => {
      ended = true;
      await chat.rest.return?.();
      return { done: true, value: undefined };
    },
  };
  return { first: chat.first ? part(chat.first) : closing(), rest, ttftMs: chat.ttftMs };
}

/** The events of the parts, in order, as the SSE writer sends them. */
export async function* messagesEvents(
  parts: AsyncIterable<MessagesStreamPart>,
): AsyncGenerator<AnthropicSseEvent, void, undefined> {
  for await (const part of parts) {
    for (const event of part.events) yield event;
  }
}
