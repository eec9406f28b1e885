import type { IncomingHttpHeaders } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Agent, Dispatcher } from 'undici';
import type { CallScope } from './call-scope';
import { MAX_ANSWER_BYTES, UpstreamTooLargeError } from './http';

/** A POST to an upstream: where, with which headers, and its body. */
export interface UpstreamPost {
  origin: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** The status line and headers of an upstream response. */
export interface UpstreamHead {
  status: number;
  headers: IncomingHttpHeaders;
}

/**
 * Thrown when the exchange failed before a response arrived (connection refused
 * or reset, headers timeout): the caller reports those as connection errors. An
 * error once the response has started is the transport's own.
 */
export class NoResponseError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'NoResponseError';
  }
}

/** Stream chunks queued before the upstream is paused (back-pressure), and resumed below half. */
const HIGH_WATER_CHUNKS = 64;

/**
 * One POST on undici's dispatcher API, the layer under its `request()`: the
 * response arrives through callbacks, with no body stream, async resource or
 * signal listener per call (undici's `request` machinery cost about a tenth of
 * the gateway's CPU per request). The call's scope aborts it: the client went
 * away or the timeout elapsed; the promise then rejects with the scope's reason,
 * at once, even while the request still waits for a pooled connection.
 */
abstract class ScopedExchange implements Dispatcher.DispatchHandler {
  status = 0;
  headers: IncomingHttpHeaders = {};
  protected controller: Dispatcher.DispatchController | undefined;
  protected responded = false;
  private listening = false;

  constructor(protected readonly scope: CallScope) {}

  /** Sends the request (nothing is sent when the scope is already aborted). */
  protected start(dispatcher: Agent, post: UpstreamPost): void {
    if (this.scope.aborted) return this.failed(this.scope.reason);
    this.scope.requestSignal.once('abort', this.onAbort);
    this.listening = true;
    try {
      dispatcher.dispatch(
        { origin: post.origin, path: post.path, method: 'POST', headers: post.headers, body: post.body },
        this,
      );
    } catch (err) {
      this.failed(new NoResponseError(err));
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.scope.aborted) controller.abort(this.scope.reason as Error);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200) return; // 1xx: informational, the response is still to come
    this.status = status;
    this.headers = headers;
    this.responded = true;
    this.started();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.release();
    // An abort reaches undici as the scope's reason: reject with it, as undici's `request` does.
    this.failed(this.scope.aborted ? this.scope.reason : this.responded ? error : new NoResponseError(error));
  }

  abstract onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void;
  abstract onResponseEnd(controller: Dispatcher.DispatchController): void;
  /** The head has arrived. */
  protected abstract started(): void;
  /** The exchange failed (idempotent: only the first failure counts). */
  protected abstract failed(error: unknown): void;

  protected release(): void {
    if (!this.listening) return;
    this.listening = false;
    this.scope.requestSignal.off('abort', this.onAbort);
  }

  private readonly onAbort = (): void => {
    this.release();
    this.controller?.abort(this.scope.reason as Error);
    this.failed(this.scope.reason);
  };
}

/** A whole response as text (UTF-8, without a byte-order mark). */
export interface UpstreamText extends UpstreamHead {
  text: string;
}

class TextExchange extends ScopedExchange {
  readonly result = deferred<UpstreamText>();
  private parts: Buffer[] = [];
  private read = 0;
  private settled = false;

  constructor(
    scope: CallScope,
    dispatcher: Agent,
    post: UpstreamPost,
    private readonly maxBytes: number,
  ) {
    super(scope);
    this.start(dispatcher, post);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.read += chunk.length;
    if (this.read <= this.maxBytes) {
      this.parts.push(chunk);
      return;
    }
    // Past the bound: what was read is dropped, and the rest never read.
    const error = new UpstreamTooLargeError('the answer', this.maxBytes);
    this.parts = [];
    this.release();
    this.failed(error);
    controller.abort(error);
  }

  onResponseEnd(): void {
    this.release();
    if (this.settled) return;
    this.settled = true;
    const bytes = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.result.resolve({ status: this.status, headers: this.headers, text: utf8(bytes) });
  }

  protected started(): void {}

  protected failed(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.result.reject(error);
  }
}

/** A response whose head has arrived, its body read as text chunk by chunk. */
export interface UpstreamStream extends UpstreamHead {
  /** The body, decoded as UTF-8 as it arrives; stopping early aborts the exchange. */
  chunks(): AsyncGenerator<string, void, undefined>;
}

class StreamExchange extends ScopedExchange implements UpstreamStream {
  readonly head = deferred<UpstreamStream>();
  /** Node's decoder: a character split between chunks waits for its rest (6x faster than a streaming `TextDecoder`). */
  private readonly decoder = new StringDecoder('utf8');
  private readonly queue: string[] = [];
  private ended = false;
  private error: unknown;
  private failedAlready = false;
  private wake: (() => void) | undefined;

  constructor(scope: CallScope, dispatcher: Agent, post: UpstreamPost) {
    super(scope);
    this.start(dispatcher, post);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    if (text !== '') this.queue.push(text);
    if (this.queue.length >= HIGH_WATER_CHUNKS) controller.pause();
    this.wakeUp();
  }

  onResponseEnd(): void {
    this.release();
    const rest = this.decoder.end();
    if (rest !== '') this.queue.push(rest);
    this.ended = true;
    this.wakeUp();
  }

  async *chunks(): AsyncGenerator<string, void, undefined> {
    let first = true;
    try {
      for (;;) {
        let text = this.queue.shift();
        if (text !== undefined) {
          if (first) {
            first = false;
            if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
          }
          if (this.controller?.paused && this.queue.length < HIGH_WATER_CHUNKS / 2) this.controller.resume();
          yield text;
          continue;
        }
        if (this.failedAlready) throw this.error;
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // The reader stopped before the end (or failed): nobody reads the rest.
      if (!this.ended && !this.failedAlready) {
        this.release();
        this.controller?.abort(new Error('the response was not read to the end'));
      }
    }
  }

  protected started(): void {
    this.head.resolve(this);
  }

  protected failed(error: unknown): void {
    if (this.failedAlready || this.ended) return;
    this.failedAlready = true;
    this.error = error;
    if (this.responded) this.wakeUp();
    else this.head.reject(error);
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * POSTs and reads the whole response as text; one larger than `maxBytes` fails with an
 * {@link UpstreamTooLargeError} as soon as it is (its connection is closed, not read to the end).
 */
export function postForText(
  dispatcher: Agent,
  post: UpstreamPost,
  scope: CallScope,
  maxBytes = MAX_ANSWER_BYTES,
): Promise<UpstreamText> {
  return new TextExchange(scope, dispatcher, post, maxBytes).result.promise;
}

/** POSTs and resolves once the response's head has arrived; the body is then read chunk by chunk. */
export function postForStream(dispatcher: Agent, post: UpstreamPost, scope: CallScope): Promise<UpstreamStream> {
  return new StreamExchange(scope, dispatcher, post).head.promise;
}

/** A promise with its settle functions (`Promise.withResolvers`, which Node 20 lacks). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function utf8(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
