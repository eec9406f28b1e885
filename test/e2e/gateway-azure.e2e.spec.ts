import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeOpenAIServer } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call } from '../support/tenancy';

const isPost = (request: { method: string }) => request.method === 'POST';
const hi = [{ role: 'user' as const, content: 'hi' }];

/** An `azure-openai` provider end to end: the deployment in the path, whatever the client names. */
describe('gateway over Azure OpenAI', () => {
  const azure = new FakeOpenAIServer({ apiKey: 'azure-secret-key' });
  let platform: TestPlatform;
  let client: OpenAI;

  beforeAll(async () => {
    await azure.start();
    platform = await startPlatform({ env: { CIRCUIT_FAILURE_THRESHOLD: '3', UPSTREAM_MAX_RETRIES: '0' } });
    client = new OpenAI({ baseURL: `${platform.gatewayUrl}/v1`, apiKey: TEST_MASTER_KEY, maxRetries: 0 });
    const created = await adminApi(platform).post('/api/providers', {
      name: 'az',
      kind: 'azure-openai',
      baseUrl: azure.origin,
      apiKey: 'azure-secret-key',
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await platform?.close();
    await azure.close();
  });
  beforeEach(() => azure.reset());

  const circuit = async (): Promise<string | undefined> => {
    const res = await call(`${platform.gatewayUrl}/v1/providers`, { token: TEST_MASTER_KEY });
    return (res.body.data as Array<{ name: string; circuit: string }>).find((p) => p.name === 'az')?.circuit;
  };

  it('puts the model name in the path as one encoded segment: no other path or query of the upstream is reachable', async () => {
    const names = ['../../../admin/secret#', 'x?api-version=2099-01-01&', 'x/extra', 'a b', '%2e%2e'];
    for (const name of names) await client.chat.completions.create({ model: `az/${name}`, messages: hi });
    const seen = azure.requests
      .filter(isPost)
      .map((r) => ({ path: r.path, query: r.query, key: r.headers['api-key'] }));
    expect(seen).toHaveLength(names.length);
    for (const [i, request] of seen.entries()) {
      expect(request.path).toBe(`/openai/deployments/${encodeURIComponent(names[i])}/chat/completions`);
      expect(request.query).toEqual({ 'api-version': expect.any(String) });
      expect(request.query['api-version']).not.toBe('2099-01-01');
    }
    // A name of dots alone is a step up the path to any URL parser: refused.
    for (const name of ['.', '..']) {
      await expect(client.chat.completions.create({ model: `az/${name}`, messages: hi })).rejects.toMatchObject({
        status: 400,
        param: 'model',
      });
    }
    expect(azure.requests.filter(isPost)).toHaveLength(names.length);
  });

  it('never opens the circuit for a model name undici could not have sent (it was a connection error)', async () => {
    for (let i = 0; i < 4; i++) {
      const answer = await client.chat.completions.create({ model: 'az/a b\u00e9', messages: hi });
      expect(answer.choices[0].message.content).toBeTruthy();
    }
    expect(await circuit()).toBe('closed');
  });
});
