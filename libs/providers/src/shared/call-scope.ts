import { EventEmitter } from 'node:events';
import type { CallContext } from '../provider.interface';

/** Headroom so the SDK's own timer never fires before ours. */
const SDK_TIMEOUT_SLACK_MS = 1_000;
/** The SDKs' default when nothing is configured. */
export const DEFAULT_SDK_TIMEOUT_MS = 600_000;

/**
 * One upstream call's abort signal: aborted when the client aborts or when the
 * timeout elapses, remembering which, so errors can be told apart afterwards.
 * `touch()` restarts the timer (streams: the timeout bounds the upstream's silence,
 * not the stream's length; any bytes it sends count, SSE comments and pings too).
 * While the gateway's client reads more slowly than the answer comes
 * ({@link ClientSignal.clientBehind}), the timer does not run out.
 */
export class CallScope {
  /**
   * The call's abort as the hot path's exchanges (`shared/exchange.ts`) and
   * undici's `request` read it: an EventEmitter with `aborted` and `reason`, at a
   * fraction of the cost of an `AbortSignal` (which Node 20 also tenures).
   */
  readonly requestSignal = new RequestSignal();
  /** Per-request timeout to hand the SDK: ours plus slack, or its default. */
  readonly sdkTimeoutMs: number;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** `performance.now()` by which the call must show activity. */
  private deadline = 0;
  private expired = false;
  /** Set by {@link complete}. */
  private completed = false;
  /** `performance.now()` since which the client has been behind with nothing from the upstream read meanwhile. */
  private behindSince: number | undefined;
  private readonly onClientAbort = (): void => this.abort(this.call.signal.reason);

  constructor(
    private readonly call: CallContext,
    private readonly timeoutMs: number | undefined,
  ) {
    this.sdkTimeoutMs = timeoutMs === undefined ? DEFAULT_SDK_TIMEOUT_MS : timeoutMs + SDK_TIMEOUT_SLACK_MS;
    if (call.signal.aborted) this.abort(call.signal.reason);
    else call.signal.addEventListener('abort', this.onClientAbort, { once: true });
    this.touch();
  }

  /** The call's `AbortSignal` (for the SDKs and `fetch`), made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.requestSignal.aborted) this.controller.abort(this.requestSignal.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.requestSignal.aborted;
  }

  /** Why the call was aborted (the client's reason, or the timeout error). */
  get reason(): unknown {
    return this.requestSignal.reason;
  }

  get clientAborted(): boolean {
    return this.call.signal.aborted;
  }

  get timedOut(): boolean {
    return this.expired && !this.call.signal.aborted;
  }

  /** Ended after its answer was whole (see {@link complete}): what the call read is the answer, not a failure. */
  get endedWhole(): boolean {
    return this.completed && this.timedOut;
  }

  get requestId(): string {
    return this.call.requestId;
  }

  /** `x-gateway-hops`, as the header's text. */
  get hops(): string {
    return String(this.call.hops ?? 1);
  }

  /**
   * The answer is whole (a stream's `[DONE]`): the rest of the response (its end) is
   * waited for `graceMs` at most, whatever the timeout, and activity no longer extends
   * the wait. Past it, the call is aborted as timed out ({@link timedOut}), which the
   * caller, knowing the answer was whole, takes for its end.
   */
  complete(graceMs: number): void {
    if (this.aborted || this.completed) return;
    this.completed = true;
    this.deadline = performance.now() + graceMs;
    clearTimeout(this.timer);
    this.arm(graceMs);
  }

  touch(): void {
    this.behindSince = undefined;
    if (this.timeoutMs === undefined || this.aborted || this.completed) return;
    // One timer per call, re-armed for the remainder when it fires after activity:
    // a stream touches this for every chunk it reads, and a timer per chunk cost more than the rest of the relay.
    this.deadline = performance.now() + this.timeoutMs;
    if (this.timer === undefined) this.arm(this.timeoutMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.call.signal.removeEventListener('abort', this.onClientAbort);
  }

  /** A full timeout from `now`, without counting as activity. */
  private rearm(now: number): void {
    const ms = this.timeoutMs ?? 0;
    this.deadline = now + ms;
    this.arm(ms);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.onTimer, ms);
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.aborted) return;
    const left = this.deadline - performance.now();
    if (left >= 1) return this.arm(left);
    // The gateway's own client holds the stream back: not the upstream's silence. A client that reads
    // nothing for long (see `stallAllowance`) is given up on (its leaving, not the upstream's fault).
    if (this.call.signal.clientBehind === true && !this.completed) {
      const now = performance.now();
      this.behindSince ??= now;
      if (now - this.behindSince < stallAllowance(this.timeoutMs ?? 0)) return this.rearm(now);
      const signal = this.call.signal;
      if (signal.giveUp) {
        // Closing the client's connection aborts its signal, and this call with it.
        signal.giveUp();
        return this.rearm(now);
      }
    }
    this.expired = true;
    this.abort(new Error(this.completed ? 'the answer was whole' : `upstream timed out after ${this.timeoutMs} ms`));
  };

  private abort(reason: unknown): void {
    const signal = this.requestSignal;
    if (signal.aborted) return;
    signal.aborted = true;
    signal.reason = reason;
    this.controller?.abort(reason);
    signal.emit('abort');
  }
}

/** What an exchange (or undici's `request`) reads of a signal: `aborted`, `reason` and the `abort` event. */
class RequestSignal extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
}

/**
 * How long a client may read nothing while its stream waits for it: five times the
 * upstream's allowed silence, at most five minutes unless the timeout is longer.
 */
function stallAllowance(timeoutMs: number): number {
  return Math.max(timeoutMs, Math.min(5 * timeoutMs, 300_000));
}

export function openScope(call: CallContext, defaultTimeoutMs: number | undefined): CallScope {
  return new CallScope(call, call.timeoutMs ?? defaultTimeoutMs);
}
