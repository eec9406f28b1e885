import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { settlesWithin } from '@app/contracts';
import { type UsageRow, UsageRepository } from '@app/db';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { USAGE_OPTIONS, type UsageOptions } from '../usage.options';

/** What readiness and the status page report about the writer. */
export interface UsageWriterState {
  queued: number;
  /** When writes started failing; absent while healthy. */
  failingSince?: Date;
  lastError?: string;
}

const DROP_LOG_INTERVAL_MS = 10_000;

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the row is at fault, not the database. */
function isRowError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

/**
 * Writes usage rows off the request path: queued in memory, inserted in
 * batches when a batch fills or every `flushIntervalMs`. While the database
 * fails, rows wait (up to `maxQueue`) and writes are retried with backoff;
 * what does not fit is dropped, counted and logged, never silently. A row the
 * database refuses is isolated by splitting its batch, so it cannot block the
 * others. Graceful shutdown writes everything before the database is released.
 */
@Injectable()
export class UsageWriter implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('UsageWriter');
  private queue: UsageRow[] = [];
  private draining?: Promise<boolean>;
  private timer?: NodeJS.Timeout;
  private scheduled = false;
  private retryDelay = 0;
  private retryAt = 0;
  private failingSince?: number;
  private lastError?: string;
  private stopped = false;
  private drops = { count: 0, loggedAt: 0 };

  constructor(
    private readonly repository: UsageRepository,
    private readonly metrics: GatewayMetrics,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.armTimer();
  }

  /** Queues a row; never waits. `false` when it had to be dropped (queue full or shut down). */
  enqueue(row: UsageRow): boolean {
    if (this.stopped) {
      this.drop('shutdown', `arrived after the final flush (request ${row.requestId})`);
      return false;
    }
    if (this.queue.length >= this.options.maxQueue) {
      this.drop('overflow', `the queue is full (${this.options.maxQueue} rows waiting)`);
      return false;
    }
    this.queue.push(row);
    this.metrics.setUsageQueueDepth(this.queue.length);
    if (this.queue.length >= this.options.batchSize && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.tick();
      });
    }
    return true;
  }

  get state(): UsageWriterState {
    return {
      queued: this.queue.length,
      ...(this.failingSince ? { failingSince: new Date(this.failingSince), lastError: this.lastError } : {}),
    };
  }

  /**
   * Writes everything queued now, ignoring any backoff. Resolves when the
   * queue is empty; rejects with the database's error when a write fails
   * (the rows stay queued).
   */
  async flush(): Promise<void> {
    while (this.queue.length > 0) {
      if (!(await this.drain())) throw new Error(`Usage rows could not be written: ${this.lastError}`);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    const deadline = Date.now() + this.config.shutdownTimeoutMs;
    while (this.queue.length > 0 && !(await this.drainBefore(deadline))) {
      if (Date.now() + this.retryDelay > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, this.retryDelay));
    }
    this.stopped = true;
    const lost = this.queue.length;
    if (lost > 0) {
      this.queue = [];
      this.metrics.countUsageDropped('shutdown', lost);
      this.metrics.setUsageQueueDepth(0);
      this.logger.error(`${lost} usage rows could not be written before shutdown: ${this.lastError}`);
    }
  }

  /**
   * A drain, given up (`false`) when the deadline comes first: a database that
   * does not answer (a partition, not a refusal) must not hold the shutdown.
   */
  private async drainBefore(deadline: number): Promise<boolean> {
    let drained = false;
    const draining = this.drain().then((done) => (drained = done));
    if (await settlesWithin(draining, deadline - Date.now())) return drained;
    this.lastError ??= `the database did not answer within ${this.config.shutdownTimeoutMs} ms`;
    return false;
  }

  private armTimer(): void {
    this.timer = setTimeout(() => {
      this.tick();
      if (this.drops.count > 0) this.drop(undefined, 'the queue was full');
      this.armTimer();
    }, this.options.flushIntervalMs).unref();
  }

  private tick(): void {
    if (this.draining || this.queue.length === 0 || Date.now() < this.retryAt) return;
    void this.drain();
  }

  /** One drain at a time; `true` when the queue emptied, `false` after a failed write. */
  private drain(): Promise<boolean> {
    this.draining ??= this.drainLoop().finally(() => (this.draining = undefined));
    return this.draining;
  }

  private async drainLoop(): Promise<boolean> {
    while (this.queue.length > 0) {
      // Only this loop removes rows, always from the head, so the batch stays put while it is written.
      const batch = this.queue.slice(0, this.options.batchSize);
      try {
        const inserted = await this.writeIsolating(batch);
        this.metrics.countUsageWritten(inserted);
      } catch (error) {
        this.onFailure(error);
        return false;
      }
      this.queue.splice(0, batch.length);
      this.metrics.setUsageQueueDepth(this.queue.length);
      this.onSuccess();
    }
    return true;
  }

  /** Inserts a batch; a batch the database refuses is split until the bad rows are found and dropped. */
  private async writeIsolating(batch: UsageRow[]): Promise<number> {
    try {
      return (await this.repository.insertUsageBatch(batch)).inserted;
    } catch (error) {
      if (!isRowError(error)) throw error;
      if (batch.length === 1) {
        this.metrics.countUsageDropped('rejected');
        this.logger.error(
          `Usage row for request ${batch[0].requestId} refused by the database: ${(error as Error).message}`,
        );
        return 0;
      }
      const half = Math.ceil(batch.length / 2);
      return (await this.writeIsolating(batch.slice(0, half))) + (await this.writeIsolating(batch.slice(half)));
    }
  }

  private onFailure(error: unknown): void {
    this.metrics.countUsageWriteFailure();
    this.lastError = (error as Error)?.message || String(error);
    this.retryDelay = this.retryDelay
      ? Math.min(this.retryDelay * 2, this.options.retryMaxMs)
      : this.options.retryMinMs;
    this.retryAt = Date.now() + this.retryDelay;
    if (this.failingSince === undefined) {
      this.failingSince = Date.now();
      this.logger.warn(`Cannot write usage rows (${this.lastError}); ${this.queue.length} waiting in memory, retrying`);
    }
  }

  private onSuccess(): void {
    if (this.failingSince !== undefined) {
      const seconds = Math.round((Date.now() - this.failingSince) / 1000);
      this.logger.log(`Usage writes recovered after ${seconds} s; ${this.queue.length} rows still queued`);
    }
    this.failingSince = undefined;
    this.lastError = undefined;
    this.retryDelay = 0;
    this.retryAt = 0;
  }

  /** Counts a dropped row (when `reason` is given) and logs the drops at most every 10 s. */
  private drop(reason: 'overflow' | 'shutdown' | undefined, why: string): void {
    if (reason) {
      this.metrics.countUsageDropped(reason);
      this.drops.count++;
    }
    const now = Date.now();
    if (now - this.drops.loggedAt >= DROP_LOG_INTERVAL_MS) {
      this.logger.error(`Dropped ${this.drops.count} usage row(s): ${why}`);
      this.drops = { count: 0, loggedAt: now };
    }
  }
}
