import { Injectable } from '@nestjs/common';
import { GatewayEvents } from './events/gateway-events';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { PricingService } from './pricing/pricing.service';
import type { UsageEvent } from './usage-event';
import type { UsageRow } from '@app/db';
import { toUsageRow } from './writer/usage-row';
import { UsageWriter } from './writer/usage-writer';

/**
 * The call the request pipeline makes when a request ends (answered, failed or
 * aborted), once for the request and once for each other provider or model whose
 * discarded answers it consumed: prices the event from the in-memory price list,
 * queues its row, counts it in the metrics and announces `generation_completed`
 * (for the request). Synchronous, no I/O, never throws.
 */
@Injectable()
export class UsageRecorder {
  constructor(
    private readonly pricing: PricingService,
    private readonly writer: UsageWriter,
    private readonly metrics: GatewayMetrics,
    private readonly events: GatewayEvents,
  ) {}

  /**
   * `discarded`: for the request's event, the rows of tokens it consumed elsewhere,
   * recorded just before it, which its `generation_completed` lists.
   */
  record(event: UsageEvent, discarded?: readonly DiscardedRecord[]): { costUsd: number; row: UsageRow } {
    const model = event.modelServed ?? event.modelRequested;
    const costUsd = this.pricing.cost(event.provider, model, event.usage);
    const row = toUsageRow(event, costUsd);
    this.writer.enqueue(row);
    this.metrics.observeUsage(event, row.costUsd);
    // One `generation_completed` per request (it pairs with `generation_started`); a discarded answer is none.
    if (this.events.wanted && !row.discarded) this.announce(row, discarded);
    return { costUsd: row.costUsd, row };
  }

  private announce(row: UsageRow, discarded: readonly DiscardedRecord[] | undefined): void {
    this.events.emit({
      type: 'generation_completed',
      at: new Date().toISOString(),
      requestId: row.requestId,
      data: {
        endpoint: row.endpoint,
        teamId: row.teamId,
        apiKeyId: row.apiKeyId,
        agentId: row.agentId,
        sessionId: row.sessionId,
        provider: row.provider,
        modelRequested: row.modelRequested,
        modelServed: row.modelServed,
        routeAlias: row.routeAlias,
        status: row.status,
        errorCode: row.errorCode,
        stream: row.stream,
        promptTokens: row.promptTokens,
        completionTokens: row.completionTokens,
        cachedTokens: row.cachedTokens,
        totalTokens: row.promptTokens + row.completionTokens,
        costUsd: row.costUsd,
        latencyMs: row.latencyMs,
        ttftMs: row.ttftMs,
        fallbackCount: row.fallbackCount,
        retryCount: row.retryCount,
        // Tokens consumed at other providers or models (their own rows, `discarded: true`); not in the totals above.
        ...(discarded?.length ? { discarded: discarded.map(discardedSummary) } : {}),
      },
    });
  }
}

/** A discarded row as its request's `generation_completed` lists it. */
export type DiscardedRecord = Pick<
  UsageRow,
  'provider' | 'modelServed' | 'status' | 'errorCode' | 'promptTokens' | 'completionTokens' | 'cachedTokens' | 'costUsd'
>;

function discardedSummary(row: DiscardedRecord) {
  return {
    provider: row.provider,
    model: row.modelServed,
    status: row.status,
    errorCode: row.errorCode,
    promptTokens: row.promptTokens,
    completionTokens: row.completionTokens,
    cachedTokens: row.cachedTokens,
    costUsd: row.costUsd,
  };
}
