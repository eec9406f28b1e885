import { GatewayError, type ChatRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import {
  checkJsonReply,
  instructForJson,
  repairRequest,
  responseSchemaOf,
  validateChatRequestSchemas,
} from './structured-output';

const personSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
  required: ['name', 'age'],
  additionalProperties: false,
};

const jsonSchemaFormat = {
  type: 'json_schema' as const,
  json_schema: { name: 'person', description: 'A person mentioned in the text', schema: personSchema, strict: true },
};

function req(extra: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'ollama/llama3.1:8b',
    messages: [
      { role: 'system', content: 'You extract data.' },
      { role: 'user', content: 'Ada Lovelace was 36.' },
    ],
    ...extra,
  };
}

const tool = (parameters: Record<string, unknown>) => ({
  type: 'function' as const,
  function: { name: 'lookup', parameters },
});

function errorOf(fn: () => void): GatewayError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw err;
  }
}

describe('validateChatRequestSchemas', () => {
  it.each([
    ['no tools, no format', req()],
    [
      'valid tool parameters and response schema',
      req({ tools: [tool(personSchema)], response_format: jsonSchemaFormat }),
    ],
    ['a tool without parameters', req({ tools: [{ type: 'function', function: { name: 'now' } }] })],
    ['json_object', req({ response_format: { type: 'json_object' } })],
    ['json_schema without a schema', req({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } })],
  ])('accepts %s', (_name, request) => {
    expect(errorOf(() => validateChatRequestSchemas(request))).toBeUndefined();
  });

  it.each([
    [
      'the third tool',
      req({ tools: [tool(personSchema), tool({}), tool({ type: 'object', properties: { a: { type: 'text' } } })] }),
      'tools[2].function.parameters',
    ],
    [
      'the response schema',
      req({
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', required: 'a' } } },
      }),
      'response_format.json_schema.schema',
    ],
  ])('rejects an invalid schema in %s, naming it', (_name, request, param) => {
    const err = errorOf(() => validateChatRequestSchemas(request));
    expect(err?.status).toBe(400);
    expect(err?.param).toBe(param);
  });
});

describe('instructForJson', () => {
  it('adds the schema to the leading system message and removes response_format', () => {
    const out = instructForJson(req({ response_format: jsonSchemaFormat, temperature: 0 }));
    expect(out.response_format).toBeUndefined();
    expect(out.temperature).toBe(0);
    expect(out.messages).toHaveLength(2);
    const system = out.messages[0];
    expect(system.role).toBe('system');
    expect(system.content).toMatch(
      /^You extract data\.\n\nReply with a single JSON value named "person" \(A person mentioned in the text\)/,
    );
    expect(system.content).toContain(JSON.stringify(personSchema));
    expect(system.content).toContain('no markdown code fences');
  });

  it('prepends a system message when the conversation has none', () => {
    const out = instructForJson({
      model: 'm',
      messages: [{ role: 'user', content: 'Hi' }],
      response_format: { type: 'json_object' },
    });
    expect(out.messages[0]).toEqual({
      role: 'system',
      content: expect.stringMatching(/^Reply with a single valid JSON object\./),
    });
    expect(out.messages[1]).toEqual({ role: 'user', content: 'Hi' });
  });

  it('keeps JSON mode on when the provider has it', () => {
    expect(instructForJson(req({ response_format: jsonSchemaFormat }), { jsonMode: true }).response_format).toEqual({
      type: 'json_object',
    });
  });

  it.each([[req()], [req({ response_format: { type: 'text' } })]])(
    'leaves a request without a JSON format alone',
    (request) => {
      expect(instructForJson(request)).toBe(request);
    },
  );

  it('does not mutate the request', () => {
    const request = req({ response_format: jsonSchemaFormat });
    const copy = structuredClone(request);
    instructForJson(request);
    expect(request).toEqual(copy);
  });
});

