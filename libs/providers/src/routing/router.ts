import { GatewayError, type Usage } from '@app/contracts';
import { ProviderError } from '../errors';
import type { ClientSignal } from '../provider.interface';
import type { CircuitBreakers, CircuitTicket } from './circuit-breaker';
import type { LatencyTracker } from './latency-tracker';
import { type RoutePlan, type RouteTarget, targetKey } from './route-plan';
import type { TargetOrder } from './target-order';

export interface RetryPolicy {
  /** Retries of one target before moving to the next (0 = no retry). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A `retry-after` longer than this is not waited for: the next target is tried instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 200,
  maxDelayMs: 4_000,
  maxRetryAfterMs: 10_000,
};

export interface AttemptContext {
  target: RouteTarget;
  /** 0 for the first try of this target. */
  attempt: number;
}

/** Hooks for events and metrics; all optional and synchronous. */
export interface RouterObserver {
  retry?(event: { plan: RoutePlan; target: RouteTarget; attempt: number; delayMs: number; error: GatewayError }): void;
  fallback?(event: { plan: RoutePlan; from: RouteTarget; to: RouteTarget; error: GatewayError }): void;
  providerError?(event: { plan: RoutePlan; target: RouteTarget; error: GatewayError }): void;
}

/**
 * The tokens of a failed attempt that the upstream answered all the same (see
 * {@link ProviderError.usage}): billed, so the request's usage must count them.
 */
export interface SpentUsage {
  target: RouteTarget;
  usage: Usage;
  /** Why the attempt failed. */
  error: ProviderError;
}

export interface RouteOutcome<T> {
  value: T;
  target: RouteTarget;
  /** Targets that failed before the one that answered. */
  fallbacks: number;
  retries: number;
  /** How long the answering call took to resolve (for a stream, to its first chunk). */
  latencyMs: number;
  /** Failed attempts that consumed tokens, in order; absent when none did. */
  spent?: SpentUsage[];
  /** The plan ranks its targets by latency: this call is one of the target's samples. */
  measured: boolean;
  /** What the target's circuit let the call through as, to hand back with a stream's end ({@link Router.settle}). */
  ticket: CircuitTicket;
}

/** A failed call, as the router decides what to do next. */
export class RouteFailure extends Error {
  constructor(
    readonly error: GatewayError,
    readonly fallbacks: number,
    readonly retries: number,
    readonly target?: RouteTarget,
    /** Attempts that consumed tokens, the last one included; absent when none did. */
    readonly spent?: SpentUsage[],
  ) {
    super(error.message);
  }
}

type Verdict = 'throw' | 'retry' | 'next';

/**
 * Runs one call over a plan: targets in strategy order, each retried with
 * exponential backoff and full jitter on 429 / 5xx / connection errors (honouring
 * `retry-after`), then the next target; a target that did not answer in time goes
 * straight to the next; targets whose circuit is open are skipped. The client's
 * own mistakes (4xx) and aborts end the call at once.
 */
export class Router {
  constructor(
    private readonly breakers: CircuitBreakers,
    private readonly latency: LatencyTracker,
    private readonly targetOrder: TargetOrder,
    private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    private readonly observer: RouterObserver = {},
    private readonly random: () => number = Math.random,
  ) {}

  /** Runs `call` until a target answers; its answer is a success for the breaker and the latency ranking. */
  execute<T>(
    plan: RoutePlan,
    signal: ClientSignal,
    call: (ctx: AttemptContext) => Promise<T>,
  ): Promise<RouteOutcome<T>> {
    return this.run(plan, signal, call, true);
  }

  /**
   * As {@link execute}, for a stream: `call` resolves with its first chunk, which
   * ends retries and fallbacks, but whether the target answered is known only at
   * the stream's end. The caller reports it with {@link settle}: a stream that
   * fails after its first chunk counts against the provider's circuit. A half-open
   * circuit's probe closes it at its first chunk, on probation (see
   * {@link CircuitBreakers.recordStarted}).
   */
  executeStream<T>(
    plan: RoutePlan,
    signal: ClientSignal,
    call: (ctx: AttemptContext) => Promise<T>,
  ): Promise<RouteOutcome<T>> {
    return this.run(plan, signal, call, false);
  }

