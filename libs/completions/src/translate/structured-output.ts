import {
  type ChatRequest,
  SchemaBudget,
  nestsDeeperThan,
  validateAgainst,
  validateJsonSchemaDefinition,
} from '@app/contracts';
import { extractJson } from './json-extract';
import { withSystemInstruction } from './prompt-messages';

/**
 * Structured output (`response_format` json_object / json_schema) for providers
 * without it: the schema goes into the system prompt, the reply is parsed and
 * validated, and one repair turn is offered. Pure.
 */

/** How deep a model's JSON reply may nest (as a request body may). */
const MAX_REPLY_DEPTH = 256;

const ONLY_JSON = 'Output only the JSON itself: no prose before or after it, no explanations, no markdown code fences.';

/** The schema a JSON reply must satisfy: the json_schema's own, `{type: object}` for json_object, none otherwise. */
export function responseSchemaOf(req: ChatRequest): Record<string, unknown> | undefined {
  const format = req.response_format;
  if (format?.type === 'json_schema') return format.json_schema.schema ?? { type: 'object' };
  if (format?.type === 'json_object') return { type: 'object' };
  return undefined;
}

/**
 * Every JSON Schema of a chat request — each function tool's `parameters` and
 * `response_format.json_schema.schema` — or a 400 naming the bad one. Runs for
 * every provider, so bad schemas fail the same way everywhere; that includes a
 * pattern that could stall the gateway in a schema it may check replies against
 * (`response_format`, a `strict` tool's), whichever provider serves the request,
 * and the schema that takes the request's schemas together past `SCHEMA_LIMITS`.
 */
export function validateChatRequestSchemas(req: ChatRequest): void {
  if (!req.tools && !req.response_format) return;
  const budget = new SchemaBudget();
  (req.tools ?? []).forEach((tool, i) => {
    if (tool.type === 'function' && tool.function.parameters !== undefined) {
      // A strict tool's arguments are checked against its schema where tools are emulated.
      validateJsonSchemaDefinition(tool.function.parameters, `tools[${i}].function.parameters`, {
        checksValues: tool.function.strict === true,
        budget,
      });
    }
  });
  const format = req.response_format;
  if (format?.type === 'json_schema' && format.json_schema.schema !== undefined) {
    validateJsonSchemaDefinition(format.json_schema.schema, 'response_format.json_schema.schema', {
      checksValues: true,
      budget,
    });
  }
}

function jsonInstruction(req: ChatRequest): string | undefined {
  const format = req.response_format;
  if (format?.type === 'json_object') return `Reply with a single valid JSON object. ${ONLY_JSON}`;
  if (format?.type !== 'json_schema') return undefined;
  const spec = format.json_schema;
  const about = spec.description ? ` (${spec.description})` : '';
  const schema = JSON.stringify(spec.schema ?? { type: 'object' });
  return [
    `Reply with a single JSON value named "${spec.name}"${about} that conforms to this JSON Schema:`,
    schema,
    `Fill in every required property with real content; never echo the schema itself. ${ONLY_JSON}`,
  ].join('\n');
}

export interface JsonInstructionOptions {
  /**
   * The provider honours `response_format: {type: "json_object"}` (JSON mode) but
   * not json_schema: keep JSON mode on as a guard rail. Default: `response_format`
   * is removed, since a provider without json_schema may reject the field.
   */
  jsonMode?: boolean;
}

/**
 * The request for a provider without native structured output: the JSON (and
 * schema) instruction added to the system prompt, `response_format` removed (or
 * reduced to JSON mode). A request without a JSON response_format is returned as is.
 */
export function instructForJson(req: ChatRequest, options: JsonInstructionOptions = {}): ChatRequest {
  const instruction = jsonInstruction(req);
  if (!instruction) return req;
  const { response_format: _format, ...rest } = req;
  return {
    ...rest,
    ...(options.jsonMode ? { response_format: { type: 'json_object' as const } } : {}),
    messages: withSystemInstruction(req.messages, instruction),
  };
}

export type JsonReplyCheck = { ok: true; value: unknown; json: string } | { ok: false; errors: string };

/**
 * A reply checked against the request's response_format: the JSON found in it
 * (fences and prose stripped) and validated; `json` is the clean text to return.
 */
export function checkJsonReply(req: ChatRequest, text: string): JsonReplyCheck {
  const value = extractJson(text);
  if (value === undefined) return { ok: false, errors: 'the reply does not contain JSON' };
  // Validation and serialisation recurse: a reply nested past the stack is a bad reply, not a crash.
  if (nestsDeeperThan(value, MAX_REPLY_DEPTH))
    return { ok: false, errors: `the JSON nests more than ${MAX_REPLY_DEPTH} levels deep` };
  const schema = responseSchemaOf(req) ?? {};
  const result = validateAgainst(schema, value);
  return result.ok ? { ok: true, value, json: JSON.stringify(value) } : result;
}

/**
 * The request for one repair attempt: the conversation, the invalid reply as the
 * assistant's turn, and a user turn stating what was wrong and asking for the
 * corrected JSON only.
 */
export function repairRequest(req: ChatRequest, badReply: string, errors: string): ChatRequest {
  const ask = [
    `Your previous reply is not valid: ${errors}.`,
    `Reply again with the corrected JSON, as instructed above. ${ONLY_JSON}`,
  ].join('\n');
  return {
    ...req,
    messages: [...req.messages, { role: 'assistant', content: badReply }, { role: 'user', content: ask }],
  };
}
