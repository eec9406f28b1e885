import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Principal } from '@app/auth';
import { GatewayError } from '@app/contracts';
import { type ClientSignal, GATEWAY_HOPS_HEADER, MAX_GATEWAY_HOPS } from '@app/providers';
import { type Interruptible, markInterruptible, unmarkInterruptible } from '@app/server';
import type { UsageEndpoint } from '@app/usage';

/** Everything the pipeline knows about one inbound request, independent of Nest. */
export interface RequestContext {
  requestId: string;
  principal: Principal;
  endpoint: UsageEndpoint;
  startedAt: Date;
  /** Monotonic start, for latency. */
  startedMs: number;
  /** Aborted when the client disconnects before the response is complete. */
  signal: ClientSignal;
  /** True once the client went away. */
  readonly clientGone: boolean;
  /**
   * Set when the process, stopping, ended the request before its answer was
   * complete (its signal is aborted too): what the client is told instead.
   */
  readonly interruption: GatewayError | undefined;
  agentId?: string | null;
  sessionId?: string | null;
  /** Gateways the request passed through before this one (`x-gateway-hops`; 0 from a client). */
  readonly hops: number;
}

/**
 * A client's disconnect as an abort signal, without an `AbortController` per
 * request (see {@link ClientSignal}). Listeners run once, in the order they were
 * added; one added after the abort never runs, as with an `AbortSignal`.
 */
export class ClientAbort implements ClientSignal, Interruptible {
  aborted = false;
  reason: unknown = undefined;
  /** The shutdown's error, when the process aborted the request rather than the client. */
  interruption: GatewayError | undefined = undefined;
  private listeners: Array<() => void> | undefined;

  /** `res`: the response whose client this is (see {@link clientBehind}). */
  constructor(private readonly res?: ServerResponse) {}

  /** The client's socket buffer is full: the answer waits for it (see {@link ClientSignal.clientBehind}). */
  get clientBehind(): boolean {
    return this.res?.writableNeedDrain === true;
  }

  /** Closes the connection of a client that stopped reading (see {@link ClientSignal.giveUp}). */
  giveUp(): void {
    this.res?.destroy();
  }

  /** Aborts the request for a shutdown: the upstream call ends, and the client is answered with a 503. */
  interrupt(): void {
    if (this.aborted) return;
    this.interruption = new GatewayError(
      'service_unavailable',
      'The gateway is shutting down: the request was ended before its answer was complete. Retry it.',
      { retryAfter: 1 },
    );
    this.abort(this.interruption);
  }

  /** `reason` defaults to what `AbortController.abort()` gives: an `AbortError` DOMException. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index >= 0) this.listeners?.splice(index, 1);
  }
}

/**
 * The context of one HTTP request. A class, not an object literal: V8 makes a
 * literal with an accessor (`get clientGone()`) in the old generation, and
 * everything it points to then outlives every young-generation collection until
 * the next full one (measured: ~1.7 MB promoted per collection, the whole
 * pipeline's per-request objects).
 */
class HttpRequestContext implements RequestContext {
  readonly startedAt = new Date();
  readonly startedMs = performance.now();
  agentId?: string | null;
  sessionId?: string | null;

  constructor(
    readonly requestId: string,
    readonly principal: Principal,
    readonly endpoint: UsageEndpoint,
    readonly signal: ClientAbort,
    readonly hops: number,
  ) {}

  get clientGone(): boolean {
    return this.signal.aborted && this.signal.interruption === undefined;
  }

  get interruption(): GatewayError | undefined {
    return this.signal.interruption;
  }
}

/** Builds the context of an Express request, wiring client disconnect to its abort signal. */
export function requestContext(
  req: IncomingMessage & { id?: unknown; principal?: Principal },
  res: ServerResponse,
  endpoint: UsageEndpoint,
): RequestContext {
  if (!req.principal) throw new Error('requestContext needs an authenticated request (ApiKeyGuard)');
  const hops = gatewayHops(req.headers[GATEWAY_HOPS_HEADER]);
  const signal = new ClientAbort(res);
  if (res.closed) {
    // The client left while the request was read or authenticated.
    signal.abort();
  } else {
    markInterruptible(res, signal);
    // A request pipelined behind another has a response not yet given the socket: when the connection
    // closes meanwhile, the response never closes. The socket's own close tells it.
    const leave = res.socket === null ? abortOnClose(req.socket, signal) : undefined;
    res.once('close', () => {
      leave?.();
      unmarkInterruptible(res);
      if (!res.writableFinished) signal.abort();
    });
  }
  return new HttpRequestContext(typeof req.id === 'string' ? req.id : '', req.principal, endpoint, signal, hops);
}

/** The requests pipelined on a connection whose responses are not yet given its socket. */
const pipelined = new WeakMap<Socket, Set<ClientAbort>>();

/**
 * Aborts `signal` when `socket` closes, through one listener per socket however many
 * requests are pipelined on it; the returned function forgets the signal.
 */
function abortOnClose(socket: Socket, signal: ClientAbort): () => void {
  const waiting = pipelined.get(socket) ?? new Set<ClientAbort>();
  if (!pipelined.has(socket)) {
    pipelined.set(socket, waiting);
    socket.once('close', () => {
      pipelined.delete(socket);
      for (const each of waiting) each.abort();
    });
  }
  waiting.add(signal);
  return () => waiting.delete(signal);
}

/**
 * The gateways a request passed through (`x-gateway-hops`, sent by a gateway's
 * upstream calls); refused at {@link MAX_GATEWAY_HOPS}, where a route or provider
 * must point back at a gateway. A 400, which no gateway on the way retries.
 */
function gatewayHops(header: string | string[] | undefined): number {
  if (header === undefined) return 0;
  const hops = Number(Array.isArray(header) ? header[0] : header);
  if (!Number.isInteger(hops) || hops < 0) return 0;
  if (hops >= MAX_GATEWAY_HOPS) {
    throw new GatewayError(
      'invalid_request_error',
      `Loop detected: the request has passed through ${hops} gateways (${GATEWAY_HOPS_HEADER}). ` +
        "A route or provider points back at the gateway; check the providers' base URLs.",
    );
  }
  return hops;
}
