import type { CallContext } from '../provider.interface';

/** Headroom so the SDK's own timer never fires before ours. */
const SDK_TIMEOUT_SLACK_MS = 1_000;
/** The SDKs' default when nothing is configured. */
export const DEFAULT_SDK_TIMEOUT_MS = 600_000;

/**
 * One upstream call's abort signal: aborted when the client aborts or when the
 * timeout elapses, remembering which, so errors can be told apart afterwards.
 * `touch()` restarts the timer (streams: the timeout bounds silence, not length).
 */
export class CallScope {
  readonly signal: AbortSignal;
  /** Per-request timeout to hand the SDK: ours plus slack, or its default. */
  readonly sdkTimeoutMs: number;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private expired = false;
  private readonly onClientAbort = (): void => this.controller.abort(this.call.signal.reason);

  constructor(
    private readonly call: CallContext,
    private readonly timeoutMs: number | undefined,
  ) {
    this.signal = this.controller.signal;
    this.sdkTimeoutMs = timeoutMs === undefined ? DEFAULT_SDK_TIMEOUT_MS : timeoutMs + SDK_TIMEOUT_SLACK_MS;
    if (call.signal.aborted) this.controller.abort(call.signal.reason);
    else call.signal.addEventListener('abort', this.onClientAbort, { once: true });
    this.touch();
  }

  get clientAborted(): boolean {
    return this.call.signal.aborted;
  }

  get timedOut(): boolean {
    return this.expired && !this.call.signal.aborted;
  }

  get requestId(): string {
    return this.call.requestId;
  }

  touch(): void {
    if (this.timeoutMs === undefined || this.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new Error(`upstream timed out after ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    this.timer.unref();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.call.signal.removeEventListener('abort', this.onClientAbort);
  }
}

export function openScope(call: CallContext, defaultTimeoutMs: number | undefined): CallScope {
  return new CallScope(call, call.timeoutMs ?? defaultTimeoutMs);
}
