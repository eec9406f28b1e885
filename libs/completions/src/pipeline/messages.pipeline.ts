import { Injectable } from '@nestjs/common';
import { type AnthropicMessageRequest, withFields } from '@app/contracts';
import { anthropicToChat, chatChunksToAnthropicEvents, chatToAnthropic } from '../translate';
import { ChatPipeline } from './chat.pipeline';
import type { RequestContext } from './request-context';

/**
 * Anthropic's `POST /v1/messages`, inbound: translated to the canonical chat
 * request, run through the same pipeline (so any provider can answer), and
 * translated back — JSON or Anthropic's SSE event sequence.
 */
@Injectable()
export class MessagesPipeline {
  constructor(private readonly chat: ChatPipeline) {}

  async create(body: AnthropicMessageRequest, ctx: RequestContext) {
    const { value, headers } = await this.chat.complete(withFields(anthropicToChat(body), { stream: false }), ctx);
    return { value: chatToAnthropic(value, body.model), headers };
  }

  async stream(body: AnthropicMessageRequest, ctx: RequestContext) {
    const request = withFields(anthropicToChat(body), { stream: true, stream_options: { include_usage: true } });
    const { headers, chunks } = await this.chat.stream(request, ctx);
    return { headers, events: chatChunksToAnthropicEvents(chunks, body.model) };
  }
}
