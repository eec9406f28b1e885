import { describe, expect, it } from 'vitest';
import { GatewayError, unsupportedByProvider } from '@app/contracts';
import { ProviderError, type UpstreamFailure } from '../errors';
import { CircuitBreakers } from './circuit-breaker';
import { LatencyTracker } from './latency-tracker';
import type { RoutePlan, RouteTarget } from './route-plan';
import { RouteFailure, Router, type RouterObserver } from './router';
import { TargetOrder } from './target-order';

const target = (provider: string, weight = 1): RouteTarget => ({ provider, model: `${provider}-model`, weight });
const plan = (strategy: RoutePlan['strategy'], ...providers: string[]): RoutePlan => ({
  requested: 'alias',
  alias: 'alias',
  strategy,
  targets: providers.map((p) => target(p)),
});

function failure(
  reason: UpstreamFailure,
  extra: { retryAfterMs?: number; retryable?: boolean; upstreamStatus?: number } = {},
): ProviderError {
  const code =
    reason === 'timeout' ? 'upstream_timeout' : reason === 'rate_limit' ? 'rate_limit_exceeded' : 'upstream_error';
  return new ProviderError(code, `${reason} failure`, {
    provider: 'p',
    reason,
    retryable: extra.retryable ?? ['rate_limit', 'server', 'connection', 'timeout'].includes(reason),
    retryAfterMs: extra.retryAfterMs,
    upstreamStatus: extra.upstreamStatus,
  });
}

function setup(options: { now?: () => number; observer?: RouterObserver } = {}) {
  const breakers = new CircuitBreakers({ failureThreshold: 3, cooldownMs: 1_000, now: options.now });
  const latency = new LatencyTracker();
  const router = new Router(
    breakers,
    latency,
    new TargetOrder(latency, () => 0.5),
    { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 50 },
    options.observer,
    () => 0,
  );
  return { breakers, latency, router };
}

/** A call that fails per provider with the scripted errors, in order, then succeeds. */
function scripted(script: Record<string, Array<ProviderError | GatewayError>>) {
  const calls: string[] = [];
  const call = async ({ target: t }: { target: RouteTarget }) => {
    calls.push(t.provider);
    const next = script[t.provider]?.shift();
    if (next) throw next;
    return `answer from ${t.provider}`;
  };
  return { calls, call };
}

const signal = new AbortController().signal;

/** A failure of a call through `provider`'s circuit while it is closed, as the router reports one. */
function failThrough(breakers: CircuitBreakers, provider: string): void {
  breakers.recordFailure(provider, breakers.tryAcquire(provider)!);
}

