/**
 * Pure translations the request pipeline calls: Anthropic Messages inbound,
 * tool-calling and structured-output emulation, request-body schemas.
 * Framework-free: no Nest, no database, no I/O.
 */
export {
  anthropicCountTokensSchema,
  anthropicMessagesSchema,
  type AnthropicMessagesBody,
} from './anthropic-inbound.schema';
export { anthropicToChat, withClientBetas } from './anthropic-inbound.request';
export { chatRequestFor, messagesRequestFor } from './anthropic-inbound.upstream';
export { nativeMessagesRequest } from './anthropic-inbound.native';
export {
  anthropicMessageId,
  anthropicStopReason,
  anthropicUsage,
  chatToAnthropic,
  toolInput,
} from './anthropic-inbound.response';
export { AnthropicEventMapper, chatChunksToAnthropicEvents } from './anthropic-inbound.stream';
export {
  emulateToolsRequest,
  rewriteToolHistory,
  toolInstruction,
  toolRepairRequest,
  usesTools,
} from './tool-emulation';
export {
  emulatedToolProblem,
  emulatedToolStream,
  parseEmulatedToolReply,
  parseToolCallsFromText,
  toolReplyProblem,
} from './tool-emulation.reply';
export { toolOffer, type ToolOffer } from './tool-offer';
export { validateChatRequest } from './request-checks';
export {
  checkJsonReply,
  instructForJson,
  repairRequest,
  responseSchemaOf,
  validateChatRequestSchemas,
  type JsonInstructionOptions,
  type JsonReplyCheck,
} from './structured-output';
export { extractJson, jsonCandidates } from './json-extract';
export { addUsage } from './usage-sum';
export { strictModeAccepts } from './strict-schema';
export { chatMessageSchema, chatRequestSchema, FUNCTION_NAME, MAX_OUTPUT_TOKENS } from './chat-request.schema';
export { structuredRequestSchema } from './structured-request.schema';
export { completionRequestSchema, embeddingRequestSchema, MAX_EMBEDDING_INPUTS } from './completion-request.schema';
