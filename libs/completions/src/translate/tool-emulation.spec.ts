import type { ChatMessage, ChatRequest } from '@app/contracts';
import { describe, expect, it } from 'vitest';
import {
  NO_TOOLS_INSTRUCTION,
  emulateToolsRequest,
  rewriteToolHistory,
  toolInstruction,
  toolRepairRequest,
  usesTools,
} from './tool-emulation';
import { toolOffer } from './tool-offer';
import { chatRequest, weatherTool } from './translate.fixtures';

function systemText(req: ChatRequest): string {
  const first = req.messages[0];
  return first.role === 'system' && typeof first.content === 'string' ? first.content : '';
}

describe('toolOffer', () => {
  it.each([
    ['no tool_choice', {}, ['get_weather', 'get_time'], 'auto'],
    ['auto', { tool_choice: 'auto' as const }, ['get_weather', 'get_time'], 'auto'],
    ['required', { tool_choice: 'required' as const }, ['get_weather', 'get_time'], 'required'],
    ['none', { tool_choice: 'none' as const }, [], 'none'],
    [
      'a named function',
      { tool_choice: { type: 'function' as const, function: { name: 'get_time' } } },
      ['get_time'],
      'required',
    ],
    [
      'allowed_tools',
      {
        tool_choice: {
          type: 'allowed_tools' as const,
          allowed_tools: { mode: 'auto' as const, tools: [{ type: 'function', function: { name: 'get_weather' } }] },
        },
      },
      ['get_weather'],
      'auto',
    ],
  ])('%s', (_name, extra: Partial<ChatRequest>, names, mode) => {
    const offer = toolOffer(chatRequest(extra));
    expect(offer.tools.map((t) => t.function.name)).toEqual(names);
    expect(offer.mode).toBe(mode);
  });

  it('reads parallel_tool_calls: false as one call per reply', () => {
    expect(toolOffer(chatRequest({ parallel_tool_calls: false })).single).toBe(true);
    expect(toolOffer(chatRequest()).single).toBe(false);
  });
});

describe('toolInstruction', () => {
  it('describes every tool with its schema and the reply protocol', () => {
    const text = toolInstruction(toolOffer(chatRequest()));
    expect(text).toContain(
      '## get_weather\nGet the current weather in a given location\nArguments (JSON Schema): {"type":"object"',
    );
    expect(text).toContain('## get_time');
    expect(text).toContain('{"tool_calls":[{"name":"<tool name>","arguments":{');
    expect(text).toContain('reply normally in plain text');
    expect(text).toContain('Put several calls in the array');
  });

  it.each([
    [{ tool_choice: 'required' as const }, 'you MUST call at least one tool'],
    [
      { tool_choice: { type: 'function' as const, function: { name: 'get_weather' } } },
      'you MUST call the tool "get_weather"',
    ],
    [{ parallel_tool_calls: false }, 'Call at most one tool per reply.'],
  ])('states the obligation of %j', (extra: Partial<ChatRequest>, phrase) => {
    expect(toolInstruction(toolOffer(chatRequest(extra)))).toContain(phrase);
  });

  it('describes a tool without parameters as taking an empty object', () => {
    const offer = toolOffer({ model: 'm', messages: [], tools: [{ type: 'function', function: { name: 'now' } }] });
    expect(toolInstruction(offer)).toContain('## now\nArguments (JSON Schema): {"type":"object","properties":{}}');
  });
});

describe('emulateToolsRequest', () => {
  it('refuses a custom tool, naming it: only function tools can be emulated', () => {
    const custom = { type: 'custom' as const, custom: { name: 'run_sql' } };
    expect(() => emulateToolsRequest(chatRequest({ tools: [custom] }))).toThrow(
      expect.objectContaining({ status: 400, param: 'tools[0]' }),
    );
  });

  it('removes the tool fields and appends the instruction to the system message', () => {
    const out = emulateToolsRequest(chatRequest({ tool_choice: 'auto', parallel_tool_calls: true, temperature: 0.2 }));
    expect(out).not.toHaveProperty('tools');
    expect(out).not.toHaveProperty('tool_choice');
    expect(out).not.toHaveProperty('parallel_tool_calls');
    expect(out.temperature).toBe(0.2);
    expect(systemText(out)).toMatch(/^You are a helpful assistant\.\n\n# Tools\n/);
    expect(out.messages.slice(1)).toEqual([{ role: 'user', content: "What's the weather like in Paris?" }]);
  });

  it('adds a system message when there is none', () => {
    const out = emulateToolsRequest({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], tools: [weatherTool] });
    expect(out.messages[0].role).toBe('system');
    expect(systemText(out)).toMatch(/^# Tools/);
  });

  it('with tool_choice none describes no tools, says none may be called, and still rewrites the history', () => {
    const out = emulateToolsRequest(
      chatRequest({
        tool_choice: 'none',
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call('call_1', 'get_weather', '{"location":"Paris"}')] },
          { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
        ],
      }),
    );
    expect(out.messages).toEqual([
      { role: 'system', content: NO_TOOLS_INSTRUCTION },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '{"tool_calls":[{"name":"get_weather","arguments":{"location":"Paris"}}]}' },
      { role: 'user', content: 'Tool result (get_weather, call call_1):\n{"temp":21}' },
    ]);
    expect(NO_TOOLS_INSTRUCTION).toMatch(/No tool can be called in this reply: answer in plain text/);
    // Without earlier calls the model never sees the protocol: nothing to say.
    expect(emulateToolsRequest(chatRequest({ tool_choice: 'none' })).messages).toEqual(chatRequest().messages);
  });

  it('asks a repair under tool_choice none for plain text, naming no tool', () => {
    const upstream = emulateToolsRequest(chatRequest({ tool_choice: 'none' }));
    const repair = toolRepairRequest(
      upstream,
      '{"tool_calls":[]}',
      'it calls a tool',
      toolOffer(chatRequest({ tool_choice: 'none' })),
    );
    expect(repair.messages.at(-1)).toEqual({
      role: 'user',
      content:
        'Your previous reply is not valid: it calls a tool.\nReply again in plain text, without any tool_calls JSON: no tool can be called now.',
    });
  });

  it('does not mutate the request', () => {
    const request = chatRequest();
    const copy = structuredClone(request);
    emulateToolsRequest(request);
    expect(request).toEqual(copy);
  });
});

