import { describe, expect, it } from 'vitest';
import { structuredRequestSchema } from './structured-request.schema';

/** The first issue's field as the gateway's validation pipe reports it: `messages[0].content`. */
function firstParam(body: unknown): string | undefined {
  const result = structuredRequestSchema.safeParse(body);
  if (result.success) return undefined;
  return result.error.issues[0].path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

const schema = { type: 'object', properties: { name: { type: 'string' } } };
const structured = { model: 'mock/echo-1', messages: [{ role: 'user', content: 'Ada Lovelace' }], schema };

describe('structuredRequestSchema', () => {
  it.each([
    ['messages', structured],
    ['a prompt', { model: 'mock/echo-1', prompt: 'Ada Lovelace', schema }],
    [
      'a conversation with content parts, a name and sampling fields',
      {
        ...structured,
        messages: [
          { role: 'system', content: 'Extract people.' },
          { role: 'developer', content: [{ type: 'text', text: 'Be exact.' }] },
          { role: 'user', content: [{ type: 'text', text: 'Ada?' }] },
          { role: 'assistant', content: 'Which Ada?' },
          { role: 'user', content: 'Lovelace.' },
        ],
        name: 'person',
        temperature: 0,
        max_tokens: 1_000_000,
      },
    ],
  ])('accepts %s', (_name, body) => {
    expect(firstParam(body)).toBeUndefined();
  });

  it.each([
    ['neither messages nor a prompt', { model: 'mock/echo-1', schema }, 'messages'],
    ['both messages and a prompt (one would go unsaid)', { ...structured, prompt: 'and this?' }, 'prompt'],
    ['empty messages', { ...structured, messages: [] }, 'messages'],
    ['numeric content', { ...structured, messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    ['object content', { ...structured, messages: [{ role: 'user', content: { a: 1 } }] }, 'messages[0].content'],
    ['a missing content', { ...structured, messages: [{ role: 'user' }] }, 'messages[0].content'],
    [
      'a text part without text',
      { ...structured, messages: [{ role: 'user', content: [{ type: 'text' }] }] },
      'messages[0].content[0].text',
    ],
    [
      'a tool message',
      { ...structured, messages: [{ role: 'tool', content: 'x', tool_call_id: 'c' }] },
      'messages[0].role',
    ],
    ['max_tokens of 1e15', { ...structured, max_tokens: 1e15 }, 'max_tokens'],
    ['max_tokens = 0', { ...structured, max_tokens: 0 }, 'max_tokens'],
    ['temperature 2.5', { ...structured, temperature: 2.5 }, 'temperature'],
    ['a name with spaces', { ...structured, name: 'a person' }, 'name'],
    ['a schema that is not an object', { ...structured, schema: 'object' }, 'schema'],
  ])('rejects %s, naming the field', (_name, body, param) => {
    expect(firstParam(body)).toBe(param);
  });
});
