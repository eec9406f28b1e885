import { Inject, Injectable, Logger } from '@nestjs/common';
import { platformVersion } from '@app/config';
import { type SessionCounts, UsageRepository } from '@app/db';
import { GatewayMetrics, type RequestTotals } from '../metrics/gateway-metrics';
import { USAGE_OPTIONS, type UsageOptions } from '../usage.options';
import { ProviderCatalog, type ProviderSource, type ProviderStatus } from './provider-catalog';

/** `GET /v1/status`. */
export interface GatewayStatus {
  status: 'ok';
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  /** This replica's requests since it started. */
  requests: RequestTotals;
  /** Stored conversations (`null` when the database could not be asked). */
  sessions: SessionCounts | null;
  providers: ProviderStatus[];
}

/**
 * What `/v1/status` shows. The provider registry plugs in with
 * {@link registerProviderSource}; the session count is cached so polling the
 * status page does not load the database.
 */
@Injectable()
export class StatusService {
  private readonly logger = new Logger('StatusService');
  private readonly startedAt = new Date();
  private sessions?: { at: number; value: Promise<SessionCounts | null> };

  constructor(
    private readonly catalog: ProviderCatalog,
    private readonly metrics: GatewayMetrics,
    private readonly usage: UsageRepository,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
  ) {}

  /** Adds a source of provider states (the provider registry); returns the function that removes it. */
  registerProviderSource(source: ProviderSource): () => void {
    return this.catalog.register(source);
  }

  async status(): Promise<GatewayStatus> {
    return {
      status: 'ok',
      version: platformVersion(),
      startedAt: this.startedAt.toISOString(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt.getTime()) / 1000),
      requests: this.metrics.requestTotals(),
      sessions: await this.sessionCounts(),
      providers: this.catalog.list(),
    };
  }

  private sessionCounts(): Promise<SessionCounts | null> {
    const now = Date.now();
    if (!this.sessions || now - this.sessions.at > this.options.statusCacheMs) {
      const value = this.usage.countSessions().catch((error: Error) => {
        this.logger.warn(`Could not count sessions: ${error.message}`);
        this.sessions = undefined;
        return null;
      });
      this.sessions = { at: now, value };
    }
    return this.sessions.value;
  }
}