function call(id: string, name: string, args: string) {
  return { id, type: 'function' as const, function: { name, arguments: args } };
}

describe('rewriteToolHistory', () => {
  const history: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather and time in Paris?' },
    {
      role: 'assistant',
      content: 'Let me check both.',
      tool_calls: [
        call('call_a', 'get_weather', '{"location":"Paris"}'),
        call('call_b', 'get_time', '{"timezone":"Europe/Paris"}'),
      ],
    },
    { role: 'tool', tool_call_id: 'call_a', content: '{"temp":21,"sky":"clear"}' },
    { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '14:05' }] },
    { role: 'assistant', content: 'It is 21°C and clear; the time is 14:05.' },
    { role: 'user', content: 'Thanks!' },
  ];

  it('turns calls into protocol JSON and each run of results into one user message', () => {
    expect(rewriteToolHistory(history)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather and time in Paris?' },
      {
        role: 'assistant',
        content:
          'Let me check both.\n{"tool_calls":[{"name":"get_weather","arguments":{"location":"Paris"}},{"name":"get_time","arguments":{"timezone":"Europe/Paris"}}]}',
      },
      {
        role: 'user',
        content:
          'Tool result (get_weather, call call_a):\n{"temp":21,"sky":"clear"}\n\nTool result (get_time, call call_b):\n14:05',
      },
      { role: 'assistant', content: 'It is 21°C and clear; the time is 14:05.' },
      { role: 'user', content: 'Thanks!' },
    ]);
  });

  it('merges results into a user message that directly follows (roles keep alternating)', () => {
    const out = rewriteToolHistory([
      { role: 'assistant', content: null, tool_calls: [call('call_a', 'get_time', '{}')] },
      { role: 'tool', tool_call_id: 'call_a', content: '14:05' },
      { role: 'user', content: 'And in Tokyo?' },
    ]);
    expect(out).toEqual([
      { role: 'assistant', content: '{"tool_calls":[{"name":"get_time","arguments":{}}]}' },
      { role: 'user', content: 'Tool result (get_time, call call_a):\n14:05\n\nAnd in Tokyo?' },
    ]);
  });

  it('keeps unparsable arguments as a string and handles legacy function results', () => {
    const out = rewriteToolHistory([
      { role: 'assistant', content: null, tool_calls: [call('call_x', 'get_time', '{not json')] },
      { role: 'function', name: 'get_time', content: 'noon' },
    ]);
    expect(out).toEqual([
      { role: 'assistant', content: '{"tool_calls":[{"name":"get_time","arguments":"{not json"}]}' },
      { role: 'user', content: 'Tool result (get_time, call get_time):\nnoon' },
    ]);
  });

  it('names a result whose call is unknown generically', () => {
    expect(rewriteToolHistory([{ role: 'tool', tool_call_id: 'call_zz', content: 'ok' }])).toEqual([
      { role: 'user', content: 'Tool result (tool, call call_zz):\nok' },
    ]);
  });
});

describe('usesTools', () => {
  it.each([
    [chatRequest(), true],
    [chatRequest({ tools: [] }), false],
    [chatRequest({ tools: undefined, messages: [{ role: 'tool', tool_call_id: 'c', content: 'x' }] }), true],
    [
      { model: 'm', messages: [{ role: 'assistant' as const, content: null, tool_calls: [call('c', 'f', '{}')] }] },
      true,
    ],
    [{ model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] }, false],
  ])('%#', (request: ChatRequest, expected) => {
    expect(usesTools(request)).toBe(expected);
  });
});
