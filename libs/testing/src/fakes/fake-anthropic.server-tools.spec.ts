import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer } from './fake-anthropic.server';

describe("FakeAnthropicServer: Anthropic's own tools, with the official @anthropic-ai/sdk client", () => {
  const fake = new FakeAnthropicServer();
  let client: Anthropic;
  const webSearch: Anthropic.WebSearchTool20250305 = { type: 'web_search_20250305', name: 'web_search', max_uses: 3 };
  const ask = (content: string, tools: Anthropic.ToolUnion[] = [webSearch]) => ({
    model: 'claude-sonnet-4-20250514',
    max_tokens: 512,
    tools,
    messages: [{ role: 'user' as const, content }],
  });

  beforeAll(async () => {
    client = new Anthropic({ baseURL: await fake.start(), apiKey: 'sk-ant-test', maxRetries: 0 });
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('searches the web: server_tool_use, its results, a cited answer; streamed to the same message', async () => {
    const message = await client.messages.create(ask('node release'));
    expect(message.content.map((block) => block.type)).toEqual([
      'text',
      'server_tool_use',
      'web_search_tool_result',
      'text',
    ]);
    expect(message.content[1]).toMatchObject({ name: 'web_search', input: { query: 'node release' } });
    expect(message.content[3]).toMatchObject({
      text: 'The web says node release.',
      citations: [{ type: 'web_search_result_location', url: 'https://example.com/answer' }],
    });
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 1 });

    fake.reset();
    // The SDK adds `parsed_output` to what it assembles (`null` without an output format).
    const { parsed_output: _parsed, ...streamed } = await client.messages.stream(ask('node release')).finalMessage();
    expect(streamed).toEqual(message);
  });

  it('pauses a deep search (pause_turn), and answers the paused turn sent back', async () => {
    const paused = await client.messages.stream(ask('search deeply for node')).finalMessage();
    expect(paused.stop_reason).toBe('pause_turn');
    expect(paused.content.map((block) => block.type)).toEqual(['server_tool_use', 'web_search_tool_result']);
    const resumed = await client.messages.create({
      ...ask('search deeply for node'),
      messages: [
        { role: 'user', content: 'search deeply for node' },
        { role: 'assistant', content: paused.content },
      ],
    });
    expect(resumed.stop_reason).toBe('end_turn');
    expect(resumed.content).toEqual([
      expect.objectContaining({
        type: 'text',
        citations: [expect.objectContaining({ cited_text: expect.any(String) })],
      }),
    ]);
  });

  it("calls Anthropic's own client tools with inputs of their kind", async () => {
    const message = await client.messages.create(ask('please call tool', [{ type: 'bash_20250124', name: 'bash' }]));
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content.at(-1)).toMatchObject({ type: 'tool_use', name: 'bash', input: { command: 'ls -la' } });
  });

  it('refuses a tool type Anthropic does not have, and a custom tool without input_schema', async () => {
    const refused = (tool: unknown) =>
      client.messages.create(ask('hi', [tool as Anthropic.ToolUnion])).catch((error: unknown) => error);
    expect(await refused({ type: 'web_browse_20250101', name: 'browse' })).toMatchObject({
      status: 400,
      message: expect.stringContaining("Input tag 'web_browse_20250101'"),
    });
    expect(await refused({ name: 'f' })).toMatchObject({
      status: 400,
      message: expect.stringContaining('tools.0.custom.input_schema'),
    });
  });
});