  /**
   * How a stream opened by {@link executeStream} ended: without `failure` (or with a
   * client abort, the upstream was answering) a success; with an upstream failure
   * a failure of the provider; anything else (the request's own error, a shutdown)
   * says nothing about the provider.
   */
  settle(outcome: RouteOutcome<unknown>, failure?: unknown): void {
    const { target, ticket } = outcome;
    if (failure === undefined || (failure instanceof ProviderError && failure.reason === 'aborted')) {
      this.succeeded(target, ticket, outcome.latencyMs, outcome.measured);
    } else if (failure instanceof GatewayError && countsAgainstProvider(failure)) {
      this.breakers.recordFailure(target.provider, ticket);
      if (outcome.measured) this.latency.recordFailure(targetKey(target));
    } else {
      this.breakers.release(target.provider, ticket);
    }
  }

  private async run<T>(
    plan: RoutePlan,
    signal: ClientSignal,
    call: (ctx: AttemptContext) => Promise<T>,
    settleNow: boolean,
  ): Promise<RouteOutcome<T>> {
    const targets = this.targetOrder.order(plan);
    // Only least-latency plans read samples; a sample per client-chosen model name would pile up.
    const measured = plan.strategy === 'least-latency';
    let fallbacks = 0;
    let retries = 0;
    let lastError: GatewayError | undefined;
    let lastTarget: RouteTarget | undefined;
    /** The last failure of a target that could take the request: it, not "cannot serve this", is the answer. */
    let lastServable: { error: GatewayError; target: RouteTarget } | undefined;
    let skipped = false;
    let spent: SpentUsage[] | undefined;
    for (const [index, target] of targets.entries()) {
      let ticket = this.breakers.tryAcquire(target.provider);
      if (!ticket) {
        skipped = true;
        continue;
      }
      if (lastError && lastTarget) this.observer.fallback?.({ plan, from: lastTarget, to: target, error: lastError });
      for (let attempt = 0; ; attempt++) {
        const started = performance.now();
        try {
          const value = await call({ target, attempt });
          const latencyMs = performance.now() - started;
          if (settleNow) this.succeeded(target, ticket, latencyMs, measured);
          else this.breakers.recordStarted(target.provider, ticket);
          return { value, target, fallbacks, retries, latencyMs, spent, measured, ticket };
        } catch (thrown) {
          const error = asGatewayError(thrown);
          if (error instanceof ProviderError && error.usage) (spent ??= []).push({ target, usage: error.usage, error });
          const verdict = this.verdict(error, attempt);
          if (countsAgainstProvider(error)) this.breakers.recordFailure(target.provider, ticket);
          else this.breakers.release(target.provider, ticket);
          if (verdict === 'throw') throw new RouteFailure(error, fallbacks, retries, target, spent);
          this.observer.providerError?.({ plan, target, error });
          lastError = error;
          lastTarget = target;
          if (!cannotServe(error)) lastServable = { error, target };
          const next = verdict === 'next' ? undefined : this.breakers.tryAcquire(target.provider);
          if (!next) {
            // A target passed over answered nothing about its speed.
            if (measured && !cannotServe(error)) this.latency.recordFailure(targetKey(target));
            break;
          }
          ticket = next;
          const delayMs = this.backoff(error, attempt);
          this.observer.retry?.({ plan, target, attempt: attempt + 1, delayMs, error });
          retries++;
          if (!(await sleep(delayMs, signal))) {
            // The retry's circuit ticket goes back unused (a half-open circuit's probe would stay taken).
            this.breakers.release(target.provider, ticket);
            throw new RouteFailure(
              new GatewayError('upstream_error', 'Client closed the request', { status: 499 }),
              fallbacks,
              retries,
              target,
              spent,
            );
          }
        }
      }
      if (index < targets.length - 1) fallbacks++;
    }
    // Targets that cannot take the request say nothing of those that could: a failure of one of
    // these is the answer, or, when they were all skipped (circuits open), that none is available.
    const final = lastServable ?? (skipped ? undefined : { error: lastError, target: lastTarget });
    throw new RouteFailure(finalError(plan, final?.error), fallbacks, retries, final?.target, spent);
  }

