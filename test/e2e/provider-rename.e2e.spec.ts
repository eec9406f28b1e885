import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { startPlatform, TEST_MASTER_KEY, type TestPlatform } from '../support/platform';
import { adminApi, type Json, unique } from '../support/tenancy';

const ENV_KEY = 'sk-env-openai-0123456789';
const STORED_KEY = 'sk-stored-secret-abcdefghijklmnop';

/**
 * A stored provider may take the name of an environment provider (it replaces it
 * while it holds the name). Routes made for the environment provider keep naming
 * it; routes made for the stored one follow it wherever it is renamed.
 */
describe('renaming a stored provider that shares a name with an environment provider', () => {
  const environment = new FakeOpenAIServer({ apiKey: ENV_KEY });
  const stored = new FakeOpenAIServer({ apiKey: STORED_KEY });
  let platform: TestPlatform;
  let api: ReturnType<typeof adminApi>;
  let client: OpenAI;

  beforeAll(async () => {
    await Promise.all([environment.start(), stored.start()]);
    platform = await startPlatform({ env: { OPENAI_API_KEY: ENV_KEY, OPENAI_BASE_URL: environment.baseURL } });
    api = adminApi(platform);
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
  });
  afterAll(async () => {
    await platform?.close();
    await Promise.all([environment.close(), stored.close()]);
  });

  const createRoute = async () => {
    const res = await api.post('/api/routes', {
      alias: unique('route'),
      strategy: 'fallback',
      targets: [{ provider: 'openai', model: 'gpt-4o-mini' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const targetOf = async (route: Json) => (await api.get(`/api/routes/${route.id}`)).body.targets[0].provider;
  /** Chats each fake received (model discovery calls them too). */
  const chats = (fake: FakeOpenAIServer) => fake.requests.filter((r) => r.path === '/v1/chat/completions').length;
  /** Which fake upstream a chat on the route's alias reaches. */
  const upstreamOf = async (route: Json) => {
    const before = [chats(environment), chats(stored)];
    await client.chat.completions.create({ model: route.alias, messages: [{ role: 'user', content: 'Hi' }] });
    const reached = [chats(environment) - before[0], chats(stored) - before[1]];
    return reached[0] === 1 && reached[1] === 0
      ? 'environment'
      : reached[0] === 0 && reached[1] === 1
        ? 'stored'
        : 'both';
  };
  const rename = async (id: string, name: string) => {
    const res = await api.patch(`/api/providers/${id}`, { name });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  it('keeps the routes made for the environment provider on it, and moves those made for the stored one', async () => {
    const forEnvironment = await createRoute();
    expect(await upstreamOf(forEnvironment)).toBe('environment');

    const created = await api.post('/api/providers', {
      name: 'openai',
      kind: 'openai-compatible',
      baseUrl: stored.baseURL,
      apiKey: STORED_KEY,
      models: ['gpt-4o-mini'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    // While it holds the name, the stored provider replaces the environment one everywhere.
    expect(await upstreamOf(forEnvironment)).toBe('stored');
    const forStored = await createRoute();
    expect(await upstreamOf(forStored)).toBe('stored');
    // Editing a route's targets keeps each on the provider it was made for.
    const edited = await api.patch(`/api/routes/${forEnvironment.id}`, {
      targets: [{ provider: 'openai', model: 'gpt-4o-mini', weight: 2 }],
    });
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);

    const renamed = unique('vendor').toLowerCase();
    await rename(id, renamed);
    expect(await targetOf(forEnvironment)).toBe('openai');
    expect(await upstreamOf(forEnvironment)).toBe('environment');
    expect(await targetOf(forStored)).toBe(renamed);
    expect(await upstreamOf(forStored)).toBe('stored');

    // And back: the name replaces the environment provider again; renamed away once more, nothing moves wrongly.
    await rename(id, 'openai');
    expect([await targetOf(forEnvironment), await targetOf(forStored)]).toEqual(['openai', 'openai']);
    expect([await upstreamOf(forEnvironment), await upstreamOf(forStored)]).toEqual(['stored', 'stored']);
    const again = unique('vendor').toLowerCase();
    await rename(id, again);
    expect([await targetOf(forEnvironment), await targetOf(forStored)]).toEqual(['openai', again]);
    expect([await upstreamOf(forEnvironment), await upstreamOf(forStored)]).toEqual(['environment', 'stored']);

    // Deleted while a route uses it under a name of its own: refused, naming the route.
    const refused = await api.delete(`/api/providers/${id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(forStored.alias);
    // Deleted under the environment provider's name: its routes fall back to that one.
    await rename(id, 'openai');
    expect((await api.delete(`/api/providers/${id}`)).status).toBe(204);
    expect([await targetOf(forEnvironment), await targetOf(forStored)]).toEqual(['openai', 'openai']);
    expect([await upstreamOf(forEnvironment), await upstreamOf(forStored)]).toEqual(['environment', 'environment']);
    expect(
      ((await api.get('/api/providers')).body as Json[]).filter((p) => p.name === 'openai').map((p) => p.source),
    ).toEqual(['environment']);
  });

  it('a stored provider renamed onto the environment name and away again leaves its routes where they were', async () => {
    const forEnvironment = await createRoute();
    const created = await api.post('/api/providers', {
      name: unique('vendor').toLowerCase(),
      kind: 'openai-compatible',
      baseUrl: stored.baseURL,
      apiKey: STORED_KEY,
      models: ['gpt-4o-mini'],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await rename(id, 'openai');
    expect(await upstreamOf(forEnvironment)).toBe('stored');
    const back = unique('vendor').toLowerCase();
    await rename(id, back);
    expect(await targetOf(forEnvironment)).toBe('openai');
    expect(await upstreamOf(forEnvironment)).toBe('environment');
    expect((await api.delete(`/api/providers/${id}`)).status).toBe(204);
  });
});
