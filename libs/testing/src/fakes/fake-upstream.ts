import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BodyReply,
  isStreamRequest,
  parseJson,
  readBody,
  type ResponseState,
  sleep,
  writeBody,
  writeHalfBody,
  writePaddedBody,
  writeSse,
} from './fake-http';
import type { FakeBehaviour, FakeReply, FakeUpstreamOptions, RecordedRequest } from './fake-upstream.types';
import type { SseEvent } from './sse-writer';

interface QueuedBehaviour {
  behaviour: FakeBehaviour;
  remaining: number;
}

/**
 * A real HTTP server that plays an upstream provider. Subclasses route requests to
 * wire-exact replies; this class records requests and applies scripted behaviours.
 */
export abstract class FakeUpstream {
  readonly requests: RecordedRequest[] = [];
  private server?: Server;
  private address?: string;
  private closing = false;
  private nextId = 1;
  private readonly queue: QueuedBehaviour[] = [];
  private defaultBehaviour: FakeBehaviour;
  private readonly waiters = new Set<() => boolean>();

  constructor(private readonly upstreamOptions: FakeUpstreamOptions = {}) {
    this.defaultBehaviour = upstreamOptions.defaultBehaviour ?? {};
  }

  /** `http://127.0.0.1:<port>`; throws before `start()`. */
  get origin(): string {
    if (this.address === undefined) throw new Error(`${this.constructor.name} is not started`);
    return this.address;
  }

  /** The URL an SDK client uses as its base URL (origin plus the provider's base path). */
  get baseURL(): string {
    return `${this.origin}${this.basePath}`;
  }

  /** The most recent request, if any. */
  get lastRequest(): RecordedRequest | undefined {
    return this.requests.at(-1);
  }

  /** Starts listening on 127.0.0.1 and resolves with `baseURL`. */
  async start(): Promise<string> {
    if (this.server) return this.baseURL;
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 1_000;
    this.server = server;
    this.closing = false;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.upstreamOptions.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.address = `http://127.0.0.1:${port}`;
    return this.baseURL;
  }

  /** Stops the server, cutting hanging and in-flight responses. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.closing = true;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    this.address = undefined;
  }

  /** Queues behaviours, consumed in order by the requests they match. */
  enqueue(...behaviours: FakeBehaviour[]): this {
    for (const behaviour of behaviours) {
      this.queue.push({ behaviour, remaining: behaviour.times ?? 1 });
    }
    return this;
  }

  /** Replaces the behaviour used when the queue has nothing for a request. */
  setDefaultBehaviour(behaviour: FakeBehaviour): this {
    this.defaultBehaviour = behaviour;
    return this;
  }

  /** Forgets recorded requests and queued behaviours; restores the constructor's default. */
  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.nextId = 1;
    this.defaultBehaviour = this.upstreamOptions.defaultBehaviour ?? {};
  }

  /** Resolves with the first recorded request (past or future) the predicate accepts. */
  waitForRequest(
    predicate: (request: RecordedRequest) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const already = this.requests.find(predicate);
      if (already) return resolve(already);
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none';
        reject(new Error(`No matching request within ${timeoutMs} ms (received: ${seen})`));
      }, timeoutMs);
      const check = (): boolean => {
        const found = this.requests.find(predicate);
        if (!found) return false;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(found);
        return true;
      };
      this.waiters.add(check);
    });
  }

  /** Path prefix of the provider's API, e.g. `/v1`; part of `baseURL`. */
  protected get basePath(): string {
    return '';
  }

  /** The normal reply for a request, or `undefined` for an unknown route (404). */
  protected abstract route(request: RecordedRequest, behaviour: FakeBehaviour): FakeReply | undefined;

  /** The provider's error body for a status. */
  protected abstract errorBody(status: number, message: string): unknown;

  /** The provider's in-stream error event (for `streamErrorAfter`). */
  protected abstract streamErrorEvent(): SseEvent;

  /** Headers the provider adds to an error reply, e.g. `retry-after` on 429. */
  protected errorHeaders(_status: number): Record<string, string> {
    return {};
  }

  /** A reply in the provider's error shape. */
  protected errorReply(status: number, message: string): BodyReply {
    return { kind: 'body', status, body: this.errorBody(status, message) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      return; // the client left while sending the body
    }
    const record = this.record(req, rawBody);
    const controller = new AbortController();
    const state: ResponseState = { dropped: false };
    res.on('close', () => {
      controller.abort();
      if (!res.writableEnded && !state.dropped && !this.closing) record.aborted = true;
      this.notify();
    });
    res.on('finish', () => {
      record.finished = true;
      this.notify();
    });
    try {
      await this.respond(record, this.take(record), res, controller.signal, state);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else writeBody(res, record, this.errorReply(500, `Fake upstream failed: ${String(error)}`));
    }
  }

  private record(req: IncomingMessage, rawBody: string): RecordedRequest {
    const url = new URL(req.url ?? '/', 'http://fake.local');
    const record: RecordedRequest = {
      id: this.nextId++,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: parseJson(rawBody),
      rawBody,
      receivedAt: Date.now(),
      aborted: false,
      finished: false,
    };
    this.requests.push(record);
    this.notify();
    return record;
  }

  private take(record: RecordedRequest): FakeBehaviour {
    const index = this.queue.findIndex((q) => q.behaviour.match?.(record) ?? true);
    if (index === -1) return this.defaultBehaviour;
    const queued = this.queue[index];
    queued.remaining -= 1;
    if (queued.remaining <= 0) this.queue.splice(index, 1);
    return queued.behaviour;
  }

  private async respond(
    record: RecordedRequest,
    behaviour: FakeBehaviour,
    res: ServerResponse,
    signal: AbortSignal,
    state: ResponseState,
  ): Promise<void> {
    if (behaviour.delayMs) await sleep(behaviour.delayMs, signal);
    if (signal.aborted || behaviour.hang) return;
    const io = { signal, state, errorEvent: () => this.streamErrorEvent() };
    if (behaviour.status !== undefined) {
      const body = behaviour.body ?? this.errorBody(behaviour.status, `Scripted ${behaviour.status}`);
      const headers = { ...this.errorHeaders(behaviour.status), ...behaviour.headers };
      writeBody(res, record, { kind: 'body', status: behaviour.status, body, headers });
      return;
    }
    if (behaviour.garbage) {
      const garbage = typeof behaviour.garbage === 'string' ? behaviour.garbage : '<html>not json{';
      if (isStreamRequest(record)) await writeSse(res, record, { kind: 'sse', events: [{ data: garbage }] }, {}, io);
      else writeBody(res, record, { kind: 'body', body: garbage, headers: { 'content-type': 'application/json' } });
      return;
    }
    const reply =
      this.route(record, behaviour) ?? this.errorReply(404, `Unknown route ${record.method} ${record.path}`);
    if (reply.kind === 'sse') await writeSse(res, record, reply, behaviour, io);
    else if (behaviour.padBodyTo !== undefined) await writePaddedBody(res, record, reply, behaviour.padBodyTo, signal);
    else if (behaviour.dropStreamAfter !== undefined) await writeHalfBody(res, record, reply, state);
    else writeBody(res, record, reply);
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }
}
