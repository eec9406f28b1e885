import OpenAI, { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '@app/db';
import { FakeOpenAIServer, createTestDatabase, within } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform } from '../support/platform';

const messages = [{ role: 'user' as const, content: 'Tell me a long story.' }];

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** SIGTERM's path (`shutdownHttpApps`, SHUTDOWN_TIMEOUT_MS 2 s in tests) with generations that outlast the wait. */
describe('shutdown with generations still in flight', () => {
  it('ends a stream with its final error event and [DONE], answers a waiting request 503, aborts both upstream calls and records both', async () => {
    const upstream = new FakeOpenAIServer();
    const database = await createTestDatabase();
    const generations = () => upstream.requests.filter((r) => r.method === 'POST');
    try {
      upstream.enqueue(
        {
          match: (r) => (r.body as { stream?: boolean })?.stream === true,
          chunkDelayMs: 100,
          text: 'word '.repeat(500),
        },
        { match: (r) => r.method === 'POST' && (r.body as { stream?: boolean })?.stream !== true, delayMs: 60_000 },
      );
      const platform = await startPlatform({
        database,
        apps: ['gateway'],
        env: { OPENAI_API_KEY: 'sk-up', OPENAI_BASE_URL: await upstream.start() },
      });
      const streamed = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_MASTER_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o', messages, stream: true }),
      });
      expect(streamed.status).toBe(200);
      const text = streamed.text();
      const client = new OpenAI({ apiKey: TEST_MASTER_KEY, baseURL: `${platform.gatewayUrl}/v1`, maxRetries: 0 });
      const waiting = client.chat.completions.create({ model: 'openai/gpt-4o', messages }).then(
        () => undefined,
        (error: unknown) => error,
      );
      await until('both calls upstream', () => generations().length === 2);

      const started = performance.now();
      await within(6_000, 'the shutdown', platform.close());
      // The 2 s wait, then at once: not cut by the interrupt's own grace period.
      expect(performance.now() - started).toBeLessThan(3_500);

      const events = (await text).trimEnd().split('\n\n');
      expect(events.length).toBeGreaterThan(3);
      expect(events.at(-1)).toBe('data: [DONE]');
      const last = JSON.parse(events.at(-2)!.slice('data: '.length)) as { error: Record<string, unknown> };
      expect(last.error).toMatchObject({ type: 'service_unavailable', code: 'service_unavailable' });
      expect(String(last.error.message)).toContain('shutting down');

      const answer = await waiting;
      expect(answer).toBeInstanceOf(APIError);
      expect((answer as APIError).status).toBe(503);
      expect((answer as APIError).message).toContain('shutting down');
      expect((answer as APIError).headers?.get('retry-after')).toBe('1');

      await until('the upstream calls to be aborted', () => generations().every((r) => r.aborted));
      const reopened = await openDatabase({ ...platform.config.database, migrate: false });
      try {
        const rows = await reopened.driver.query<{
          stream: boolean;
          status: number;
          error_code: string;
          completion_tokens: number;
        }>('SELECT stream, status, error_code, completion_tokens FROM usage_records ORDER BY stream');
        expect(rows).toMatchObject([
          { stream: false, status: 503, error_code: 'service_unavailable' },
          { stream: true, status: 503, error_code: 'service_unavailable' },
        ]);
        // The stream's output, estimated from what was sent before the end.
        expect(rows[1].completion_tokens).toBeGreaterThan(0);
      } finally {
        await reopened.close();
      }
    } finally {
      await upstream.close();
      await database.drop();
    }
  });
});
