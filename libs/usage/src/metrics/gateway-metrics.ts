import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { CircuitState } from '../status/provider-catalog';
import type { UsageEvent } from '../usage-event';
import { MetricLabels, OTHER } from './metric-labels';
import { SeriesCounter, SeriesHistogram } from './series';

const PREFIX = 'llm_gateway_';
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };
/** Routes the pipeline reports; anything else is `other`. */
const ROUTE = /^[a-z][a-z0-9_.:/-]{0,47}$/;

/** Totals since start, for `/v1/status`. */
export interface RequestTotals {
  total: number;
  errors: number;
  inFlight: number;
}

/**
 * The gateway's Prometheus metrics, in a registry of their own (never the
 * global one, so two apps in a process do not collide). The request pipeline
 * reports through the methods below; usage counters are fed by UsageRecorder.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly totals = { total: 0, errors: 0, inFlight: 0 };
  /** Work that feeds these metrics late (batched request reports), done before they are read. */
  private readonly feeders: Array<() => void> = [];

  // What every request updates is counted by series (series.ts): prom-client's own updates cost 6% of a request.
  private readonly requests = this.seriesCounter(
    'requests_total',
    'Requests finished, by route, status, provider and model',
    ['route', 'status', 'provider', 'model'],
  );
  /** In-flight requests per route, counted here and read by the gauge at scrape time (a gauge update per request cost two label hashes). */
  private readonly inFlightByRoute = new Map<string, number>();
  private readonly inFlight = new Gauge({
    name: `${PREFIX}requests_in_flight`,
    help: 'Requests being served, by route',
    labelNames: ['route'],
    registers: [this.registry],
    collect: () => {
      for (const [route, count] of this.inFlightByRoute) this.inFlight.set({ route }, count);
    },
  });
  private readonly duration = this.seriesHistogram(
    'request_duration_seconds',
    'End-to-end request latency, by route and provider',
    ['route', 'provider'],
    LATENCY_BUCKETS,
  );
  private readonly upstreamLatency = this.seriesHistogram(
    'upstream_latency_seconds',
    'Upstream call latency, by provider and model',
    ['provider', 'model'],
    LATENCY_BUCKETS,
  );
  private readonly ttft = this.seriesHistogram(
    'time_to_first_token_seconds',
    'Time from the upstream call to its first streamed token, by provider and model',
    ['provider', 'model'],
    TTFT_BUCKETS,
  );
  private readonly tokens = this.seriesCounter(
    'tokens_total',
    'Tokens, by provider, model and type (prompt, completion, cached)',
    ['provider', 'model', 'type'],
  );
  private readonly cost = this.seriesCounter('cost_usd_total', 'Cost in USD, by provider and model', [
    'provider',
    'model',
  ]);
  private readonly retries = this.counter('upstream_retries_total', 'Upstream retries, by provider', ['provider']);
  private readonly fallbacks = this.counter(
    'fallbacks_total',
    'Fallbacks to another target, by provider left and provider tried',
    ['from', 'to'],
  );
  private readonly circuit = this.gauge(
    'circuit_state',
    'Circuit breaker per provider: 0 closed, 1 half-open, 2 open',
    ['provider'],
  );
  private readonly queueDepth = this.gauge('usage_queue_depth', 'Usage rows waiting to be written');
  private readonly rowsWritten = this.counter('usage_rows_written_total', 'Usage rows inserted');
  private readonly rowsDropped = this.counter(
    'usage_rows_dropped_total',
    'Usage rows lost, by reason (overflow, rejected, shutdown)',
    ['reason'],
  );
  private readonly writeFailures = this.counter('usage_write_failures_total', 'Failed usage batch writes (retried)');
  private readonly subscribers = this.gauge('event_subscribers', 'Open event stream connections');
  private readonly slowSubscribers = this.counter(
    'event_subscribers_dropped_total',
    'Event stream connections dropped for not keeping up',
  );
  private readonly httpRequests = this.seriesCounter(
    'http_requests_total',
    'HTTP requests, by method, matched route and status',
    ['method', 'route', 'status'],
  );

  constructor(private readonly labels: MetricLabels) {
    collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Prometheus text exposition. */
  render(): Promise<string> {
    this.catchUp();
    return this.registry.metrics();
  }

  /** Registers work that reports into these metrics late, to be done before they are read. */
  beforeRead(feed: () => void): void {
    this.feeders.push(feed);
  }

  /** Marks a request in flight; call the returned function (once) when it ends. */
  requestStarted(route: string): () => void {
    const label = routeLabel(route);
    this.inFlightByRoute.set(label, (this.inFlightByRoute.get(label) ?? 0) + 1);
    this.totals.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlightByRoute.set(label, (this.inFlightByRoute.get(label) ?? 1) - 1);
      this.totals.inFlight--;
    };
  }

  observeUpstream(provider: string, model: string, latencyMs: number, ttftMs?: number | null): void {
    const labels = { provider: this.labels.provider(provider), model: this.labels.model(model) };
    this.upstreamLatency.observe(labels, seconds(latencyMs));
    if (ttftMs !== undefined && ttftMs !== null) this.ttft.observe(labels, seconds(ttftMs));
  }

  countRetry(provider: string): void {
    this.retries.inc({ provider: this.labels.provider(provider) });
  }

  countFallback(from: string, to: string): void {
    this.fallbacks.inc({ from: this.labels.provider(from), to: this.labels.provider(to) });
  }

  setCircuitState(provider: string, state: CircuitState): void {
    this.circuit.set({ provider: this.labels.provider(provider) }, CIRCUIT_VALUE[state] ?? 0);
  }

  /** One finished request (UsageRecorder): request, token and cost counters. */
  observeUsage(event: UsageEvent, costUsd: number): void {
    const provider = this.labels.provider(event.provider);
    const model = this.labels.model(event.modelServed, event.modelRequested);
    // Discarded answers' tokens are counted where they were spent; their request is counted by its own event.
    if (!event.discarded) {
      const route = routeLabel(event.endpoint);
      this.requests.inc({ route, status: statusLabel(event.status), provider, model });
      this.duration.observe({ route, provider }, seconds(event.latencyMs));
      this.totals.total++;
      if (event.status >= 400) this.totals.errors++;
    }
    const { promptTokens, completionTokens, cachedTokens } = event.usage;
    if (promptTokens > 0) this.tokens.inc({ provider, model, type: 'prompt' }, promptTokens);
    if (completionTokens > 0) this.tokens.inc({ provider, model, type: 'completion' }, completionTokens);
    if (cachedTokens > 0) this.tokens.inc({ provider, model, type: 'cached' }, cachedTokens);
    if (costUsd > 0) this.cost.inc({ provider, model }, costUsd);
  }

  setUsageQueueDepth(rows: number): void {
    this.queueDepth.set(rows);
  }

  countUsageWritten(rows: number): void {
    this.rowsWritten.inc(rows);
  }

  countUsageDropped(reason: 'overflow' | 'rejected' | 'shutdown', rows = 1): void {
    this.rowsDropped.inc({ reason }, rows);
  }

  countUsageWriteFailure(): void {
    this.writeFailures.inc();
  }

  setEventSubscribers(count: number): void {
    this.subscribers.set(count);
  }

  countSlowSubscriberDropped(): void {
    this.slowSubscribers.inc();
  }

  /** Every HTTP request, by its route pattern (never the raw path). */
  observeHttp(method: string, route: string | undefined, status: number): void {
    this.httpRequests.inc({ method: methodLabel(method), route: route ?? 'unmatched', status: statusLabel(status) });
  }

  requestTotals(): RequestTotals {
    this.catchUp();
    return { ...this.totals };
  }

  private catchUp(): void {
    for (const feed of this.feeders) feed();
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name: `${PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  private seriesCounter<L extends string>(name: string, help: string, labelNames: readonly L[]): SeriesCounter<L> {
    return new SeriesCounter({ name: `${PREFIX}${name}`, help, labelNames, registry: this.registry });
  }

  private seriesHistogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ): SeriesHistogram<L> {
    return new SeriesHistogram({ name: `${PREFIX}${name}`, help, labelNames, buckets, registry: this.registry });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return new Gauge({ name: `${PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }
}

function seconds(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms / 1000 : 0;
}

function routeLabel(route: string): string {
  return ROUTE.test(route) ? route : OTHER;
}

function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

function methodLabel(method: string): string {
  return METHODS.has(method) ? method : OTHER;
}
