import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN, TEST_MASTER_KEY, startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, call, createKey, createTeam, createUserAndLogin, me, unique } from '../support/tenancy';

function signJwt(payload: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

describe('admin API: login, roles and team isolation, audit', () => {
  let platform: TestPlatform;
  let api: ReturnType<typeof adminApi>;
  const login = (email: string, password: string) =>
    call(`${platform.adminUrl}/api/auth/login`, { body: { email, password } });

  beforeAll(async () => {
    platform = await startPlatform();
    api = adminApi(platform);
  });
  afterAll(() => platform?.close());

  it('logs the first admin in with a JWT that the admin API accepts until it expires', async () => {
    const res = await login(TEST_ADMIN.email, TEST_ADMIN.password);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: platform.config.jwtExpiresInSeconds,
      user: { email: TEST_ADMIN.email, role: 'admin' },
    });
    expect(res.body.user).not.toHaveProperty('passwordHash');
    const token = res.body.accessToken as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as {
      exp: number;
      iat: number;
      sub: string;
    };
    expect(claims.exp - claims.iat).toBe(platform.config.jwtExpiresInSeconds);

    const whoami = await api.get('/api/auth/me', token);
    expect(whoami.status).toBe(200);
    expect(whoami.body).toMatchObject({ kind: 'user', role: 'admin', user: { email: TEST_ADMIN.email } });
    expect((await api.get('/api/auth/me', TEST_MASTER_KEY)).body).toMatchObject({
      kind: 'master',
      role: 'admin',
      user: null,
    });

    const secret = platform.config.jwtSecret!;
    const now = Math.floor(Date.now() / 1000);
    const expired = await api.get(
      '/api/auth/me',
      signJwt({ sub: claims.sub, role: 'admin', iat: now - 120, exp: now - 60 }, secret),
    );
    expect(expired.status).toBe(401);
    expect(expired.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/expired/) });
    const forged = await api.get(
      '/api/auth/me',
      signJwt({ sub: claims.sub, role: 'admin', iat: now, exp: now + 60 }, 'x'.repeat(64)),
    );
    expect(forged.status).toBe(401);
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin', sub: '00000000-0000-4000-8000-000000000000' })).toString('base64url')}.${signature}`;
    for (const bad of [undefined, 'garbage', tampered, 'a'.repeat(10_000)]) {
      const res = await call(`${platform.adminUrl}/api/teams`, { token: bad });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('refuses wrong credentials with one message and never a 500 on bad bodies', async () => {
    const wrong = await login(TEST_ADMIN.email, 'wrong password');
    const unknown = await login('nobody@example.com', 'whatever it is');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    for (const body of [
      { email: 'x' },
      { email: 42, password: 'p' },
      { email: 'a@b.co', password: 'p', extra: 1 },
      'nope',
    ]) {
      const res = await call(`${platform.adminUrl}/api/auth/login`, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('confines a member to their own team: another team is 404, admin routes are 403', async () => {
    const teamA = await createTeam(platform);
    const teamB = await createTeam(platform);
    const keyB = await createKey(platform, teamB);
    const keyA = await createKey(platform, teamA);
    const member = await createUserAndLogin(platform, { role: 'member', teamId: teamA });
    const as = member.token;

    const keys = await api.get('/api/keys', as);
    expect(keys.status).toBe(200);
    expect(keys.body.map((k: { id: string }) => k.id)).toEqual([keyA.id]);
    expect((await api.get(`/api/keys?teamId=${teamB}`, as)).status).toBe(404);
    expect((await api.get(`/api/keys/${keyB.id}`, as)).status).toBe(404);
    const revokeOther = await api.post(`/api/keys/${keyB.id}/revoke`, {}, as);
    expect(revokeOther.status).toBe(404);
    expect(revokeOther.body.error).toMatchObject({ code: 'not_found', message: 'API key not found.' });
    expect((await me(platform, keyB.key)).status).toBe(200);
    expect((await api.post('/api/keys', { teamId: teamB, name: 'sneaky' }, as)).status).toBe(404);
    expect((await api.get(`/api/keys?teamId=${teamB}`)).body).toHaveLength(1);

    const own = await api.post('/api/keys', { name: 'mine' }, as);
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ teamId: teamA, createdById: member.id });
    expect((await api.post(`/api/keys/${own.body.id}/revoke`, {}, as)).status).toBe(200);
    expect((await me(platform, own.body.key)).status).toBe(401);

    const teams = await api.get('/api/teams', as);
    expect(teams.body.map((t: { id: string }) => t.id)).toEqual([teamA]);
    expect((await api.get(`/api/teams/${teamB}`, as)).status).toBe(404);
    expect((await api.get(`/api/teams/${teamA}`, as)).status).toBe(200);
    for (const [method, path] of [
      ['post', '/api/teams'],
      ['patch', `/api/teams/${teamA}`],
      ['delete', `/api/teams/${teamA}`],
      ['get', '/api/users'],
      ['post', '/api/users'],
      ['get', '/api/audit'],
    ] as const) {
      const res =
        method === 'get'
          ? await api.get(path, as)
          : method === 'delete'
            ? await api.delete(path, as)
            : await api[method](path, { name: 'x' }, as);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe('permission_denied');
    }
  });

  it('manages teams and users with 404 for unknown ids and 409 for duplicates', async () => {
    const name = unique('acme');
    const created = await api.post('/api/teams', {
      name,
      budgetUsd: 12.5,
      budgetPeriod: 'monthly',
      rpm: 60,
      tpm: 10_000,
      allowedModels: ['openai/*'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name,
      budgetUsd: 12.5,
      budgetPeriod: 'monthly',
      rpm: 60,
      tpm: 10_000,
      allowedModels: ['openai/*'],
    });
    expect((await api.post('/api/teams', { name })).status).toBe(409);
    expect((await api.post('/api/teams', { name: 'x', rpm: 1.5 })).status).toBe(400);
    expect((await api.post('/api/teams', { name: 'x', budgetUsd: '10' })).status).toBe(400);
    // The database keeps 8 decimals: more is refused, not rounded (to a budget of 0, which blocks everything).
    const tooFine = await api.post('/api/teams', { name: 'x', budgetUsd: 0.000000001 });
    expect(tooFine.status).toBe(400);
    expect(tooFine.body.error).toMatchObject({
      param: 'budgetUsd',
      message: expect.stringMatching(/8 decimal places/),
    });
    expect((await api.post('/api/teams', { name: 'x', allowedModels: 'gpt-4o' })).status).toBe(400);
    expect((await api.post('/api/teams', { name: 'x', colour: 'red' })).status).toBe(400);
    const patched = await api.patch(`/api/teams/${created.body.id}`, { rpm: null, budgetUsd: 20 });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ rpm: null, budgetUsd: 20 });
    const other = await createTeam(platform);
    expect((await api.patch(`/api/teams/${other}`, { name })).status).toBe(409);
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1' OR '1'='1"]) {
      expect((await api.patch(`/api/teams/${encodeURIComponent(id)}`, { rpm: 1 })).status).toBe(404);
      expect((await api.delete(`/api/teams/${encodeURIComponent(id)}`)).status).toBe(404);
    }

    const email = `${unique('dup')}@example.com`;
    const user = await api.post('/api/users', { email, password: 'long enough pw', role: 'member', teamId: other });
    expect(user.status).toBe(201);
    expect(user.body).not.toHaveProperty('passwordHash');
    expect(
      (await api.post('/api/users', { email: email.toUpperCase(), password: 'long enough pw', role: 'admin' })).status,
    ).toBe(409);
    expect(
      (await api.post('/api/users', { email: 'm@example.com', password: 'long enough pw', role: 'member' })).status,
    ).toBe(400);
    expect((await api.post('/api/users', { email: 'n@example.com', password: 'short', role: 'admin' })).status).toBe(
      400,
    );
    expect(
      (
        await api.post('/api/users', {
          email: 'o@example.com',
          password: 'long enough pw',
          role: 'member',
          teamId: '00000000-0000-4000-8000-000000000000',
        })
      ).status,
    ).toBe(404);
    expect((await api.patch(`/api/users/${user.body.id}`, { disabled: true })).body).toMatchObject({ disabled: true });
    expect((await login(email, 'long enough pw')).status).toBe(401);
    expect((await api.delete(`/api/users/${user.body.id}`)).status).toBe(204);
    expect((await api.get(`/api/users/${user.body.id}`)).status).toBe(404);

    // Deleting a team deletes its keys, and gateways stop accepting them at once.
    const key = await createKey(platform, created.body.id);
    expect((await me(platform, key.key)).status).toBe(200);
    expect((await api.delete(`/api/teams/${created.body.id}`)).status).toBe(204);
    expect((await me(platform, key.key)).status).toBe(401);
  });

  it('records every admin write in the audit log, without secrets, with cursor pagination', async () => {
    const admin = await createUserAndLogin(platform, { role: 'admin' });
    const team = await api.post('/api/teams', { name: unique('audited'), rpm: 5 }, admin.token);
    await api.patch(`/api/teams/${team.body.id}`, { rpm: 10 }, admin.token);
    const key = await api.post('/api/keys', { teamId: team.body.id, name: 'audited key' }, admin.token);
    await api.post(`/api/keys/${key.body.id}/revoke`, {}, admin.token);
    const user = await api.post(
      '/api/users',
      { email: `${unique('aud')}@example.com`, password: 'a secret password', role: 'member', teamId: team.body.id },
      admin.token,
    );
    await api.patch(`/api/users/${user.body.id}`, { password: 'another secret pw' }, admin.token);
    await api.delete(`/api/users/${user.body.id}`, admin.token);
    await api.delete(`/api/teams/${team.body.id}`, admin.token);

    const log = await api.get(`/api/audit?actorId=${admin.id}&limit=200`);
    expect(log.status).toBe(200);
    const actions = (log.body.data as Array<{ action: string }>).map((e) => e.action).reverse();
    expect(actions).toEqual([
      'team.create',
      'team.update',
      'key.create',
      'key.revoke',
      'user.create',
      'user.update',
      'user.delete',
      'team.delete',
    ]);
    const entries = log.body.data as Array<Record<string, unknown>>;
    expect(entries.every((e) => e.actorType === 'user' && e.actorId === admin.id && typeof e.ip === 'string')).toBe(
      true,
    );
    expect(entries.find((e) => e.action === 'team.update')?.changes).toEqual({ rpmLimit: { from: 5, to: 10 } });
    expect(entries.find((e) => e.action === 'user.update')?.changes).toEqual({ password: 'changed' });
    const text = JSON.stringify(log.body);
    for (const secret of [key.body.key, 'a secret password', 'another secret pw', 'scrypt$', 'keyHash', 'passwordHash'])
      expect(text).not.toContain(secret);

    const first = await api.get(`/api/audit?actorId=${admin.id}&limit=3`);
    expect(first.body.data).toHaveLength(3);
    const second = await api.get(`/api/audit?actorId=${admin.id}&limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.data.map((e: { action: string }) => e.action)).toEqual([
      'user.create',
      'key.revoke',
      'key.create',
    ]);
    expect(
      (await api.get(`/api/audit?targetId=${key.body.id}`)).body.data.map((e: { action: string }) => e.action),
    ).toEqual(['key.revoke', 'key.create']);
    expect((await api.get('/api/audit?cursor=abc')).status).toBe(400);
    expect((await api.get('/api/audit?limit=100000')).status).toBe(400);

    const master = await api.post('/api/teams', { name: unique('by-master') });
    const byMaster = await api.get(`/api/audit?targetId=${master.body.id}`);
    expect(byMaster.body.data[0]).toMatchObject({ actorType: 'master_key', actorId: null, action: 'team.create' });
  });

  // Last in this file: it locks out 127.0.0.1 for the platform's remaining life.
  it('throttles failed logins per email, then per address, with 429 and retry-after', async () => {
    const user = await createUserAndLogin(platform, { role: 'admin' });
    for (let i = 0; i < 5; i++) expect((await login(user.email, 'wrong password')).status).toBe(401);
    const locked = await login(user.email, 'a good long password');
    expect(locked.status).toBe(429);
    expect(locked.body.error).toMatchObject({
      code: 'rate_limit_exceeded',
      message: expect.stringMatching(/for this account/),
    });
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);

    // 20 failures from one address (some made by earlier tests), each on a different account, lock the address out.
    const statuses: number[] = [];
    for (let i = 0; i < 20 && !statuses.includes(429); i++)
      statuses.push((await login(`${unique('spray')}@example.com`, 'guess')).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((s) => s === 401)).toBe(true);
    const fromIp = await login(TEST_ADMIN.email, TEST_ADMIN.password);
    expect(fromIp.status).toBe(429);
    expect(fromIp.body.error.message).toMatch(/from this address/);
    expect(fromIp.headers.get('retry-after')).toBeTruthy();
  });
});