describe('responseSchemaOf', () => {
  it.each([
    [req({ response_format: jsonSchemaFormat }), personSchema],
    [req({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }), { type: 'object' }],
    [req({ response_format: { type: 'json_object' } }), { type: 'object' }],
    [req({ response_format: { type: 'text' } }), undefined],
    [req(), undefined],
  ])('%#', (request, schema) => {
    expect(responseSchemaOf(request)).toEqual(schema);
  });
});

describe('checkJsonReply', () => {
  const request = req({ response_format: jsonSchemaFormat });

  it.each([
    ['a bare object', '{"name":"Ada Lovelace","age":36}'],
    ['a fenced object after prose', 'Here you go:\n```json\n{ "name": "Ada Lovelace", "age": 36 }\n```'],
  ])('accepts %s and returns clean JSON', (_name, text) => {
    expect(checkJsonReply(request, text)).toEqual({
      ok: true,
      value: { name: 'Ada Lovelace', age: 36 },
      json: '{"name":"Ada Lovelace","age":36}',
    });
  });

  it.each([
    ['prose', 'Ada Lovelace, 36.', 'the reply does not contain JSON'],
    ['a wrong type', '{"name":"Ada Lovelace","age":"36"}', '$.age must be integer'],
    ['a missing property', '{"name":"Ada Lovelace"}', "$ must have required property 'age'"],
  ])('rejects %s', (_name, text, errors) => {
    expect(checkJsonReply(request, text)).toEqual({ ok: false, errors: expect.stringContaining(errors) });
  });

  it('validates against a recursive schema ($ref to the root)', () => {
    const schema = { type: 'object', properties: { child: { $ref: '#' }, n: { type: 'integer' } } };
    const recursive = req({ response_format: { type: 'json_schema', json_schema: { name: 'node', schema } } });
    expect(errorOf(() => validateChatRequestSchemas(recursive))).toBeUndefined();
    expect(checkJsonReply(recursive, '{"n":1,"child":{"n":2,"child":{}}}').ok).toBe(true);
    expect(checkJsonReply(recursive, '{"n":1,"child":{"child":{"n":"3"}}}')).toEqual({
      ok: false,
      errors: '$.child.child.n must be integer',
    });
  });

  it('rejects a reply nested past what validation can walk, for json_object and a recursive schema alike', () => {
    const deep = (levels: number) => '{"child":'.repeat(levels) + '{}' + '}'.repeat(levels);
    const schema = { type: 'object', properties: { child: { $ref: '#' } } };
    for (const format of [
      { type: 'json_object' },
      { type: 'json_schema', json_schema: { name: 'node', schema } },
    ] as const) {
      const request = req({ response_format: format });
      expect(checkJsonReply(request, deep(20_000))).toEqual({
        ok: false,
        errors: 'the JSON nests more than 256 levels deep',
      });
      expect(checkJsonReply(request, deep(200)).ok).toBe(true);
    }
  });

  it('requires an object for json_object', () => {
    const jsonObject = req({ response_format: { type: 'json_object' } });
    expect(checkJsonReply(jsonObject, '[1,2]')).toEqual({ ok: false, errors: '$ must be object' });
    expect(checkJsonReply(jsonObject, '{"any":"thing"}').ok).toBe(true);
  });
});

describe('repairRequest', () => {
  it('appends the bad reply and a correction request, keeping the rest of the request', () => {
    const upstream = instructForJson(req({ response_format: jsonSchemaFormat, max_tokens: 200 }));
    const out = repairRequest(upstream, '{"name":"Ada"}', "$ must have required property 'age'");
    expect(out.max_tokens).toBe(200);
    expect(out.messages.slice(0, upstream.messages.length)).toEqual(upstream.messages);
    expect(out.messages.slice(upstream.messages.length)).toEqual([
      { role: 'assistant', content: '{"name":"Ada"}' },
      {
        role: 'user',
        content: expect.stringMatching(
          /^Your previous reply is not valid: \$ must have required property 'age'\.\nReply again with the corrected JSON/,
        ),
      },
    ]);
    expect(upstream.messages).toHaveLength(2);
  });
});
