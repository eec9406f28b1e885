import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { LimitTicket } from '@app/auth';
import type { RoutePlan, RouteTarget, SpentUsage } from '@app/providers';
import type { UsageRow } from '@app/db';
import { GatewayMetrics, type TokenUsage, type UsageEvent, UsageRecorder } from '@app/usage';
import type { RequestContext } from './request-context';
import { type DiscardedUsage, splitSpent } from './token-usage';

export interface Outcome {
  plan: RoutePlan;
  target?: RouteTarget;
  modelServed?: string | null;
  usage: TokenUsage;
  status: number;
  errorCode?: string | null;
  fallbacks: number;
  retries: number;
  ttftMs?: number | null;
  stream: boolean;
  /** Failed attempts that consumed tokens (RouteOutcome.spent, RouteFailure.spent): billed too. */
  spent?: readonly SpentUsage[];
}

/**
 * How long the reports of answered requests wait to be handed over together.
 * Run one by one, each right after its response, the same work cost about a
 * tenth of the gateway's CPU per request more (caches cold again each time,
 * measured in the benchmark's A/B), so they are batched for a few milliseconds:
 * the limits are settled with the actual tokens and cost that much later.
 */
export const REPORT_BATCH_MS = 5;

interface PendingReport {
  ctx: RequestContext;
  outcome: Outcome;
  ticket: LimitTicket | undefined;
  latencyMs: number;
}

/**
 * Hands one finished request to the usage pipeline (row, metrics, event) and
 * settles the rate-limit ticket with the actual tokens and cost.
 */
@Injectable()
export class OutcomeReporter implements OnModuleDestroy {
  private readonly logger = new Logger('OutcomeReporter');
  private pending: PendingReport[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly recorder: UsageRecorder,
    private readonly metrics: GatewayMetrics,
  ) {
    // Whoever reads the metrics (a scrape, `/v1/status`) sees every answered request.
    metrics.beforeRead(this.flush);
  }

  /**
   * {@link report} once the answer has left, off its latency path: queued with the
   * reports of the next {@link REPORT_BATCH_MS} ms and handed over with them (at
   * shutdown, and before the metrics are read, at once). The latency is measured now.
   */
  reportAfterResponse(ctx: RequestContext, outcome: Outcome, ticket?: LimitTicket): void {
    const latencyMs = performance.now() - ctx.startedMs;
    this.pending.push({ ctx, outcome, ticket, latencyMs });
    if (this.stopped) setImmediate(this.flush);
    else this.timer ??= setTimeout(this.flush, REPORT_BATCH_MS);
  }

  /** Hands over every queued report now. */
  readonly flush = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (const { ctx, outcome, ticket, latencyMs } of batch) {
      try {
        this.report(ctx, outcome, ticket, latencyMs);
      } catch (error) {
        // Never expected (the recorder never throws); one report must not cost the rest of its batch.
        this.logger.error(`Request ${ctx.requestId} could not be reported: ${String(error)}`);
      }
    }
  };

  /** Before the usage writer's last flush (`beforeApplicationShutdown`): every queued report reaches it. */
  onModuleDestroy(): void {
    this.stopped = true;
    this.flush();
  }

  /**
   * Records the request (its row, metrics, event) and settles its ticket. The tokens of
   * its failed attempts count too: those of its own provider and model in its row, the
   * others in a discarded row per provider and model, priced at their own rates.
   */
  report(ctx: RequestContext, outcome: Outcome, ticket?: LimitTicket, measuredMs?: number): void {
    const latencyMs = measuredMs ?? performance.now() - ctx.startedMs;
    if (outcome.target && outcome.status < 400) {
      this.metrics.observeUpstream(outcome.target.provider, outcome.target.model, latencyMs, outcome.ttftMs);
    }
    let usage = outcome.usage;
    let discarded: DiscardedUsage[] | undefined;
    if (outcome.spent) ({ usage, discarded } = splitSpent(usage, outcome.target, outcome.spent));
    const request: UsageEvent = {
      requestId: ctx.requestId,
      startedAt: ctx.startedAt,
      endpoint: ctx.endpoint,
      teamId: ctx.principal.teamId,
      apiKeyId: ctx.principal.apiKeyId ?? null,
      userId: ctx.principal.userId ?? null,
      agentId: ctx.agentId ?? null,
      sessionId: ctx.sessionId ?? null,
      provider: outcome.target?.provider ?? null,
      modelRequested: outcome.plan.requested,
      modelServed: outcome.modelServed ?? outcome.target?.model ?? null,
      routeAlias: outcome.plan.alias,
      usage,
      latencyMs: Math.round(latencyMs),
      ttftMs: outcome.ttftMs === undefined || outcome.ttftMs === null ? null : Math.round(outcome.ttftMs),
      stream: outcome.stream,
      status: outcome.status,
      errorCode: outcome.errorCode ?? null,
      fallbackCount: outcome.fallbacks,
      retryCount: outcome.retries,
    };
    // The discarded rows first: the request's `generation_completed` lists them.
    let rows: UsageRow[] | undefined;
    let costUsd = 0;
    let totalTokens = usage.promptTokens + usage.completionTokens;
    for (const spent of discarded ?? []) {
      const { row } = this.recorder.record(discardedEvent(request, spent));
      (rows ??= []).push(row);
      costUsd += row.costUsd;
      totalTokens += spent.usage.promptTokens + spent.usage.completionTokens;
    }
    costUsd += this.recorder.record(request, rows).costUsd;
    ticket?.settle({ totalTokens, costUsd });
  }
}

/** The event of tokens a request consumed at another provider or model than its own: billed there, no request. */
function discardedEvent(request: UsageEvent, spent: DiscardedUsage): UsageEvent {
  return {
    ...request,
    provider: spent.target.provider,
    modelServed: spent.target.model,
    usage: spent.usage,
    latencyMs: 0,
    ttftMs: null,
    status: spent.status,
    errorCode: spent.errorCode,
    fallbackCount: 0,
    retryCount: 0,
    discarded: true,
  };
}
