import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createProviderAdapter } from '../provider.factory';
import type { ProviderAdapter, ProviderConfig } from '../provider.interface';

/**
 * A minimal upstream for the adapter tests: a node:http server on 127.0.0.1 and an
 * ephemeral port that records what it received and how many connections it saw.
 * (The full protocol fakes live in libs/testing; these tests stay self-contained.)
 */

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: unknown) => void | Promise<void>;

export interface LocalServer {
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

function parse(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return text;
  }
}

export async function startServer(handler: Handler): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const body = parse(Buffer.concat(parts).toString('utf8'));
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      void Promise.resolve(handler(req, res, body)).catch(() => res.destroy());
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Writes server-sent events: `[event, data]` pairs (`event` null for data-only lines). */
export function sendSse(res: ServerResponse, events: Array<[string | null, unknown]>, end = true): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const [event, data] of events) {
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    res.write(`${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`);
  }
  if (end) res.end();
}

export function callContext(signal: AbortSignal = new AbortController().signal, timeoutMs?: number) {
  return { signal, timeoutMs, requestId: 'req-test-1' };
}

/**
 * A spec's adapters against local servers: `start(handler, config)` starts a server
 * answering with `handler` and an adapter of `base` (with `config` over it) calling
 * it; both are closed after each test.
 */
export function adapterOnLocalServer(base: Omit<ProviderConfig, 'baseUrl'>) {
  let server: LocalServer | undefined;
  let adapter: ProviderAdapter | undefined;
  afterEach(async () => {
    await adapter?.close();
    await server?.close();
    adapter = server = undefined;
  });
  return async (handler: Handler, config: Partial<ProviderConfig> = {}) => {
    server = await startServer(handler);
    adapter = createProviderAdapter({ ...base, baseUrl: server.url, ...config });
    return { server, adapter };
  };
}
