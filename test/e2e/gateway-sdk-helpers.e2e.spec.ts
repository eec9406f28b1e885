import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAnthropicServer, FakeOllamaServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const PROVIDERS = {
  openai: 'openai/gpt-4o-mini',
  anthropic: 'anthropic/claude-3-5-haiku-latest',
  ollama: 'ollama/llama3:8b',
  mock: 'mock/echo-1',
} as const;
type ProviderName = keyof typeof PROVIDERS;
const UPSTREAMS = ['openai', 'anthropic', 'ollama'] as const;

const hello = [{ role: 'user' as const, content: 'Hello there' }];
/** Scripted behaviours go to generations only, never to the gateway's model discovery. */
const generation = (request: { method: string }) => request.method === 'POST';

/** What a call rejected with, or a failure when it did not. */
async function rejection(call: Promise<unknown>): Promise<OpenAI.APIError> {
  const outcome = await call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(OpenAI.APIError);
  return outcome.error as OpenAI.APIError;
}

/**
 * The official `openai` SDK's higher-level helpers (parse, stream, runTools, auto-pagination,
 * withResponse, its error classes) against the gateway, in front of fake upstreams that speak
 * each provider's wire protocol, and the built-in mock provider.
 */
describe('gateway with the openai SDK helpers', () => {
  const fakes = {
    openai: new FakeOpenAIServer({ apiKey: 'sk-upstream-openai' }),
    anthropic: new FakeAnthropicServer({ apiKey: 'sk-ant-upstream' }),
    ollama: new FakeOllamaServer({ models: ['llama3:8b', 'nomic-embed-text:latest'] }),
  };
  let platform: TestPlatform;
  let client: OpenAI;

  beforeAll(async () => {
    const [openaiUrl, anthropicUrl] = await Promise.all([fakes.openai.start(), fakes.anthropic.start()]);
    await fakes.ollama.start();
    platform = await startPlatform({
      env: {
        OPENAI_API_KEY: 'sk-upstream-openai',
        OPENAI_BASE_URL: openaiUrl,
        ANTHROPIC_API_KEY: 'sk-ant-upstream',
        ANTHROPIC_BASE_URL: anthropicUrl.replace(/\/v1$/, ''),
        OLLAMA_HOST: fakes.ollama.origin,
        UPSTREAM_MAX_RETRIES: '0',
        REQUEST_TIMEOUT_MS: '1500',
        // Scripted failures must not open circuits that later tests need closed.
        CIRCUIT_FAILURE_THRESHOLD: '1000',
      },
    });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });
  beforeEach(() => {
    for (const fake of Object.values(fakes)) fake.reset();
  });

  describe('error classes', () => {
    it("passes on the code of a provider's 400 (context_length_exceeded), JSON and streamed", async () => {
      const body = {
        error: {
          message: "This model's maximum context length is 128000 tokens.",
          type: 'invalid_request_error',
          param: 'messages',
          code: 'context_length_exceeded',
        },
      };
      for (const provider of ['openai', 'ollama'] as const) {
        const model = PROVIDERS[provider];
        fakes[provider].enqueue({ match: generation, status: 400, body, times: 2 });
        const errors = [
          await rejection(client.chat.completions.create({ model, messages: hello })),
          await rejection(client.chat.completions.stream({ model, messages: hello }).finalChatCompletion()),
        ];
        for (const error of errors) {
          expect(error).toBeInstanceOf(OpenAI.BadRequestError);
          expect(error).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'messages' });
          expect(error.message).toContain('maximum context length');
        }
      }
    });
  });
});
