import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LastUsedTracker } from '@app/auth';
import { TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, createKey, createTeam, me } from '../support/tenancy';

describe('API key lifecycle over HTTP', () => {
  let platform: TestPlatform;
  let api: ReturnType<typeof adminApi>;

  beforeAll(async () => {
    platform = await startPlatform();
    api = adminApi(platform);
  });
  afterAll(() => platform?.close());

  it('creates a key shown once, uses it, lists it without the secret, and revokes it at once', async () => {
    const teamId = await createTeam(platform, { rpm: 100, allowedModels: ['openai/*', 'fast'] });
    const created = await api.post('/api/keys', {
      teamId,
      name: 'ci',
      allowedModels: ['openai/gpt-4o-mini', 'anthropic/*'],
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sk-[0-9A-Za-z]{43}$/);
    expect(created.body).toMatchObject({
      teamId,
      name: 'ci',
      status: 'active',
      prefix: created.body.key.slice(0, 11) + '…',
    });

    const used = await me(platform, created.body.key);
    expect(used.status).toBe(200);
    expect(used.body).toMatchObject({
      kind: 'api_key',
      team: { id: teamId },
      key: { id: created.body.id, name: 'ci' },
      allowedModels: ['openai/gpt-4o-mini'],
      limits: { team: { rpm: 100 }, key: { rpm: null } },
    });
    const viaHeader = await call(`${platform.gatewayUrl}/v1/me`, { headers: { 'x-api-key': created.body.key } });
    expect(viaHeader.status).toBe(200);

    const listed = await api.get(`/api/keys?teamId=${teamId}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);
    expect(listed.body[0]).not.toHaveProperty('key');
    expect(listed.body[0]).not.toHaveProperty('keyHash');
    const one = await api.get(`/api/keys/${created.body.id}`);
    expect(one.body).not.toHaveProperty('key');
    expect(one.body.lastUsedAt).toBeNull();
    // lastUsedAt is written in batches (every 15 s and at shutdown), not per request.
    await platform.gateway!.app.get(LastUsedTracker).flush();
    expect(Date.parse((await api.get(`/api/keys/${created.body.id}`)).body.lastUsedAt)).toBeGreaterThan(
      Date.now() - 60_000,
    );

    const revoked = await api.post(`/api/keys/${created.body.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const after = await me(platform, created.body.key);
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
    expect(after.body.error.message).toMatch(/revoked/);
  });

  it('refuses an expired key with a message saying so', async () => {
    const teamId = await createTeam(platform);
    const { key } = await createKey(platform, teamId, { expiresAt: new Date(Date.now() + 1_500).toISOString() });
    expect((await me(platform, key)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const expired = await me(platform, key);
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('invalid_api_key');
    expect(expired.body.error.message).toMatch(/expired/);
  });

  it('treats the master key as a key with every right', async () => {
    const res = await me(platform, TEST_MASTER_KEY);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'master', team: null, key: null, allowedModels: [] });
  });

  it.each([
    ['no header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['a malformed key', { authorization: 'Bearer not-a-key' }],
    ['SQL in the key', { 'x-api-key': "sk-' OR 1=1; DROP TABLE api_keys; --" }],
    ['a well-formed unknown key', { authorization: `Bearer sk-${'A'.repeat(43)}` }],
    ['a huge header', { 'x-api-key': `sk-${'x'.repeat(8_000)}` }],
    ['non-ASCII bytes', { 'x-api-key': 'sk-\u00e9\u00ff\u00e8' }],
  ])('answers %s with 401 invalid_api_key, never 500', async (_name, headers) => {
    const res = await call(`${platform.gatewayUrl}/v1/me`, { headers });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'invalid_api_key', type: 'authentication_error' });
  });

  it('rejects bad key bodies with 400/404 and leaves no row behind', async () => {
    const teamId = await createTeam(platform);
    const cases: Array<[unknown, number]> = [
      [{ teamId, name: 42 }, 400],
      [{ teamId, name: 'x', rpm: 'many' }, 400],
      [{ teamId, name: 'x', extra: true }, 400],
      [{ teamId, name: 'x', expiresAt: 'tomorrow' }, 400],
      [{ teamId, name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 400],
      [{ teamId, name: 'x', budgetUsd: -1 }, 400],
      [{ teamId, name: 'x', budgetUsd: 0.123456789 }, 400],
      [{ name: 'x' }, 400],
      [{ teamId: '00000000-0000-4000-8000-000000000000', name: 'x' }, 404],
      [{ teamId: "'; DROP TABLE teams; --", name: 'x' }, 404],
      ['[1, 2', 400],
      [[1, 2], 400],
    ];
    for (const [body, status] of cases) {
      const res = await api.post('/api/keys', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error).toBeDefined();
    }
    expect((await api.get(`/api/keys?teamId=${teamId}`)).body).toEqual([]);
    expect((await api.get('/api/keys/not-a-uuid')).status).toBe(404);
    expect((await api.post('/api/keys/00000000-0000-4000-8000-000000000000/revoke')).status).toBe(404);
  });
});
