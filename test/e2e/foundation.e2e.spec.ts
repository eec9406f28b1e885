import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestPostgres } from '@app/testing';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';

const kinds: Array<'pglite' | 'postgres'> = hasTestPostgres() ? ['pglite', 'postgres'] : ['pglite'];

describe.each(kinds)('both apps on %s', (kind) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startPlatform({
      databaseKind: kind,
      env: { MAX_BODY_BYTES: '2048', CORS_ORIGINS: 'https://app.example.com' },
    });
  });
  afterAll(() => platform?.close());

  it.each(['gateway', 'admin'] as const)('%s serves liveness and readiness with the database', async (app) => {
    const base = app === 'gateway' ? platform.gatewayUrl : platform.adminUrl;
    const live = await fetch(`${base}/health`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; details: { database: { status: string; kind: string } } };
    expect(body.status).toBe('ok');
    expect(body.details.database).toMatchObject({ status: 'up', kind });
  });

  it('gives every response a request id and echoes a valid incoming one', async () => {
    const fresh = await fetch(`${platform.gatewayUrl}/health`);
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await fetch(`${platform.gatewayUrl}/health`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-abc.123');
    const replaced = await fetch(`${platform.gatewayUrl}/health`, { headers: { 'x-request-id': 'bad id <script>' } });
    expect(replaced.headers.get('x-request-id')).not.toBe('bad id <script>');
  });

  it("gives the hot routes' answers, errors and streams the request id as well", async () => {
    const post = (body: unknown, headers: Record<string, string> = {}, key = TEST_MASTER_KEY) =>
      fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const chat = { model: 'mock/echo-1', messages: [{ role: 'user', content: 'hi' }] };
    const answers = {
      json: await post(chat),
      stream: await post({ ...chat, stream: true }),
      invalid: await post({ model: 'mock/echo-1', messages: [] }),
      unauthorized: await post(chat, {}, 'sk-nobody'),
      echoedJson: await post(chat, { 'x-request-id': 'trace-json.1' }),
      echoedStream: await post({ ...chat, stream: true }, { 'x-request-id': 'trace-stream.1' }),
      echoedError: await post({ model: 'mock/echo-1', messages: [] }, { 'x-request-id': 'trace-error.1' }),
    };
    expect(Object.fromEntries(Object.entries(answers).map(([name, res]) => [name, res.status]))).toEqual({
      json: 200,
      stream: 200,
      invalid: 400,
      unauthorized: 401,
      echoedJson: 200,
      echoedStream: 200,
      echoedError: 400,
    });
    for (const name of ['json', 'stream', 'invalid', 'unauthorized'] as const) {
      expect(answers[name].headers.get('x-request-id'), name).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(answers.echoedJson.headers.get('x-request-id')).toBe('trace-json.1');
    expect(answers.echoedStream.headers.get('x-request-id')).toBe('trace-stream.1');
    expect(answers.echoedError.headers.get('x-request-id')).toBe('trace-error.1');
    expect(answers.stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await answers.stream.text()).toContain('data: [DONE]');
  });

  it('answers unknown routes with a 404 in the OpenAI envelope', async () => {
    const res = await fetch(`${platform.gatewayUrl}/v1/nope`, { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: 'Unknown route: POST /v1/nope', type: 'invalid_request_error', param: null, code: 'not_found' },
    });
  });

  it('rejects a body that is not JSON with 400 and one over MAX_BODY_BYTES with 413', async () => {
    const malformed = await fetch(`${platform.gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "x", "messages": [',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    expect(malformed.headers.get('x-request-id')).toBeTruthy();

    const huge = await fetch(`${platform.adminUrl}/api/anything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(4096) }),
    });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });
  });

  it('allows only the configured CORS origins', async () => {
    const allowed = await fetch(`${platform.gatewayUrl}/health`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const other = await fetch(`${platform.gatewayUrl}/health`, { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('publishes OpenAPI at /docs and /openapi.json on both apps', async () => {
    for (const base of [platform.gatewayUrl, platform.adminUrl]) {
      const spec = (await (await fetch(`${base}/openapi.json`)).json()) as {
        openapi: string;
        paths: Record<string, unknown>;
      };
      expect(spec.openapi).toMatch(/^3\./);
      expect(Object.keys(spec.paths)).toContain('/health/ready');
      const docs = await fetch(`${base}/docs`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain('swagger');
    }
  });
});
