import { Injectable } from '@nestjs/common';
import type { LimitTicket } from '@app/auth';
import type { Usage } from '@app/contracts';
import type { RoutePlan, RouteTarget } from '@app/providers';
import { GatewayMetrics, type TokenUsage, UsageRecorder } from '@app/usage';
import type { RequestContext } from './request-context';

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
}

export const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, cachedTokens: 0 };

/** OpenAI's usage object in our terms. */
export function tokenUsage(usage: Usage | null | undefined): TokenUsage {
  if (!usage) return NO_USAGE;
  return {
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

/**
 * Hands one finished request to the usage pipeline (row, metrics, event) and
 * settles the rate-limit ticket with the actual tokens and cost.
 */
@Injectable()
export class OutcomeReporter {
  constructor(
    private readonly recorder: UsageRecorder,
    private readonly metrics: GatewayMetrics,
  ) {}

  /**
   * {@link report} once the answer has left: after this turn's I/O (`setImmediate`),
   * by when the response written in this turn is on the socket, so the usage
   * pipeline is not on the latency path of a successful answer. The latency is
   * measured now.
   */
  reportAfterResponse(ctx: RequestContext, outcome: Outcome, ticket?: LimitTicket): void {
    const latencyMs = performance.now() - ctx.startedMs;
    setImmediate(() => this.report(ctx, outcome, ticket, latencyMs));
  }

  report(ctx: RequestContext, outcome: Outcome, ticket?: LimitTicket, measuredMs?: number): void {
    const latencyMs = measuredMs ?? performance.now() - ctx.startedMs;
    if (outcome.target && outcome.status < 400) {
      this.metrics.observeUpstream(outcome.target.provider, outcome.target.model, latencyMs, outcome.ttftMs);
    }
    const { costUsd } = this.recorder.record({
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
      usage: outcome.usage,
      latencyMs: Math.round(latencyMs),
      ttftMs: outcome.ttftMs === undefined || outcome.ttftMs === null ? null : Math.round(outcome.ttftMs),
      stream: outcome.stream,
      status: outcome.status,
      errorCode: outcome.errorCode ?? null,
      fallbackCount: outcome.fallbacks,
      retryCount: outcome.retries,
    });
    ticket?.settle({ totalTokens: outcome.usage.promptTokens + outcome.usage.completionTokens, costUsd });
  }
}
