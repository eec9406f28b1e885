import { describe, expect, it } from 'vitest';
import type { ProviderKind } from '@app/providers';
import { body, thinkingBlocks, thinkingTurn } from './anthropic-inbound.fixtures';
import { anthropicToChat, withClientBetas } from './anthropic-inbound.request';
import { messagesRequestFor } from './anthropic-inbound.upstream';

/** Anthropic fields a Messages client may send that OpenAI's Chat Completions API has no argument for. */
const ANTHROPIC_ONLY = {
  top_k: 3,
  thinking: { type: 'enabled' as const, budget_tokens: 1024 },
  container: 'container_011CPR5CNjB747bTd36fQLFk',
  mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'example' }],
  context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
  speed: 'fast' as const,
  inference_geo: 'us',
};

describe('messagesRequestFor', () => {
  const translated = anthropicToChat(
    body({
      ...ANTHROPIC_ONLY,
      temperature: 0.5,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-42' },
      output_config: { effort: 'low' },
      service_tier: 'standard_only',
      vendor_option: { keep: true },
    }),
  );
  const chatArguments = {
    model: 'claude-sonnet-4-5',
    max_tokens: 1024,
    messages: [{ role: 'user', content: 'Hello, Claude' }],
    temperature: 0.5,
    top_p: 0.9,
    stop: ['END'],
    user: 'user-42',
    reasoning_effort: 'low',
  };

  it.each<[ProviderKind, Record<string, unknown>]>([
    ['openai', { service_tier: 'default' }],
    ['azure-openai', {}],
    ['gemini', {}],
  ])("sends a provider of kind '%s' only Chat Completions arguments", (kind, tier) => {
    expect(messagesRequestFor(translated, kind)).toEqual({ ...chatArguments, ...tier });
  });

  it.each<ProviderKind>(['openai-compatible', 'ollama', 'anthropic', 'mock'])(
    "passes everything on to a provider of kind '%s'",
    (kind) => {
      expect(messagesRequestFor(translated, kind)).toBe(translated);
      expect(translated).toMatchObject({
        ...ANTHROPIC_ONLY,
        service_tier: 'standard_only',
        vendor_option: { keep: true },
      });
    },
  );

  it.each([
    ['auto', 'auto'],
    ['standard_only', 'default'],
    // OpenAI's own values, from a client that knows where its request goes.
    ['flex', 'flex'],
    [undefined, undefined],
  ])("sends OpenAI service_tier '%s' as '%s'", (tier, sent) => {
    const sentBody = body(tier === undefined ? {} : { service_tier: tier as 'auto' });
    const out = messagesRequestFor(anthropicToChat(sentBody), 'openai');
    expect(out.service_tier).toBe(sent);
    expect('service_tier' in out).toBe(sent !== undefined);
  });

  it('keeps Chat Completions arguments a Messages client sends for an OpenAI model', () => {
    const out = messagesRequestFor(anthropicToChat(body({ seed: 7, stream: true })), 'openai');
    expect(out).toMatchObject({ seed: 7, stream: true, stream_options: { include_usage: true } });
  });

  it('does not mutate the request', () => {
    const copy = structuredClone(translated);
    messagesRequestFor(translated, 'openai');
    expect(translated).toEqual(copy);
  });

  describe('thinking blocks in history', () => {
    const withThinking = anthropicToChat(
      body({
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: thinkingTurn },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01T1x1', content: 'Sunny' }] },
        ],
      }),
    );
    const assistant = (req: { messages: unknown[] }) => req.messages[1] as Record<string, unknown>;

    it('reach Anthropic providers', () => {
      expect(assistant(messagesRequestFor(withThinking, 'anthropic')).thinking_blocks).toEqual(thinkingBlocks);
    });

    it.each<ProviderKind>(['openai', 'ollama', 'openai-compatible', 'mock'])('are left out for %s', (kind) => {
      const out = messagesRequestFor(withThinking, kind);
      expect(assistant(out)).not.toHaveProperty('thinking_blocks');
      expect(assistant(out)).toMatchObject({ role: 'assistant', content: 'Checking.' });
      // The translated request is shared by a route's targets: it is not changed.
      expect(assistant(withThinking).thinking_blocks).toEqual(thinkingBlocks);
    });

    it.each<[ProviderKind, 'reasoning_content' | 'reasoning']>([
      ['openai-compatible', 'reasoning_content'],
      ['ollama', 'reasoning'],
    ])('go to %s as their text in the field it takes reasoning back in (%s)', (kind, field) => {
      const out = messagesRequestFor(withThinking, kind, field);
      expect(assistant(out)).toEqual({
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [expect.objectContaining({ id: 'toolu_01T1x1' })],
        [field]: 'The user wants the weather. ',
      });
      expect(assistant(withThinking).thinking_blocks).toEqual(thinkingBlocks);
    });

    it('give a tool round without thinking an empty reasoning, a turn without either none', () => {
      const plain = anthropicToChat(
        body({
          messages: [
            { role: 'user', content: 'Hi' },
            { role: 'assistant', content: 'Hello.' },
            { role: 'user', content: 'Weather in Paris?' },
            { role: 'assistant', content: thinkingTurn.slice(3) },
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01T1x1', content: 'Sunny' }] },
          ],
        }),
      );
      const out = messagesRequestFor(plain, 'openai-compatible', 'reasoning_content');
      expect(out.messages[1]).toEqual({ role: 'assistant', content: 'Hello.' });
      expect(out.messages[3]).toMatchObject({ role: 'assistant', reasoning_content: '' });
      expect(plain.messages[3]).not.toHaveProperty('reasoning_content');
      // Not for a provider that takes none back, nor for OpenAI, which refuses the field.
      expect(messagesRequestFor(plain, 'openai-compatible')).toBe(plain);
      expect(messagesRequestFor(withThinking, 'openai', 'reasoning_content').messages[1]).not.toHaveProperty(
        'reasoning_content',
      );
    });
  });

  it('keeps prompt-caching marks on parts for the servers that use them, not for OpenAI, Azure OpenAI and Gemini', () => {
    const mark = { type: 'ephemeral' as const };
    const req = anthropicToChat(
      body({
        system: [{ type: 'text', text: 'You are terse.', cache_control: mark }],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Long document', cache_control: mark }] }],
      }),
    );
    const marks = (r: ReturnType<typeof messagesRequestFor>) =>
      r.messages
        .flatMap((m) => (Array.isArray(m.content) ? (m.content as object[]) : []))
        .filter((p) => 'cache_control' in p);
    expect(marks(req)).toHaveLength(2);
    for (const kind of ['openai-compatible', 'ollama', 'anthropic'] as const) {
      expect(marks(messagesRequestFor(req, kind))).toHaveLength(2);
    }
    for (const kind of ['openai', 'azure-openai', 'gemini'] as const) {
      const fitted = messagesRequestFor(req, kind);
      expect(marks(fitted)).toHaveLength(0);
      expect(fitted.messages.map((m) => m.content)).toEqual([
        [{ type: 'text', text: 'You are terse.' }],
        [{ type: 'text', text: 'Long document' }],
      ]);
    }
    expect(marks(req)).toHaveLength(2);
  });

  it('sends the client betas (its anthropic-beta header) to Anthropic providers only', () => {
    const req = anthropicToChat(withClientBetas(body(), 'mcp-client-2025-04-04, context-1m-2025-08-07'));
    const betas = ['mcp-client-2025-04-04', 'context-1m-2025-08-07'];
    expect(messagesRequestFor(req, 'anthropic')).toMatchObject({ betas });
    for (const kind of ['openai', 'ollama', 'openai-compatible'] as const) {
      expect(messagesRequestFor(req, kind)).not.toHaveProperty('betas');
    }
    expect(withClientBetas(body(), undefined)).toEqual(body());
  });
});
