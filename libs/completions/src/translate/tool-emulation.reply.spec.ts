import type { ChatFunctionToolCall, ChatRequest } from '@app/contracts';
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { describe, expect, it } from 'vitest';
import {
  emulatedToolProblem,
  emulatedToolStream,
  parseEmulatedToolReply,
  parseToolCallsFromText,
  toolReplyProblem,
} from './tool-emulation.reply';
import { toolOffer } from './tool-offer';
import { chatRequest, chatResponse, ndjson, timeTool, weatherTool } from './translate.fixtures';

const names = new Set(['get_weather', 'get_time']);
const paris = '{"location":"Paris, France"}';

function summary(calls: ChatFunctionToolCall[] | undefined) {
  return calls?.map((c) => [c.function.name, c.function.arguments]);
}

describe('parseToolCallsFromText', () => {
  it.each([
    [
      'the exact protocol',
      '{"tool_calls":[{"name":"get_weather","arguments":{"location":"Paris, France"}}]}',
      [['get_weather', paris]],
    ],
    [
      'a fenced reply',
      '```json\n{"tool_calls": [{"name": "get_weather", "arguments": {"location": "Paris, France"}}]}\n```',
      [['get_weather', paris]],
    ],
    [
      'leading prose',
      'I will look that up.\n{"tool_calls":[{"name":"get_weather","arguments":{"location":"Paris, France"}}]}',
      [['get_weather', paris]],
    ],
    [
      'arguments as a JSON string',
      '{"tool_calls":[{"name":"get_weather","arguments":"{\\"location\\":\\"Paris, France\\"}"}]}',
      [['get_weather', paris]],
    ],
    [
      '`parameters` instead of `arguments`',
      '{"tool_calls":[{"name":"get_weather","parameters":{"location":"Paris, France"}}]}',
      [['get_weather', paris]],
    ],
    [
      'OpenAI-style function objects',
      '{"tool_calls":[{"type":"function","function":{"name":"get_time","arguments":"{}"}}]}',
      [['get_time', '{}']],
    ],
    ['missing arguments', '{"tool_calls":[{"name":"get_time"}]}', [['get_time', '{}']]],
    ['a single bare call', '{"name":"get_time","arguments":{"timezone":"UTC"}}', [['get_time', '{"timezone":"UTC"}']]],
    [
      'a bare array of calls',
      '[{"name":"get_time","arguments":{}},{"name":"get_weather","arguments":{"location":"Oslo"}}]',
      [
        ['get_time', '{}'],
        ['get_weather', '{"location":"Oslo"}'],
      ],
    ],
    [
      'two parallel calls',
      '{"tool_calls":[{"name":"get_weather","arguments":{"location":"Paris, France"}},{"name":"get_time","arguments":{"timezone":"Europe/Paris"}}]}',
      [
        ['get_weather', paris],
        ['get_time', '{"timezone":"Europe/Paris"}'],
      ],
    ],
  ])('reads %s', (_name, text, expected) => {
    expect(summary(parseToolCallsFromText(text, names))).toEqual(expected);
  });

  it.each([
    ['plain text', 'It is sunny in Paris today.'],
    ['an unknown tool', '{"tool_calls":[{"name":"delete_everything","arguments":{}}]}'],
    [
      'one unknown tool among known ones',
      '{"tool_calls":[{"name":"get_time","arguments":{}},{"name":"nope","arguments":{}}]}',
    ],
    ['non-object arguments', '{"tool_calls":[{"name":"get_time","arguments":[1,2]}]}'],
    ['unparsable string arguments', '{"tool_calls":[{"name":"get_time","arguments":"{timezone: UTC"}]}'],
    ['an empty call list', '{"tool_calls":[]}'],
    ['JSON that is an answer, not a call', '{"temperature": 21, "sky": "clear"}'],
    ['a truncated call', '{"tool_calls":[{"name":"get_time","arguments":{"timezone":"UT'],
  ])('ignores %s', (_name, text) => {
    expect(parseToolCallsFromText(text, names)).toBeUndefined();
  });

  it('gives each call a fresh call_ id', () => {
    const calls = parseToolCallsFromText('[{"name":"get_time"},{"name":"get_time"}]', names) ?? [];
    expect(calls.map((c) => c.id)).toEqual([
      expect.stringMatching(/^call_[A-Za-z0-9]{24}$/),
      expect.stringMatching(/^call_[A-Za-z0-9]{24}$/),
    ]);
    expect(calls[0].id).not.toBe(calls[1].id);
  });

  it('keeps only the first call when single', () => {
    const text =
      '{"tool_calls":[{"name":"get_time","arguments":{}},{"name":"get_weather","arguments":{"location":"Rome"}}]}';
    expect(summary(parseToolCallsFromText(text, names, true))).toEqual([['get_time', '{}']]);
  });
});

