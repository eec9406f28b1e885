import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { settlesWithin } from '@app/contracts';
import { ApiKeyRepository } from '@app/db';

/** How often `last_used_at` is written: one UPDATE for every key seen in the interval. */
export const LAST_USED_FLUSH_MS = 15_000;

/**
 * Records that keys were used without a database write per request: keys seen
 * are collected in memory and written in one statement per interval (and on
 * shutdown), so `lastUsedAt` is accurate to about {@link LAST_USED_FLUSH_MS}.
 */
@Injectable()
export class LastUsedTracker implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(LastUsedTracker.name);
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly keys: ApiKeyRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), LAST_USED_FLUSH_MS);
    this.timer.unref();
  }

  /** The last write, for at most SHUTDOWN_TIMEOUT_MS: a database that does not answer must not hold the shutdown. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (!(await settlesWithin(this.flush(), this.config.shutdownTimeoutMs))) {
      this.logger.warn('Could not record the last use of keys: the database did not answer');
    }
  }

  mark(keyId: string): void {
    this.pending.add(keyId);
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const ids = [...this.pending];
    this.pending = new Set();
    try {
      await this.keys.touchLastUsed(ids, new Date());
    } catch (error) {
      this.logger.warn(`Could not record last use of ${ids.length} key(s): ${(error as Error).message}`);
    }
  }
}
