/**
 * Anthropic Messages API wire types, aliased from `@anthropic-ai/sdk` (type-only).
 * Used by the Anthropic provider adapter and by the inbound `POST /v1/messages` route.
 */
import type {
  Base64ImageSource,
  ContentBlock,
  ContentBlockParam,
  ImageBlockParam,
  Message,
  MessageCreateParamsBase,
  MessageDeltaUsage,
  MessageParam,
  RawContentBlockDelta,
  RawMessageStreamEvent,
  StopReason,
  TextBlock,
  TextBlockParam,
  Tool,
  ToolChoice,
  ToolResultBlockParam,
  ToolUseBlock,
  ToolUseBlockParam,
  Usage,
} from '@anthropic-ai/sdk/resources/messages';
import type { Loose } from './openai';

/** `POST /v1/messages` body; unknown fields allowed. */
export type AnthropicMessageRequest = Loose<MessageCreateParamsBase>;
/** `POST /v1/messages/count_tokens` body: a Messages body whose `max_tokens` is optional (the prompt is counted). */
export type AnthropicCountTokensRequest = Loose<Omit<MessageCreateParamsBase, 'max_tokens'> & { max_tokens?: number }>;
/** The documented Messages params only (what the gateway itself builds). */
export type AnthropicMessageParams = MessageCreateParamsBase;
export type AnthropicMessage = Message;
export type AnthropicMessageParam = MessageParam;
export type AnthropicContentBlock = ContentBlock;
export type AnthropicContentBlockParam = ContentBlockParam;
export type AnthropicTextBlock = TextBlock;
export type AnthropicTextBlockParam = TextBlockParam;
export type AnthropicImageBlockParam = ImageBlockParam;
export type AnthropicImageMediaType = Base64ImageSource['media_type'];
export type AnthropicToolUseBlock = ToolUseBlock;
export type AnthropicToolUseBlockParam = ToolUseBlockParam;
export type AnthropicToolResultBlockParam = ToolResultBlockParam;
export type AnthropicTool = Tool;
export type AnthropicToolChoice = ToolChoice;
export type AnthropicStopReason = StopReason;
export type AnthropicUsage = Usage;
export type AnthropicDeltaUsage = MessageDeltaUsage;
/** One server-sent event of a streamed message (`ping` and `error` are handled by the transport). */
export type AnthropicStreamEvent = RawMessageStreamEvent;
export type AnthropicContentDelta = RawContentBlockDelta;

/**
 * One server-sent event of Anthropic's Messages stream as it goes on the wire: its
 * `event:` name and its JSON payload (which repeats the name as `type`). Wider than
 * {@link AnthropicStreamEvent}: `ping`, `error` and event types newer than the SDK too.
 */
export interface AnthropicSseEvent {
  event: string;
  data: { type: string; [field: string]: unknown };
}

/** Anthropic's error body: `{"type":"error","error":{"type","message"}}`. */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  request_id?: string;
}
