import { Injectable } from '@nestjs/common';
import {
  type ChatRequest,
  GatewayError,
  isObject,
  schemaAsProperty,
  validateJsonSchemaDefinition,
} from '@app/contracts';
import { extractJson, strictModeAccepts } from '../translate';
import { ChatPipeline } from './chat.pipeline';
import type { RequestContext } from './request-context';

export interface StructuredRequest {
  model: string;
  messages: ChatRequest['messages'];
  schema: Record<string, unknown>;
  name?: string;
  temperature?: number | null;
  max_tokens?: number | null;
}

const SCHEMA_PARAM = 'response_format.json_schema.schema';
/** The property a value whose schema is not an object's is asked for in (see {@link StructuredPipeline.generate}). */
const WRAPPED = 'value';

/** Whether a schema describes an object (`type: "object"`, or properties without a type), which is asked for as it is. */
function describesObject(schema: Record<string, unknown>): boolean {
  return schema['type'] === 'object' || (schema['type'] === undefined && 'properties' in schema);
}

/** An error about the chat request's schema, named as the client sent it: `schema`. */
function aboutSchema(error: unknown): unknown {
  if (!(error instanceof GatewayError) || !error.param?.startsWith(SCHEMA_PARAM)) return error;
  return new GatewayError(error.code, error.message, {
    param: `schema${error.param.slice(SCHEMA_PARAM.length)}`,
    status: error.status,
    retryAfter: error.retryAfter,
    headers: error.headers,
    cause: error,
  });
}

/**
 * `POST /v1/generate/structured`: a JSON value that conforms to the given JSON
 * Schema, from any provider (native structured output where it exists,
 * instructed and repaired elsewhere), validated before it is returned. A
 * schema that does not describe an object (an array, a string, `anyOf`...) is
 * asked for as the `value` property of an object, which every provider takes
 * (Anthropic answers through a tool, whose input is an object; OpenAI's strict
 * mode wants an object at the root), and the value is returned alone.
 */
@Injectable()
export class StructuredPipeline {
  constructor(private readonly chat: ChatPipeline) {}

  async generate(body: StructuredRequest, ctx: RequestContext) {
    validateJsonSchemaDefinition(body.schema, 'schema', { checksValues: true });
    const wrapped = !describesObject(body.schema);
    const schema = wrapped ? schemaAsProperty(body.schema, WRAPPED) : body.schema;
    const request: ChatRequest = {
      model: body.model,
      messages: body.messages,
      temperature: body.temperature,
      max_tokens: body.max_tokens,
      response_format: {
        type: 'json_schema',
        // OpenAI refuses strict mode for a schema it does not support (an open object, an optional
        // property): strict only where it is accepted; the answer is validated here either way.
        json_schema: { name: body.name ?? 'result', schema, strict: strictModeAccepts(schema) },
      },
    };
    // Checked against the schema on the way, natively produced or not (one repair turn, then a
    // failure of that target: recorded as one and routed on), its content made the JSON alone.
    const { value, headers } = await this.chat.complete(request, ctx, true).catch((error: unknown) => {
      throw aboutSchema(error);
    });
    const answer = extractJson(value.choices[0]?.message.content ?? '');
    const object = !wrapped ? answer : isObject(answer) ? answer[WRAPPED] : undefined;
    // Only a reply the check skips (a choice calling a tool, which nothing offered) gets here without JSON.
    if (object === undefined) throw new GatewayError('upstream_error', "The model's reply is not JSON.");
    return {
      value: {
        object,
        model: value.model,
        usage: value.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      },
      headers,
    };
  }
}
