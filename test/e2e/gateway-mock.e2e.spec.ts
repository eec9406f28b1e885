import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSchema, formatSchemaErrors } from '@app/contracts';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const model = 'mock/echo-1';

/** Strict-mode style (every property required, no others), with constraints a plain sample would miss. */
const constrained = {
  type: 'object',
  properties: {
    code: { type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' },
    email: { type: 'string', format: 'email' },
    when: { type: 'string', format: 'date-time' },
    size: { type: 'integer', minimum: 10, maximum: 20, multipleOf: 4 },
    tags: { type: 'array', items: { type: 'string', minLength: 6 }, minItems: 2, uniqueItems: true },
    note: { type: ['string', 'null'], maxLength: 2 },
    parent: { anyOf: [{ $ref: '#' }, { type: 'null' }] },
  },
  required: ['code', 'email', 'when', 'size', 'tags', 'note', 'parent'],
  additionalProperties: false,
};
/** No string is at least 5 and at most 2 characters long. */
const impossible = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 5, maxLength: 2 } },
  required: ['name'],
};

/** The gateway's own validator's verdict: `undefined` when the value is valid. */
function problems(schema: Record<string, unknown>, value: unknown): string | undefined {
  const compiled = compileSchema(schema);
  if (!compiled.ok) return compiled.error;
  return compiled.validate(value) ? undefined : formatSchemaErrors(compiled.validate.errors);
}

/** The built-in mock provider through the whole gateway, called with the official `openai` SDK. */
describe('gateway: the mock provider', () => {
  let platform: TestPlatform;
  let openai: OpenAI;

  beforeAll(async () => {
    platform = await startPlatform({ apps: ['gateway'] });
    openai = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
  });

  it('answers n chat choices told apart, in JSON and streamed, with usage for all of them', async () => {
    const messages = [{ role: 'user' as const, content: 'one two' }];
    const json = await openai.chat.completions.create({ model, messages, n: 2 });
    expect(json.choices.map((c) => [c.index, c.message.content])).toEqual([
      [0, '[mock] one two'],
      [1, '[mock:1] one two'],
    ]);
    const stream = await openai.chat.completions.create({
      model,
      messages,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    const usages: (OpenAI.CompletionUsage | null | undefined)[] = [];
    for await (const chunk of stream) {
      for (const choice of chunk.choices) texts[choice.index] += choice.delta.content ?? '';
      usages.push(chunk.usage);
    }
    expect(texts).toEqual(['[mock] one two', '[mock:1] one two']);
    // As OpenAI's: `usage: null` on every chunk but the usage-only last one.
    const usage = usages.pop();
    expect(new Set(usages)).toEqual(new Set([null]));
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 6, total_tokens: 8 });
    expect(json.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 6 });
  });

  it('answers every legacy prompt, n times each told apart, prompt-major; token ids too', async () => {
    const batch = await openai.completions.create({ model, prompt: ['a', 'b c'], n: 2 });
    expect(batch.choices.map((c) => [c.index, c.text])).toEqual([
      [0, '[mock] a'],
      [1, '[mock:1] a'],
      [2, '[mock] b c'],
      [3, '[mock:1] b c'],
    ]);
    expect(batch.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 10 });
    const stream = await openai.completions.create({
      model,
      prompt: [[1, 2, 3], [4]],
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', ''];
    const usages: (OpenAI.CompletionUsage | null | undefined)[] = [];
    for await (const chunk of stream) {
      for (const choice of chunk.choices) texts[choice.index] += choice.text;
      usages.push(chunk.usage);
    }
    expect(texts).toEqual(['[mock] 1 2 3', '[mock] 4']);
    const usage = usages.pop();
    expect(new Set(usages)).toEqual(new Set([null]));
    expect(usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 6 });
  });

  it('builds structured output and tool arguments that satisfy their schema', async () => {
    const messages = [{ role: 'user' as const, content: 'call tool' }];
    const structured = await openai.post<{ object: Record<string, unknown> }>('/generate/structured', {
      body: { model, messages, schema: constrained },
    });
    expect(problems(constrained, structured.object)).toBeUndefined();
    expect(structured.object).toMatchObject({ code: 'AAA-0000', size: 12, note: 'mo' });

    const chat = await openai.chat.completions.create({
      model,
      messages,
      response_format: { type: 'json_schema', json_schema: { name: 'thing', schema: constrained, strict: true } },
    });
    expect(problems(constrained, JSON.parse(chat.choices[0].message.content ?? ''))).toBeUndefined();

    const tool = await openai.chat.completions.create({
      model,
      messages,
      tools: [{ type: 'function', function: { name: 'make', parameters: constrained, strict: true } }],
    });
    const call = tool.choices[0].message.tool_calls?.[0];
    expect(call?.type === 'function' && problems(constrained, JSON.parse(call.function.arguments))).toBeUndefined();
  });

  it('gives n tool calls their own ids and arguments, and n JSON values their own values, all valid', async () => {
    const messages = [{ role: 'user' as const, content: 'call tool' }];
    const tool = await openai.chat.completions.create({
      model,
      messages,
      n: 3,
      tools: [{ type: 'function', function: { name: 'make', parameters: constrained } }],
    });
    const calls = tool.choices.map((c) => c.message.tool_calls?.[0]);
    const args = calls.map((call) => (call?.type === 'function' ? JSON.parse(call.function.arguments) : undefined));
    expect(new Set(calls.map((call) => call?.id)).size).toBe(3);
    expect(new Set(args.map((value) => JSON.stringify(value))).size).toBe(3);
    for (const value of args) expect(problems(constrained, value)).toBeUndefined();
    const single = await openai.chat.completions.create({
      model,
      messages,
      tools: [{ type: 'function', function: { name: 'make', parameters: constrained } }],
    });
    expect(single.choices[0].message.tool_calls?.[0]).toEqual(calls[0]);

    const format = { type: 'json_schema' as const, json_schema: { name: 'thing', schema: constrained, strict: true } };
    const json = await openai.chat.completions.create({ model, messages, n: 2, response_format: format });
    const values = json.choices.map((c) => JSON.parse(c.message.content ?? '') as unknown);
    expect(values[0]).not.toEqual(values[1]);
    for (const value of values) expect(problems(constrained, value)).toBeUndefined();
  });

  it('refuses a schema no value satisfies with a 400 naming the field, where and why', async () => {
    const messages = [{ role: 'user' as const, content: 'x' }];
    const why = expect.stringContaining('at $.name: minLength 5 is more than maxLength 2');
    await expect(
      openai.chat.completions.create({
        model,
        messages,
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema: impossible } },
      }),
    ).rejects.toMatchObject({ status: 400, param: 'response_format.json_schema.schema', message: why });
    await expect(
      openai.post('/generate/structured', { body: { model, messages, schema: impossible } }),
    ).rejects.toMatchObject({ status: 400, param: 'schema', message: why });
  });
});
