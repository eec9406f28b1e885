import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeBehaviour, FakeOllamaServer, FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { call, type Json } from '../support/tenancy';

const OPENAI_KEY = 'sk-upstream-discovery';

/** Model discovery against upstreams whose model lists are broken in the ways real servers and proxies break them. */
describe('model discovery: answers that are no model list', () => {
  const openai = new FakeOpenAIServer({ apiKey: OPENAI_KEY });
  const ollama = new FakeOllamaServer();
  let platform: TestPlatform;
  const gateway = (path: string) => call(`${platform.gatewayUrl}${path}`, { token: TEST_MASTER_KEY });
  const listed = async (provider: string): Promise<Json[]> =>
    ((await gateway('/v1/models')).body.data as Json[]).filter((m) => m.id.startsWith(`${provider}/`));

  beforeAll(async () => {
    await Promise.all([openai.start(), ollama.start()]);
    platform = await startPlatform({
      apps: ['gateway'],
      env: { OPENAI_API_KEY: OPENAI_KEY, OPENAI_BASE_URL: openai.baseURL, OLLAMA_HOST: ollama.origin },
    });
    for (const provider of ['openai', 'ollama']) {
      expect((await gateway(`/v1/providers/${provider}/models?refresh=true`)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([openai.close(), ollama.close()]);
  });

  it.each<[string, 'openai' | 'ollama', FakeBehaviour]>([
    ['a text page', 'openai', { status: 200, body: 'Welcome to our proxy' }],
    ['null', 'openai', { status: 200, body: null }],
    ['a bare array', 'openai', { status: 200, body: [{ id: 'gpt-4o-mini' }] }],
    ['data that is no array', 'openai', { status: 200, body: { object: 'list', data: 'gpt-4o-mini' } }],
    ['models that is no array', 'ollama', { status: 200, body: { models: 'llama3:8b' } }],
    ['null', 'ollama', { status: 200, body: null }],
    ["Ollama's root page", 'ollama', { status: 200, body: 'Ollama is running' }],
    // Past the 8 MiB the gateway reads of a model list: refused as it arrives, not held.
    ['a list larger than the gateway reads', 'openai', { padBodyTo: 9 * 1024 * 1024 }],
    ['a list larger than the gateway reads', 'ollama', { padBodyTo: 9 * 1024 * 1024 }],
  ])('keeps the last good list when %s comes back from %s, and reports the failure', async (_what, name, reply) => {
    const fake = name === 'openai' ? openai : ollama;
    const before = await listed(name);
    expect(before.length).toBeGreaterThan(0);
    fake.setDefaultBehaviour(reply);
    try {
      const refreshed = await gateway(`/v1/providers/${name}/models?refresh=true`);
      expect(refreshed.status).toBe(502);
      expect(refreshed.body.error).toMatchObject({ code: 'upstream_error' });
      expect(await listed(name)).toEqual(before);
      const status = ((await gateway('/v1/providers')).body.data as Json[]).find((p) => p.name === name);
      expect(status.models).toMatchObject({
        error: expect.stringMatching(/invalid response/),
        discovered: before.length,
      });
    } finally {
      fake.setDefaultBehaviour({});
    }
  });

  it('lists the usable entries of a list with broken ones, in OpenAI’s model shape', async () => {
    openai.setDefaultBehaviour({
      status: 200,
      body: {
        object: 'list',
        data: [
          null,
          { id: 'ok-model', created: 'yesterday', owned_by: 42 },
          { object: 'model' },
          { id: '' },
          { id: 7 },
        ],
      },
    });
    ollama.setDefaultBehaviour({
      status: 200,
      body: { models: [{ name: null }, { model: 'only-model:latest' }, { name: 'ok:1b', modified_at: 'garbage' }, 5] },
    });
    try {
      expect((await gateway('/v1/providers/openai/models?refresh=true')).status).toBe(200);
      expect((await gateway('/v1/providers/ollama/models?refresh=true')).status).toBe(200);
      const models = [...(await listed('openai')), ...(await listed('ollama'))];
      expect(models.map((m) => m.id)).toEqual([
        'openai/7',
        'openai/ok-model',
        'ollama/ok:1b',
        'ollama/only-model:latest',
      ]);
      for (const model of models) {
        expect(Number.isInteger(model.created)).toBe(true);
        expect(typeof model.owned_by).toBe('string');
      }
      expect((await gateway('/v1/models/openai/ok-model')).body).toMatchObject({ owned_by: 'openai' });
    } finally {
      openai.setDefaultBehaviour({});
      ollama.setDefaultBehaviour({});
    }
  });
});
