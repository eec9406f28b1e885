import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type TestPlatform } from '../support/platform';
import { adminApi, createKey, createTeam, me } from '../support/tenancy';

const redisUrl = process.env.TEST_REDIS_URL;
const reason = redisUrl ? '' : ' (skipped: TEST_REDIS_URL is not set; revocation across processes needs Redis pub/sub)';

/** Polls `check` until it is true; returns how long that took (ms), or fails after `timeoutMs`. */
async function timeUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe.skipIf(!redisUrl)(`two gateway instances sharing one database and one Redis${reason}`, () => {
  let first: TestPlatform;
  let second: TestPlatform;

  beforeAll(async () => {
    first = await startPlatform({ env: { REDIS_URL: redisUrl } });
    second = await startPlatform({ database: first.database, apps: ['gateway'], env: { REDIS_URL: redisUrl } });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('stops accepting a revoked key on the other instance within a second', async () => {
    const teamId = await createTeam(first);
    const { id, key } = await createKey(first, teamId);
    // Both instances have verified (and cached) the key.
    expect((await me(first, key)).status).toBe(200);
    expect((await me(second, key)).status).toBe(200);

    const revoked = await adminApi(first).post(`/api/keys/${id}/revoke`);
    expect(revoked.status).toBe(200);
    const elapsed = await timeUntil(async () => (await me(second, key)).status === 401, 1_000);
    expect(elapsed).toBeLessThan(1_000);
    const answer = await me(second, key);
    expect(answer.body.error).toMatchObject({ code: 'invalid_api_key', message: expect.stringMatching(/revoked/) });
    expect((await me(first, key)).status).toBe(401);
  });

  it("applies a team's new limits on the other instance within a second", async () => {
    const teamId = await createTeam(first, { rpm: 10 });
    const { key } = await createKey(first, teamId);
    expect((await me(second, key)).body.limits.team.rpm).toBe(10);
    expect((await adminApi(first).patch(`/api/teams/${teamId}`, { rpm: 20, allowedModels: ['mock/*'] })).status).toBe(
      200,
    );
    await timeUntil(async () => (await me(second, key)).body.limits.team.rpm === 20, 1_000);
    expect((await me(second, key)).body.allowedModels).toEqual(['mock/*']);
  });
});
