import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export type Entry = 'platform' | 'gateway' | 'admin';

/** A platform process started from the TypeScript sources, as `npm start` would run the build. */
export interface AppProcess {
  child: ChildProcess;
  output(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Polls `url` until it answers 200 (or the timeout passes). */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function spawnApp(entry: Entry, env: Record<string, string>): AppProcess {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(root, 'apps', entry, 'src', 'main.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const l of listeners) l();
    }),
  );
  return {
    child,
    output: () => out + err,
    stderr: () => err,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = (out + err).match(pattern);
          if (match) return finish(() => resolve(match));
          if (child.exitCode !== null) {
            finish(() => reject(new Error(`process exited (${child.exitCode}) before ${pattern}:\n${out}${err}`)));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${pattern}:\n${out}${err}`))),
          timeoutMs,
        );
        const finish = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
/** A free port other than `taken`. */
async function freePortOtherThan(taken: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port !== taken) return port;
  }
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A gateway in a process of its own, as another replica of `first`'s
 * deployment: same database, Redis namespace, secrets and master key.
 */
export async function spawnGatewayReplica(
  first: {
    database: { env: { DATABASE_URL?: string; DATA_DIR: string } };
    config: { secretKey?: string; redisPrefix: string };
  },
  env: { REDIS_URL?: string; MASTER_KEY: string },
): Promise<{ app: AppProcess; url: string }> {
  const port = await freePort();
  const app = spawnApp('gateway', {
    DATABASE_URL: first.database.env.DATABASE_URL ?? '',
    DATA_DIR: first.database.env.DATA_DIR,
    REDIS_URL: env.REDIS_URL ?? '',
    MASTER_KEY: env.MASTER_KEY,
    SECRET_KEY: first.config.secretKey ?? '',
    REDIS_PREFIX: first.config.redisPrefix,
    HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    // A port released by one freePort() may be handed out again by the next: the admin's must differ.
    ADMIN_PORT: String(await freePortOtherThan(port)),
  });
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    waitForHttp(`${url}/health`, 90_000),
    app.exited.then(() => {
      throw new Error(`the replica gateway exited:\n${app.output()}`);
    }),
  ]);
  return { app, url };
}