describe('toolReplyProblem', () => {
  const auto = toolOffer(chatRequest());
  const required = toolOffer(chatRequest({ tool_choice: 'required' }));
  const named = toolOffer(chatRequest({ tool_choice: { type: 'function', function: { name: 'get_time' } } }));
  const strict = toolOffer(
    chatRequest({ tools: [{ ...weatherTool, function: { ...weatherTool.function, strict: true } }, timeTool] }),
  );
  const none = toolOffer(chatRequest({ tool_choice: 'none' }));
  const call = (name: string, args: unknown) => JSON.stringify({ tool_calls: [{ name, arguments: args }] });

  it.each([
    ['a valid call', auto, call('get_weather', { location: 'Paris' })],
    ['plain text under auto', auto, 'It is sunny.'],
    ['a JSON answer that is no call', auto, '{"name": "Ada", "age": 36}'],
    ['a call under required', required, call('get_time', {})],
    ['a call with arguments off a non-strict schema', auto, call('get_weather', { town: 'Paris' })],
    ['plain text under none', none, 'It is 21°C in Paris.'],
    ['a JSON answer that is no call under none', none, '{"name": "Ada", "age": 36}'],
  ])('accepts %s', (_name, offer, text) => {
    expect(toolReplyProblem(text, offer)).toBeUndefined();
  });

  it.each([
    ['a call of an unknown tool', auto, call('delete_everything', {}), /"delete_everything" is not one of the tools/],
    ['a call of a tool other than the named one', named, call('get_weather', { location: 'Rome' }), /"get_weather"/],
    ['one bad call among good ones', auto, '[{"name":"get_time","arguments":{}},{"name":"x","arguments":{}}]', /"x"/],
    ['arguments that are no object', auto, call('get_time', [1, 2]), /arguments of "get_time" are not a JSON object/],
    ['malformed call markup', auto, '{"tool_calls": [{"name": "get_time", "arguments": {tz: UTC}}]}', /not valid JSON/],
    ['text under required', required, 'It is sunny.', /must call a tool/],
    ['text under a named function', named, 'It is noon.', /must call a tool/],
    ['arguments off a strict schema', strict, call('get_weather', { town: 'Paris' }), /do not match its schema/],
    ['a call under none, of a tool given', none, call('get_weather', { location: 'Paris' }), /no tool can be called/],
    ['a call under none, after prose', none, `Let me check.\n${call('get_time', {})}`, /no tool can be called/],
    ['a bare call under none', none, '[{"name": "get_time", "arguments": {}}]', /no tool can be called/],
    ['call markup under none', none, '{"tool_calls": [{"name": "get_time", "arguments": {tz}}]}', /no tool can be/],
  ])('finds fault with %s', (_name, offer, text, problem) => {
    expect(toolReplyProblem(text, offer)).toMatch(problem);
  });

  it('names the first choice at fault', () => {
    const res = chatResponse({ content: 'fine' });
    res.choices.push({ ...res.choices[0], index: 1, message: { ...res.choices[0].message, content: call('x', {}) } });
    expect(emulatedToolProblem(res, chatRequest())).toEqual({
      text: call('x', {}),
      problem: expect.stringMatching(/"x"/),
    });
    expect(emulatedToolProblem(chatResponse({ content: 'fine' }), chatRequest())).toBeUndefined();
  });
});