  private succeeded(target: RouteTarget, ticket: CircuitTicket, latencyMs: number, measured: boolean): void {
    this.breakers.recordSuccess(target.provider, ticket);
    if (measured) this.latency.record(targetKey(target), latencyMs);
  }

  private verdict(error: GatewayError, attempt: number): Verdict {
    if (!(error instanceof ProviderError)) return cannotServe(error) ? 'next' : 'throw';
    switch (error.reason) {
      case 'aborted':
      case 'invalid_request':
        return 'throw';
      case 'not_found':
      case 'auth':
      case 'quota':
      case 'unusable_answer':
      case 'unsupported':
        return 'next';
      case 'timeout':
        // The gateway's own deadline (a route's per-target timeout, the provider's, REQUEST_TIMEOUT_MS):
        // the target had its time, a retry would wait as long again while the upstream may still be
        // generating; the next target is tried. An upstream's own 408 is retried like a 5xx.
        if (error.upstreamStatus === undefined) return 'next';
        return this.retryOrNext(error, attempt);
      case 'rate_limit':
      case 'server':
      case 'connection':
      case 'bad_response':
        return this.retryOrNext(error, attempt);
    }
  }

  private retryOrNext(error: ProviderError, attempt: number): Verdict {
    // A `retry-after` longer than we wait is the upstream's word that a retry now would fail too.
    if ((error.retryAfterMs ?? 0) > this.policy.maxRetryAfterMs) return 'next';
    return error.retryable && attempt < this.policy.maxRetries ? 'retry' : 'next';
  }

  private backoff(error: GatewayError, attempt: number): number {
    const exponential = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** attempt);
    const jittered = Math.round(this.random() * exponential);
    const retryAfter = error instanceof ProviderError ? error.retryAfterMs : undefined;
    return retryAfter !== undefined ? Math.max(retryAfter, jittered) : jittered;
  }
}

function asGatewayError(thrown: unknown): GatewayError {
  if (thrown instanceof GatewayError) return thrown;
  return new GatewayError('upstream_error', thrown instanceof Error ? thrown.message : 'Upstream call failed', {
    cause: thrown,
  });
}

/**
 * Failures that say the provider is unwell, as opposed to the request being wrong
 * or the provider being busy: a 429 is answered by waiting (its `retry-after`) and
 * by the next target, and opening the circuit for it would turn a rate limit of a
 * second into the cooldown's worth of 503s for every client of the provider.
 */
/**
 * The target cannot take this request, which another may: an adapter's refusal of what
 * its provider has no place for (`n` > 1 on Anthropic, token-id prompts on Ollama, a
 * provider without embeddings: `GatewayError.unsupported`), or a ProviderError that
 * says so. The next target is tried; if none can, the last refusal is the answer. Held
 * neither against the provider (nor its latency) nor, while another target failed
 * otherwise, against the request (that failure is the answer). A request malformed for
 * every provider is refused at once by the first target.
 */
function cannotServe(error: GatewayError): boolean {
  return error.unsupported;
}

function countsAgainstProvider(error: GatewayError): boolean {
  if (!(error instanceof ProviderError)) return false;
  return !['aborted', 'invalid_request', 'not_found', 'rate_limit', 'unusable_answer', 'unsupported'].includes(
    error.reason,
  );
}

function finalError(plan: RoutePlan, last: GatewayError | undefined): GatewayError {
  const what = plan.alias ? `route "${plan.alias}"` : `model "${plan.requested}"`;
  if (!last) {
    return new GatewayError(
      'no_provider_available',
      `No provider available for ${what}: every target's circuit is open.`,
      {
        retryAfter: 5,
      },
    );
  }
  if (last instanceof ProviderError && last.reason === 'connection') {
    return new GatewayError('no_provider_available', `No provider available for ${what}: ${last.message}`, {
      cause: last,
    });
  }
  return last;
}

/** Waits `ms`; `false` when the client went away first (the wait is cut short). */
function sleep(ms: number, signal: ClientSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