describe('Router', () => {
  it.each<[string, UpstreamFailure, string[], number, number?]>([
    ['retries a 5xx on the same target', 'server', ['a', 'a'], 1],
    ['retries a connection error', 'connection', ['a', 'a'], 1],
    ['retries an upstream’s 408', 'timeout', ['a', 'a'], 1, 408],
    ['moves on when the target did not answer in time (its time is spent)', 'timeout', ['a', 'b'], 0],
    ['retries a 429', 'rate_limit', ['a', 'a'], 1],
    ['moves on after bad credentials without retrying', 'auth', ['a', 'b'], 0],
    ['moves on when the upstream does not know the model', 'not_found', ['a', 'b'], 0],
    ['moves on when the answer cannot be used (invalid JSON after its repair)', 'unusable_answer', ['a', 'b'], 0],
  ])('%s', async (_name, reason, expectedCalls, retries, upstreamStatus) => {
    const { router } = setup();
    const { calls, call } = scripted({ a: [failure(reason, { upstreamStatus })] });
    const outcome = await router.execute(plan('fallback', 'a', 'b'), signal, call);
    expect(calls).toEqual(expectedCalls);
    expect(outcome.retries).toBe(retries);
    expect(outcome.fallbacks).toBe(expectedCalls.at(-1) === 'b' ? 1 : 0);
  });

  it('ends at once on the client’s own mistake and on an abort', async () => {
    for (const reason of ['invalid_request', 'aborted'] as const) {
      const { router } = setup();
      const { calls, call } = scripted({ a: [failure(reason)] });
      await expect(router.execute(plan('fallback', 'a', 'b'), signal, call)).rejects.toBeInstanceOf(RouteFailure);
      expect(calls).toEqual(['a']);
    }
  });

  it('falls back after exhausting retries, reporting retries and fallbacks', async () => {
    const events: string[] = [];
    const { router } = setup({
      observer: {
        retry: (e) => events.push(`retry ${e.target.provider} #${e.attempt}`),
        fallback: (e) => events.push(`fallback ${e.from.provider}->${e.to.provider}`),
      },
    });
    const { calls, call } = scripted({ a: [failure('server'), failure('server'), failure('server')] });
    const outcome = await router.execute(plan('fallback', 'a', 'b'), signal, call);
    expect(calls).toEqual(['a', 'a', 'a', 'b']);
    expect(outcome).toMatchObject({ value: 'answer from b', fallbacks: 1, retries: 2 });
    expect(events).toEqual(['retry a #1', 'retry a #2', 'fallback a->b']);
  });

  it('waits for retry-after, and skips to the next target when it is too long', async () => {
    const { router } = setup();
    const short = scripted({ a: [failure('rate_limit', { retryAfterMs: 30 })] });
    const started = Date.now();
    await router.execute(plan('fallback', 'a', 'b'), signal, short.call);
    expect(Date.now() - started).toBeGreaterThanOrEqual(28);
    expect(short.calls).toEqual(['a', 'a']);

    const long = scripted({ a: [failure('rate_limit', { retryAfterMs: 60_000 })] });
    await router.execute(plan('fallback', 'a', 'b'), signal, long.call);
    expect(long.calls).toEqual(['a', 'b']);

    const overloaded = scripted({
      a: [failure('server', { retryAfterMs: 30 }), failure('server', { retryAfterMs: 60_000 })],
    });
    const again = Date.now();
    await router.execute(plan('fallback', 'a', 'b'), signal, overloaded.call);
    expect(Date.now() - again).toBeGreaterThanOrEqual(28);
    expect(overloaded.calls).toEqual(['a', 'a', 'b']);
  });

  it('opens a failing provider’s circuit, skips it, and closes it after a successful probe', async () => {
    let now = 0;
    const { router, breakers } = setup({ now: () => now });
    const failing = scripted({ a: Array.from({ length: 3 }, () => failure('server', { retryable: false })) });
    for (let i = 0; i < 3; i++) await router.execute(plan('fallback', 'a', 'b'), signal, failing.call);
    expect(breakers.state('a')).toBe('open');

    const skipped = scripted({});
    await router.execute(plan('fallback', 'a', 'b'), signal, skipped.call);
    expect(skipped.calls).toEqual(['b']);

    now = 1_000;
    expect(breakers.state('a')).toBe('half-open');
    const probe = scripted({});
    await router.execute(plan('fallback', 'a', 'b'), signal, probe.call);
    expect(probe.calls).toEqual(['a']);
    expect(breakers.state('a')).toBe('closed');
  });

  it.each([
    [
      'three failures of other calls here',
      (breakers: CircuitBreakers) => {
        for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
      },
    ],
    [
      'another replica',
      (breakers: CircuitBreakers) => {
        breakers.applyRemote({ provider: 'a', state: 'open', openUntil: 1_000 });
      },
    ],
  ])('keeps a circuit open when a call placed before %s opened it succeeds late', async (_name, open) => {
    const { router, breakers } = setup({ now: () => 0 });
    const transitions: string[] = [];
    breakers.onTransition((t) => transitions.push(t.state));
    let answer!: () => void;
    const late = router.execute(
      plan('fallback', 'a'),
      signal,
      () => new Promise<string>((resolve) => (answer = () => resolve('late'))),
    );
    open(breakers);
    answer();
    await expect(late).resolves.toMatchObject({ value: 'late' });
    expect(breakers.state('a')).toBe('open');
    expect(transitions.filter((state) => state !== 'open')).toEqual([]);
    const skipped = scripted({});
    await router.execute(plan('fallback', 'a', 'b'), signal, skipped.call);
    expect(skipped.calls).toEqual(['b']);
  });

  it('leaves a half-open circuit to its probe when a call placed before it opened succeeds meanwhile', async () => {
    let now = 0;
    const { router, breakers } = setup({ now: () => now });
    let answerLate!: () => void;
    const late = router.execute(
      plan('fallback', 'a'),
      signal,
      () => new Promise<string>((resolve) => (answerLate = () => resolve('late'))),
    );
    for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
    now = 1_000;
    let failProbe!: () => void;
    const probe = router.execute(
      plan('fallback', 'a'),
      signal,
      () =>
        new Promise<string>((_resolve, reject) => (failProbe = () => reject(failure('server', { retryable: false })))),
    );
    expect(breakers.state('a')).toBe('half-open');
    answerLate();
    await expect(late).resolves.toMatchObject({ value: 'late' });
    expect(breakers.state('a')).toBe('half-open');
    failProbe();
    await expect(probe).rejects.toBeInstanceOf(RouteFailure);
    expect(breakers.state('a')).toBe('open');
  });

  it('leaves the circuit of a provider that rate-limits closed, and a half-open one to its next probe', async () => {
    let now = 0;
    const { router, breakers } = setup({ now: () => now });
    for (let i = 0; i < 3; i++) {
      const limited = scripted({ a: [failure('rate_limit'), failure('rate_limit'), failure('rate_limit')] });
      await router.execute(plan('fallback', 'a', 'b'), signal, limited.call);
      expect(limited.calls).toEqual(['a', 'a', 'a', 'b']);
    }
    expect(breakers.state('a')).toBe('closed');

    for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
    now = 1_000;
    const probe = scripted({ a: [failure('rate_limit', { retryAfterMs: 60_000 })] });
    await router.execute(plan('fallback', 'a', 'b'), signal, probe.call);
    expect(probe.calls).toEqual(['a', 'b']);
    expect(breakers.state('a')).toBe('half-open');
    const next = scripted({});
    await router.execute(plan('fallback', 'a', 'b'), signal, next.call);
    expect(next.calls).toEqual(['a']);
    expect(breakers.state('a')).toBe('closed');
  });

  it('settles a stream at its end: a failure after the first chunk counts, a client leaving does not', async () => {
    const { router, breakers, latency } = setup();
    const opened = scripted({});
    const streamed = plan('least-latency', 'a');
    for (let i = 0; i < 2; i++) {
      const outcome = await router.executeStream(streamed, signal, opened.call);
      router.settle(outcome, failure('server'));
    }
    const left = await router.executeStream(streamed, signal, opened.call);
    router.settle(left, failure('aborted'));
    expect(breakers.state('a')).toBe('closed');
    // The success of the client that left reset the count: three more failures open the circuit.
    for (const reason of ['connection', 'timeout'] as const) {
      router.settle(await router.executeStream(streamed, signal, opened.call), failure(reason));
    }
    expect(breakers.state('a')).toBe('closed');
    router.settle(await router.executeStream(streamed, signal, opened.call), failure('server'));
    expect(breakers.state('a')).toBe('open');
    expect(latency.p50('a/a-model')).toBe(Number.POSITIVE_INFINITY);
  });

  it('closes a half-open circuit at a streamed probe’s first chunk, on probation until a call succeeds', async () => {
    let now = 0;
    const { router, breakers } = setup({ now: () => now });
    for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
    now = 1_000;
    const probe = await router.executeStream(plan('fallback', 'a', 'b'), signal, scripted({}).call);
    expect(probe.target.provider).toBe('a');
    expect(breakers.state('a')).toBe('closed');
    // Traffic resumes at once, without waiting for the probe's end...
    const meanwhile = scripted({});
    const other = await router.executeStream(plan('fallback', 'a', 'b'), signal, meanwhile.call);
    expect(meanwhile.calls).toEqual(['a']);
    // ...but the probe failing mid-way opens the circuit again at once.
    router.settle(probe, failure('server'));
    expect(breakers.state('a')).toBe('open');
    router.settle(other);
    expect(breakers.state('a')).toBe('open');

    now = 2_000;
    const next = await router.executeStream(plan('fallback', 'a', 'b'), signal, scripted({}).call);
    router.settle(next);
    // A stream that ended well ends the probation: it takes three failures again.
    for (let i = 0; i < 2; i++) failThrough(breakers, 'a');
    expect(breakers.state('a')).toBe('closed');
  });

  it('keeps latency samples only for least-latency plans (a client’s made-up model names must not pile up)', async () => {
    const { router, latency } = setup();
    const unknownModel = scripted({ b: [failure('not_found')] });
    await router.execute(plan('fallback', 'a', 'b'), signal, scripted({}).call);
    await router.execute(plan('fallback', 'b', 'a'), signal, unknownModel.call);
    const stream = await router.executeStream(plan('round-robin', 'c'), signal, scripted({}).call);
    router.settle(stream, failure('server'));
    expect(['a', 'b', 'c'].map((p) => latency.p50(`${p}/${p}-model`))).toEqual([undefined, undefined, undefined]);
    await router.execute(plan('least-latency', 'b', 'a'), signal, scripted({ b: [failure('not_found')] }).call);
    expect([latency.p50('b/b-model'), latency.p50('a/a-model')]).toEqual([
      Number.POSITIVE_INFINITY,
      expect.any(Number),
    ]);
  });

  it('forgets a provider’s circuit and latency samples when told to (reconfigured or deleted)', async () => {
    const { router, breakers, latency } = setup();
    const transitions: string[] = [];
    breakers.onTransition((t) => transitions.push(`${t.provider} ${t.state}`));
    for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
    latency.record('a/a-model', 10);
    latency.record('ab/ab-model', 10);
    breakers.reset('a');
    latency.forgetProvider('a');
    expect(transitions).toEqual(['a open', 'a closed']);
    expect([latency.p50('a/a-model'), latency.p50('ab/ab-model')]).toEqual([undefined, 10]);
    const { calls, call } = scripted({});
    await router.execute(plan('fallback', 'a', 'b'), signal, call);
    expect(calls).toEqual(['a']);
  });

  it('answers 503 when every target’s circuit is open, and when every provider refuses connections', async () => {
    const { router, breakers } = setup();
    for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
    const error = await router
      .execute(plan('fallback', 'a'), signal, scripted({}).call)
      .catch((e: RouteFailure) => e.error);
    expect(error).toMatchObject({ code: 'no_provider_available', status: 503 });

    const down = setup();
    const refused = scripted({
      a: [failure('connection', { retryable: false })],
      b: [failure('connection', { retryable: false })],
    });
    const last = await down.router
      .execute(plan('fallback', 'a', 'b'), signal, refused.call)
      .catch((e: RouteFailure) => e);
    expect(last).toMatchObject({ fallbacks: 1, error: { code: 'no_provider_available', status: 503 } });
  });

  it.each<[string, UpstreamFailure]>([
    ['an upstream that does not know the model', 'not_found'],
    ['an upstream that times out', 'timeout'],
  ])('puts a least-latency target behind a working one after it fails: %s', async (_name, reason) => {
    const { router } = setup();
    const { calls, call } = scripted({ a: Array.from({ length: 30 }, () => failure(reason, { retryable: false })) });
    const fallbacks: number[] = [];
    for (let i = 0; i < 5; i++)
      fallbacks.push((await router.execute(plan('least-latency', 'a', 'b'), signal, call)).fallbacks);
    expect(calls).toEqual(['a', 'b', 'b', 'b', 'b', 'b']);
    expect(fallbacks).toEqual([1, 0, 0, 0, 0]);
  });

  it('keeps the circuit closed on answers that cannot be used: the model is at fault, not the provider', async () => {
    const { breakers, router } = setup();
    const { calls, call } = scripted({ a: Array.from({ length: 5 }, () => failure('unusable_answer')) });
    for (let i = 0; i < 5; i++) await router.execute(plan('fallback', 'a'), signal, call).catch(() => undefined);
    expect(breakers.tryAcquire('a')).toEqual({ probe: false, opening: -1 });
    expect(await router.execute(plan('fallback', 'a'), signal, call)).toMatchObject({ value: 'answer from a' });
    expect(calls).toHaveLength(6);
  });

  it('hands on the tokens of failed attempts that consumed some, with the answer and with the final failure', async () => {
    const usage = (prompt: number) => ({ prompt_tokens: prompt, completion_tokens: 1, total_tokens: prompt + 1 });
    const spentAnswer = (reason: UpstreamFailure, prompt: number) => {
      const error = failure(reason);
      error.usage = usage(prompt);
      return error;
    };
    const { router } = setup();
    const answered = scripted({
      a: [spentAnswer('server', 10), spentAnswer('unusable_answer', 20)],
      b: [failure('server')],
    });
    const outcome = await router.execute(plan('fallback', 'a', 'b'), signal, answered.call);
    expect(answered.calls).toEqual(['a', 'a', 'b', 'b']);
    expect(outcome.spent).toEqual([
      { target: target('a'), usage: usage(10), error: expect.objectContaining({ reason: 'server' }) },
      { target: target('a'), usage: usage(20), error: expect.objectContaining({ reason: 'unusable_answer' }) },
    ]);

    const failed = scripted({ a: [spentAnswer('unusable_answer', 30)], b: [spentAnswer('unusable_answer', 40)] });
    const error = await router.execute(plan('fallback', 'a', 'b'), signal, failed.call).catch((e: RouteFailure) => e);
    expect(error.spent?.map((s) => [s.target.provider, s.usage.prompt_tokens])).toEqual([
      ['a', 30],
      ['b', 40],
    ]);
    const aborted = scripted({ a: [spentAnswer('aborted', 50)] });
    const abort = await router.execute(plan('fallback', 'a', 'b'), signal, aborted.call).catch((e: RouteFailure) => e);
    expect(abort.spent?.map((s) => s.usage.prompt_tokens)).toEqual([50]);

    const clean = await router.execute(plan('fallback', 'a'), signal, scripted({}).call);
    expect(clean.spent).toBeUndefined();
  });

  it('answers with the failure of a target that could serve the request, not a later one’s "cannot serve this"', async () => {
    const cannot = () =>
      new ProviderError('invalid_request_error', 'Provider "b" cannot serve this request', {
        provider: 'b',
        reason: 'unsupported',
        retryable: false,
        status: 400,
      });
    const { router, breakers } = setup();
    const failing = scripted({
      a: [failure('server'), failure('server'), failure('server')],
      b: [cannot()],
    });
    const error = await router.execute(plan('fallback', 'a', 'b'), signal, failing.call).catch((e: RouteFailure) => e);
    expect(failing.calls).toEqual(['a', 'a', 'a', 'b']);
    expect(error).toMatchObject({ fallbacks: 1, target: target('a'), error: { reason: 'server', status: 502 } });
    // The target that cannot take the request is not held against its provider.
    const ticket = breakers.tryAcquire('b');
    expect(ticket).toEqual({ probe: false, opening: -1 });
    breakers.release('b', ticket!);

    // The one that could is skipped (its circuit open): no provider is available.
    for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
    const skipped = await router
      .execute(plan('fallback', 'a', 'b'), signal, scripted({ b: [cannot()] }).call)
      .catch((e: RouteFailure) => e.error);
    expect(skipped).toMatchObject({ code: 'no_provider_available', status: 503 });

    // Alone, "cannot serve this" is the answer.
    const alone = await setup()
      .router.execute(plan('fallback', 'b'), signal, scripted({ b: [cannot()] }).call)
      .catch((e: RouteFailure) => e.error);
    expect(alone).toMatchObject({ reason: 'unsupported', status: 400 });
  });

  it('passes over a target whose adapter refuses what its provider has no place for (a plain 400), to one that can', async () => {
    const refusal = () => unsupportedByProvider('n', 'n > 1 is not supported by this provider');
    const { router, breakers } = setup();
    const served = scripted({ a: [refusal()] });
    const outcome = await router.execute(plan('fallback', 'a', 'b'), signal, served.call);
    expect(served.calls).toEqual(['a', 'b']);
    expect(outcome).toMatchObject({ value: 'answer from b', fallbacks: 1, retries: 0 });
    // Round-robin answers the same whichever target comes first.
    for (let i = 0; i < 4; i++) {
      const turn = scripted({ a: [refusal()] });
      await expect(router.execute(plan('round-robin', 'a', 'b'), signal, turn.call)).resolves.toMatchObject({
        value: 'answer from b',
      });
    }
    // Not held against the provider.
    expect(breakers.state('a')).toBe('closed');
    // When every target refuses, the refusal is the answer; a failure of a target that could serve is, before it.
    const all = await router
      .execute(plan('fallback', 'a', 'b'), signal, scripted({ a: [refusal()], b: [refusal()] }).call)
      .catch((e: RouteFailure) => e.error);
    expect(all).toMatchObject({ code: 'invalid_request_error', status: 400, param: 'n' });
    const masked = await router
      .execute(
        plan('fallback', 'a', 'b'),
        signal,
        scripted({ a: [failure('server', { retryable: false })], b: [refusal()] }).call,
      )
      .catch((e: RouteFailure) => e.error);
    expect(masked).toMatchObject({ reason: 'server', status: 502 });
    // A request malformed for any provider (a plain 400), and anything else the gateway throws, end it at once.
    for (const thrown of [
      new GatewayError('invalid_request_error', 'image_url must be an http(s) URL', { param: 'messages[0]' }),
      new GatewayError('internal_error', 'bug'),
    ]) {
      const ended = scripted({ a: [thrown] });
      const failure = await router
        .execute(plan('fallback', 'a', 'b'), signal, ended.call)
        .catch((e: RouteFailure) => e);
      expect(failure).toBeInstanceOf(RouteFailure);
      expect((failure as RouteFailure).error).toBe(thrown);
      expect(ended.calls).toEqual(['a']);
    }
  });

  it('keeps no latency sample of a target passed over: least-latency routes do not rank it last for it', async () => {
    const { router } = setup();
    const served = scripted({ a: [unsupportedByProvider('n', 'n > 1 is not supported by this provider')] });
    await router.execute(plan('least-latency', 'a', 'b'), signal, served.call);
    expect(served.calls).toEqual(['a', 'b']);
    // Only b was measured: a, never measured, is still tried first (a failure sample would rank it last).
    const next = scripted({});
    await router.execute(plan('least-latency', 'a', 'b'), signal, next.call);
    expect(next.calls).toEqual(['a']);
  });

  it('gives back the ticket of a retry the client left while it waited: a half-open circuit is probed again', async () => {
    let now = 0;
    const { router, breakers } = setup({ now: () => now });
    for (let i = 0; i < 3; i++) failThrough(breakers, 'a');
    now = 1_000;
    const client = new AbortController();
    // The probe is rate-limited; the retry's wait (retry-after 40 ms) is cut short by the client leaving.
    const probe = scripted({ a: [failure('rate_limit', { retryAfterMs: 40 })] });
    const left = router.execute(plan('fallback', 'a'), client.signal, probe.call).catch((e: RouteFailure) => e.error);
    await new Promise((resolve) => setTimeout(resolve, 5));
    client.abort();
    expect(await left).toMatchObject({ status: 499 });
    expect(breakers.state('a')).toBe('half-open');
    // The next call is let through as the probe, and closes the circuit.
    const next = scripted({});
    await expect(router.execute(plan('fallback', 'a'), signal, next.call)).resolves.toMatchObject({
      value: 'answer from a',
    });
    expect(breakers.state('a')).toBe('closed');
  });

  it('keeps a timeout as 504 when it is the last failure', async () => {
    const { router } = setup();
    const slow = scripted({ a: [failure('timeout', { retryable: false })] });
    const error = await router.execute(plan('fallback', 'a'), signal, slow.call).catch((e: RouteFailure) => e.error);
    expect(error).toMatchObject({ code: 'upstream_timeout', status: 504 });
  });
});