describe('parseEmulatedToolReply', () => {
  const protocolReply = chatResponse({
    content:
      '```json\n{"tool_calls":[{"name":"get_weather","arguments":{"location":"Paris, France","unit":"celsius"}}]}\n```',
  });

  it('turns a protocol reply into tool_calls', () => {
    const out = parseEmulatedToolReply(protocolReply, chatRequest());
    expect(out.choices[0]).toEqual({
      index: 0,
      finish_reason: 'tool_calls',
      logprobs: null,
      message: {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [
          {
            id: expect.stringMatching(/^call_/),
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris, France","unit":"celsius"}' },
          },
        ],
      },
    });
    expect(out.usage).toEqual(protocolReply.usage);
    expect(out.id).toBe(protocolReply.id);
  });

  it.each([
    ['prose before fenced JSON', 'Let me check.\n```json\n{"name":"get_time","arguments":{}}\n```', 'Let me check.'],
    ['prose on both sides', 'Checking. {"name":"get_time","arguments":{}} Back soon.', 'Checking.\n\nBack soon.'],
    ['the protocol alone', '{"name":"get_time","arguments":{}}', null],
  ])('keeps what the model said besides the call as content: %s', (_name, content, expected) => {
    const out = parseEmulatedToolReply(chatResponse({ content }), chatRequest());
    expect(out.choices[0].message.content).toBe(expected);
    expect(out.choices[0].message.tool_calls).toHaveLength(1);
  });

  const time = '{"name":"get_time","arguments":{"timezone":"UTC"}}';
  const weather = '{"name":"get_weather","arguments":{"location":"Paris"}}';
  it.each([
    [
      'Hermes tags, prose first',
      `Checking. <tool_call>${time}</tool_call><tool_call>${weather}</tool_call>`,
      'Checking.',
    ],
    ['Hermes tags on lines', `<tool_call>\n${time}\n</tool_call>\n<tool_call>\n${weather}\n</tool_call>`, null],
    ["Mistral's list", `[TOOL_CALLS] [${time}, ${weather}]`, null],
    ['objects on lines of their own', `${time}\n${weather}`, null],
    ["Llama's python tag", `<|python_tag|>${time}<|eom_id|>\n<|python_tag|>${weather}`, null],
  ])('reads every call of a reply in the markup of its model: %s', (_name, content, said) => {
    const out = parseEmulatedToolReply(chatResponse({ content }), chatRequest());
    expect(out.choices[0].message.content).toBe(said);
    expect(summary(out.choices[0].message.tool_calls as ChatFunctionToolCall[])).toEqual([
      ['get_time', '{"timezone":"UTC"}'],
      ['get_weather', '{"location":"Paris"}'],
    ]);
    const single = parseEmulatedToolReply(chatResponse({ content }), chatRequest({ parallel_tool_calls: false }));
    expect(summary(single.choices[0].message.tool_calls as ChatFunctionToolCall[])).toEqual([
      ['get_time', '{"timezone":"UTC"}'],
    ]);
    expect(toolReplyProblem(content, toolOffer(chatRequest()))).toBeUndefined();
  });

  it('calls nothing of a reply with one faulty call among several: the reply is repaired', () => {
    const content = `<tool_call>${time}</tool_call><tool_call>{"name":"rm_rf","arguments":{}}</tool_call>`;
    expect(toolReplyProblem(content, toolOffer(chatRequest()))).toMatch(/"rm_rf" is not one of the tools/);
  });

  it.each([
    ['Hermes tags', `<tool_call>${time}</tool_call>\n<tool_call>{"name": "get_weather", "arguments": {}</tool_call>`],
    ["Mistral's list", `[TOOL_CALLS] [${time}, {"name": "get_weather", "arguments": {]`],
    ['a lone call cut short', `<tool_call>{"name": "get_time", "arguments": {"timezone": "UTC"}</tool_call>`],
  ])('repairs a reply with a call that is not valid JSON beside the others: %s', (_name, content) => {
    expect(toolReplyProblem(content, toolOffer(chatRequest()))).toMatch(/not valid JSON/);
  });

  it("leaves out what separated the calls (Llama's ;)", () => {
    const out = parseEmulatedToolReply(chatResponse({ content: `${time}; ${weather}` }), chatRequest());
    expect(out.choices[0].message.content).toBeNull();
    expect(out.choices[0].message.tool_calls).toHaveLength(2);
  });

  it("takes call-shaped JSON inside a call's arguments for arguments, not for a call", () => {
    const nested = '{"name":"get_time","arguments":{"steps":[{"name":"wake","arguments":{}}]}}';
    expect(toolReplyProblem(nested, toolOffer(chatRequest()))).toBeUndefined();
    expect(summary(parseToolCallsFromText(nested, names))).toEqual([
      ['get_time', '{"steps":[{"name":"wake","arguments":{}}]}'],
    ]);
  });

  it('leaves a plain answer as it is', () => {
    const answer = chatResponse({ content: 'It is 21°C and sunny in Paris.' });
    expect(parseEmulatedToolReply(answer, chatRequest())).toEqual(answer);
  });

  it.each([
    ['tool_choice none', { tool_choice: 'none' as const }],
    [
      'a named function that is not the one called',
      { tool_choice: { type: 'function' as const, function: { name: 'get_time' } } },
    ],
    ['no tools', { tools: undefined }],
  ])('does not parse calls under %s', (_name, extra: Partial<ChatRequest>) => {
    expect(parseEmulatedToolReply(protocolReply, chatRequest(extra))).toEqual(protocolReply);
  });

  it('handles every choice of n > 1', () => {
    const res = chatResponse({ content: '{"name":"get_time","arguments":{"timezone":"UTC"}}' });
    res.choices.push({
      index: 1,
      message: { role: 'assistant', content: 'No tool needed.', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    });
    const out = parseEmulatedToolReply(res, chatRequest());
    expect(out.choices.map((c) => c.finish_reason)).toEqual(['tool_calls', 'stop']);
    expect(out.choices[1].message.content).toBe('No tool needed.');
  });
});

describe('emulatedToolStream', () => {
  const toolReply = parseEmulatedToolReply(
    chatResponse({
      content:
        '{"tool_calls":[{"name":"get_weather","arguments":{"location":"Paris"}},{"name":"get_time","arguments":{"timezone":"Europe/Paris"}}]}',
    }),
    chatRequest(),
  );

  it('produces the chunk sequence of a native tool-call stream', () => {
    const chunks = emulatedToolStream(toolReply);
    const [first, second] = toolReply.choices[0].message.tool_calls as ChatFunctionToolCall[];
    expect(chunks.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason ?? null])).toEqual([
      [{ role: 'assistant', content: null }, null],
      [
        {
          tool_calls: [{ index: 0, id: first.id, type: 'function', function: { name: 'get_weather', arguments: '' } }],
        },
        null,
      ],
      [{ tool_calls: [{ index: 0, function: { arguments: '{"location":"Paris"}' } }] }, null],
      [
        { tool_calls: [{ index: 1, id: second.id, type: 'function', function: { name: 'get_time', arguments: '' } }] },
        null,
      ],
      [{ tool_calls: [{ index: 1, function: { arguments: '{"timezone":"Europe/Paris"}' } }] }, null],
      [{}, 'tool_calls'],
      [undefined, null],
    ]);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: toolReply.usage });
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({
        id: toolReply.id,
        object: 'chat.completion.chunk',
        created: toolReply.created,
        model: toolReply.model,
        system_fingerprint: 'fp_ollama',
      });
    }
  });

  it('streams a text reply as role, content, finish', () => {
    const chunks = emulatedToolStream(chatResponse({ content: 'Hello there.' }, 'stop', { usage: undefined }));
    expect(chunks.map((c) => [c.choices[0].delta, c.choices[0].finish_reason])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'Hello there.' }, null],
      [{}, 'stop'],
    ]);
  });

  it('is accumulated by the openai SDK into the same completion', async () => {
    const stream = ChatCompletionStream.fromReadableStream(ndjson(emulatedToolStream(toolReply)));
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].message.tool_calls).toEqual(toolReply.choices[0].message.tool_calls);
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.usage).toEqual(toolReply.usage);
  });

  it('streams the reasoning as the fields it came in, before the text, and the logprobs once, with the text', () => {
    const logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }], refusal: null };
    const reply = chatResponse({ content: 'Hi', reasoning_content: 'Greet them.' } as never, 'stop', {
      usage: undefined,
    });
    reply.choices[0].logprobs = logprobs;
    const chunks = emulatedToolStream(reply);
    expect(chunks.map((c) => [c.choices[0].delta, c.choices[0].logprobs])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ reasoning_content: 'Greet them.' }, null],
      [{ content: 'Hi' }, logprobs],
      [{}, null],
    ]);
  });

  it('is accumulated by the openai SDK into the same text', async () => {
    const reply = chatResponse({ content: 'It is 21°C.' });
    const final = await ChatCompletionStream.fromReadableStream(
      ndjson(emulatedToolStream(reply)),
    ).finalChatCompletion();
    expect(final.choices[0].message.content).toBe('It is 21°C.');
    expect(final.choices[0].finish_reason).toBe('stop');
  });
});
