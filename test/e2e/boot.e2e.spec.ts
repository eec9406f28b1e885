import { request } from 'node:http';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TcpProxy, createTestDatabase, within } from '@app/testing';
import { spawnApp, waitForHttp, type AppProcess } from '../support/process';

const running: AppProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

function start(entry: 'platform' | 'gateway' | 'admin', env: Record<string, string>): AppProcess {
  const app = spawnApp(entry, env);
  running.push(app);
  return app;
}

/**
 * Two free ports for the apps, below the kernel's ephemeral range (32768 and up),
 * so that no outgoing connection can take one before the app listens on it.
 */
async function freePorts(): Promise<{ GATEWAY_PORT: string; ADMIN_PORT: string }> {
  for (;;) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    if ((await canListen(base)) && (await canListen(base + 1))) {
      return { GATEWAY_PORT: String(base), ADMIN_PORT: String(base + 1) };
    }
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

describe('process boot', { timeout: 120_000 }, () => {
  it('stops on an invalid environment with one line naming the variable', async () => {
    const app = start('gateway', { GATEWAY_PORT: 'eighty' });
    const { code } = await app.exited;
    expect(code).toBe(1);
    expect(app.stderr().trim()).toBe('Invalid configuration: GATEWAY_PORT must be a number (got "eighty")');
  });

  it('stops on a provider base URL carrying credentials, without printing them', async () => {
    const app = start('gateway', { OPENAI_API_KEY: 'sk-env', OPENAI_BASE_URL: 'http://u:url-pw-99@127.0.0.1:9/v1' });
    const { code } = await app.exited;
    expect(code).toBe(1);
    expect(app.stderr().trim()).toMatch(
      /^Invalid configuration: OPENAI_BASE_URL must not contain credentials \(user:password@\).* \(got "http:\/\/\*\*\*@127\.0\.0\.1:9\/v1"\)$/,
    );
    expect(app.output()).not.toContain('url-pw-99');
  });

  it('retries an unreachable database for a bounded time, then exits with a clear error', async () => {
    const started = Date.now();
    const app = start('gateway', {
      ...(await freePorts()),
      DATABASE_URL: 'postgresql://gw:secret-pw@127.0.0.1:1/gateway',
      DB_CONNECT_TIMEOUT_MS: '1500',
    });
    const { code } = await app.exited;
    expect(code).toBe(1);
    const lastLine = app.stderr().trim().split('\n').pop();
    expect(lastLine).toMatch(/^Database postgresql:\/\/gw:\*\*\*@127\.0\.0\.1:1\/gateway not reachable after 2 s: /);
    expect(app.output()).not.toContain('secret-pw');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('runs both apps on the embedded database and keeps its data across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gw-boot-'));
    const ports = await freePorts();
    const first = start('platform', { ...ports, DATA_DIR: dataDir });
    const [, password] = await first.waitFor(/First admin login\s+admin@example\.com \/ (\S+)/, 60_000);
    expect(password.length).toBeGreaterThanOrEqual(16);
    for (const port of [ports.GATEWAY_PORT, ports.ADMIN_PORT]) {
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    }
    const login = () =>
      fetch(`http://127.0.0.1:${ports.ADMIN_PORT}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@example.com', password }),
      });
    expect((await login()).status).toBe(200);
    expect(await first.stop()).toEqual({ code: 0, signal: null });

    const second = start('platform', { ...ports, DATA_DIR: dataDir });
    await second.waitFor(/LLM gateway is running/, 60_000);
    expect(second.output()).not.toMatch(/First admin login/);
    expect(second.output()).not.toMatch(/Applied migrations/);
    // A clean boot logs nothing at error level (pino's level 50 and above).
    expect(first.output()).not.toMatch(/"level":(5|6)0/);
    expect(second.output()).not.toMatch(/"level":(5|6)0/);
    expect((await fetch(`http://127.0.0.1:${ports.GATEWAY_PORT}/health/ready`)).status).toBe(200);
    // The account created on the first boot is still there, with its password.
    expect((await login()).status).toBe(200);
    expect(await second.stop('SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('finishes an in-flight request on SIGTERM before exiting', async () => {
    const ports = await freePorts();
    const app = start('gateway', { ...ports, DATA_DIR: mkdtempSync(join(tmpdir(), 'gw-stop-')) });
    await waitForHttp(`http://127.0.0.1:${ports.GATEWAY_PORT}/health`);
    // A request whose body is still arriving is in flight until it completes.
    const response = new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: Number(ports.GATEWAY_PORT),
          method: 'POST',
          path: '/v1/slow',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write('{"model": "x", ');
      setTimeout(() => {
        app.child.kill('SIGTERM');
        setTimeout(() => req.end('"messages": []}'), 500);
      }, 200);
    });
    expect(await response).toBe(404);
    expect(await app.exited).toEqual({ code: 0, signal: null });
    await expect(fetch(`http://127.0.0.1:${ports.GATEWAY_PORT}/health`)).rejects.toThrow();
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'exits within its shutdown timeout when the database stops answering, reporting the usage it could not write',
    async () => {
      const database = await createTestDatabase('postgres');
      const { proxy, url: proxied } = await TcpProxy.before(database.url!);
      try {
        const ports = await freePorts();
        const masterKey = 'sk-shutdown-master-0123456789';
        const app = start('platform', {
          ...ports,
          ...database.env,
          DATABASE_URL: proxied,
          MASTER_KEY: masterKey,
          SHUTDOWN_TIMEOUT_MS: '1000',
        });
        // The platform listens with the gateway first, then the admin app: wait for both.
        await waitForHttp(`http://127.0.0.1:${ports.GATEWAY_PORT}/health/ready`);
        await waitForHttp(`http://127.0.0.1:${ports.ADMIN_PORT}/health/ready`);
        const admin = (path: string, body: object) =>
          fetch(`http://127.0.0.1:${ports.ADMIN_PORT}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }).then((r) => r.json() as Promise<Record<string, unknown>>);
        const team = await admin('/api/teams', { name: 'shutdown' });
        const key = String((await admin('/api/keys', { teamId: team.id, name: 'shutdown' })).key);
        const ask = () =>
          fetch(`http://127.0.0.1:${ports.GATEWAY_PORT}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'mock/echo-1', messages: [{ role: 'user', content: 'hi' }] }),
          });
        expect((await ask()).status).toBe(200); // the key is loaded and cached
        await new Promise((resolve) => setTimeout(resolve, 1_500)); // its usage row written
        proxy.blackhole();
        // Answered from memory; its usage row and the key's last use wait for a database that no longer answers.
        const res = await ask();
        expect(res.status).toBe(200);
        app.child.kill('SIGTERM');
        expect(await within(20_000, 'still running', app.exited)).toEqual({ code: 0, signal: null });
        expect(app.output()).toMatch(/1 usage rows could not be written before shutdown: the database did not answer/);
      } finally {
        await proxy.close();
        await database.drop();
      }
    },
  );
});