describe('TargetOrder', () => {
  it('rotates round-robin routes', () => {
    const order = new TargetOrder(new LatencyTracker());
    const p = plan('round-robin', 'a', 'b', 'c');
    const firsts = Array.from({ length: 6 }, () => order.order(p)[0].provider);
    expect(firsts).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('orders weighted routes in proportion to their weights', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const order = new TargetOrder(new LatencyTracker(), random);
    const p: RoutePlan = { ...plan('weighted'), targets: [target('a', 3), target('b', 1)] };
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 4_000; i++) counts[order.order(p)[0].provider as 'a' | 'b']++;
    expect(counts.a / 4_000).toBeGreaterThan(0.7);
    expect(counts.a / 4_000).toBeLessThan(0.8);
  });

  it('prefers the target with the lowest recent median latency, measuring unknown ones first', () => {
    const latency = new LatencyTracker();
    const order = new TargetOrder(latency);
    const p = plan('least-latency', 'a', 'b', 'c');
    for (const ms of [100, 120, 90]) latency.record('a/a-model', ms);
    for (const ms of [20, 30, 25]) latency.record('b/b-model', ms);
    expect(order.order(p).map((t) => t.provider)).toEqual(['c', 'b', 'a']);
    latency.record('c/c-model', 500);
    expect(order.order(p).map((t) => t.provider)).toEqual(['b', 'a', 'c']);
  });

  it('ranks a least-latency target that failed most of its recent calls last, whatever its answers took', () => {
    const latency = new LatencyTracker();
    const order = new TargetOrder(latency);
    const p = plan('least-latency', 'a', 'b', 'c');
    latency.record('a/a-model', 5);
    latency.recordFailure('a/a-model');
    latency.recordFailure('a/a-model');
    latency.recordFailure('b/b-model');
    latency.record('c/c-model', 900);
    expect(order.order(p).map((t) => t.provider)).toEqual(['c', 'a', 'b']);
    latency.record('a/a-model', 5);
    expect(order.order(p).map((t) => t.provider)).toEqual(['a', 'c', 'b']);
  });

  it('forgets a target not called for a minute, so one ranked last is measured afresh', () => {
    let now = 0;
    const latency = new LatencyTracker(50, 60_000, () => now);
    const order = new TargetOrder(latency);
    const p = plan('least-latency', 'a', 'b');
    latency.recordFailure('a/a-model');
    latency.record('b/b-model', 900);
    now = 59_000;
    latency.record('b/b-model', 900);
    expect(order.order(p).map((t) => t.provider)).toEqual(['b', 'a']);
    now = 61_000;
    // a's failure is past the minute (b was called since): a is unmeasured again, and tried first.
    expect(order.order(p).map((t) => t.provider)).toEqual(['a', 'b']);
    expect(latency.p50('a/a-model')).toBeUndefined();
  });

  it('lets a recovered target win back once its slow samples are a minute old, though fallbacks kept calling it', () => {
    let now = 0;
    const latency = new LatencyTracker(50, 60_000, () => now);
    const order = new TargetOrder(latency);
    const p = plan('least-latency', 'a', 'b');
    for (let i = 0; i < 50; i++) latency.record('a/a-model', 500);
    for (let i = 0; i < 10; i++) latency.record('b/b-model', 100);
    expect(order.order(p).map((t) => t.provider)).toEqual(['b', 'a']);
    // b answers everything; now and then it fails, and the fallback finds a fast again.
    for (now = 10_000; now <= 70_000; now += 10_000) {
      latency.record('b/b-model', 100);
      latency.record('a/a-model', 10);
    }
    expect(order.order(p).map((t) => t.provider)).toEqual(['a', 'b']);
  });
});
