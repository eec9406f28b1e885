/**
 * The gateway's canonical wire format: OpenAI Chat Completions (plus legacy
 * completions, embeddings and models), aliased from the `openai` SDK's own types so
 * they track the real protocol. Type-only: nothing here pulls the SDK into a bundle.
 */
import type {
  ChatCompletion,
  ChatCompletionAssistantMessageParam,
  ChatCompletionChunk,
  ChatCompletionContentPart,
  ChatCompletionContentPartImage,
  ChatCompletionContentPartText,
  ChatCompletionCreateParamsBase,
  ChatCompletionFunctionTool,
  ChatCompletionMessage,
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionStreamOptions,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
  ChatCompletionToolMessageParam,
  ChatCompletionUserMessageParam,
} from 'openai/resources/chat/completions';
import type {
  Completion,
  CompletionChoice,
  CompletionCreateParamsBase,
  CompletionUsage,
} from 'openai/resources/completions';
import type { CreateEmbeddingResponse, Embedding, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { Model } from 'openai/resources/models';
import type { ResponseFormatJSONObject, ResponseFormatJSONSchema, ResponseFormatText } from 'openai/resources/shared';

/** Unknown fields are allowed: OpenAI-shaped bodies pass through to providers that understand them. */
export type Loose<T> = T & { [extra: string]: unknown };

/** `POST /v1/chat/completions` body; `stream` decides between a response and a chunk stream. */
export type ChatRequest = Loose<ChatCompletionCreateParamsBase>;
/** The arguments OpenAI's Chat Completions API defines (it refuses any other). */
export type ChatParameter = keyof ChatCompletionCreateParamsBase;
export type ChatResponse = ChatCompletion;
export type ChatChunk = ChatCompletionChunk;
export type ChatMessage = ChatCompletionMessageParam;
export type ChatUserMessage = ChatCompletionUserMessageParam;
export type ChatAssistantMessage = ChatCompletionAssistantMessageParam;
export type ChatToolMessage = ChatCompletionToolMessageParam;
export type ChatResponseMessage = ChatCompletionMessage;
export type ChatContentPart = ChatCompletionContentPart;
export type ChatTextPart = ChatCompletionContentPartText;
export type ChatImagePart = ChatCompletionContentPartImage;
export type ChatTool = ChatCompletionTool;
export type ChatFunctionTool = ChatCompletionFunctionTool;
export type ChatToolCall = ChatCompletionMessageToolCall;
export type ChatFunctionToolCall = ChatCompletionMessageFunctionToolCall;
export type ChatToolChoice = ChatCompletionToolChoiceOption;
export type ChatStreamOptions = ChatCompletionStreamOptions;
export type ChatFinishReason = ChatCompletion.Choice['finish_reason'];
export type ChatChunkChoice = ChatCompletionChunk.Choice;
export type ChatChunkDelta = ChatCompletionChunk.Choice.Delta;
export type ChatChunkToolCallDelta = ChatCompletionChunk.Choice.Delta.ToolCall;
/**
 * Anthropic's extended thinking on the chat format, as LiteLLM carries it: a reply's
 * message (and a stream delta) has `reasoning_content`, the thinking text, and
 * `thinking_blocks`, the blocks themselves with their `signature` (a
 * `redacted_thinking` block with its encrypted `data`). An assistant message sent
 * back with its `thinking_blocks` gives Anthropic the blocks it needs to go on with
 * a tool loop while thinking is on. In a stream, a `thinking` entry carries either
 * a fragment of text or, at the end of the block, its `signature`.
 */
export type ChatThinkingBlock =
  { type: 'thinking'; thinking: string; signature?: string | null } | { type: 'redacted_thinking'; data: string };
/** The reasoning fields of a reply's message, a stream delta, or an assistant message sent back. */
export interface ChatReasoning {
  reasoning_content?: string | null;
  thinking_blocks?: ChatThinkingBlock[];
}
export type ResponseFormat = ResponseFormatText | ResponseFormatJSONObject | ResponseFormatJSONSchema;
export type JsonSchemaResponseFormat = ResponseFormatJSONSchema;

/** `POST /v1/completions` (legacy, prompt-based). */
export type CompletionRequest = Loose<CompletionCreateParamsBase>;
export type CompletionResponse = Completion;
/** A streamed legacy completion event: the response's shape, `finish_reason` null until the end. */
export type CompletionChunk = Omit<Completion, 'choices'> & {
  choices: Array<Omit<CompletionChoice, 'finish_reason'> & { finish_reason: CompletionChoice['finish_reason'] | null }>;
};

/** `POST /v1/embeddings`. */
export type EmbeddingRequest = Loose<EmbeddingCreateParams>;
export type EmbeddingResponse = CreateEmbeddingResponse;
export type EmbeddingItem = Embedding;

/**
 * Token usage as OpenAI reports it; `prompt_tokens_details.cached_tokens` carries
 * prompt-cache hits (Anthropic's cache reads map there).
 */
export type Usage = CompletionUsage;

/** One entry of `GET /v1/models`. */
export type ModelObject = Model;
