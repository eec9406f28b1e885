import type { ChatRequest } from '@app/contracts';
import { validateChatRequestSchemas } from './structured-output';
import { validateToolChoice } from './tool-offer';

/**
 * What the body's schema cannot check of a chat request, for every provider
 * alike: its JSON Schemas, and a `tool_choice` its tools can satisfy. Throws the
 * 400 naming the field.
 */
export function validateChatRequest(req: ChatRequest): void {
  validateChatRequestSchemas(req);
  validateToolChoice(req);
}
