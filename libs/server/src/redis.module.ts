import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@app/config';
import type { ReadinessCheck } from './health.module';

/**
 * Redis when REDIS_URL is set, for state shared by gateway replicas (rate
 * limits, budgets, circuit breakers, key-cache invalidation, events). Features
 * inject {@link RedisConnections} and fall back to memory when `client` is null.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  /** Commands; `null` when REDIS_URL is not set. */
  readonly client: Redis | null;
  private readonly subscribers: Redis[] = [];

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.client = config.redisUrl ? this.connect(config.redisUrl, 'commands') : null;
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  /**
   * A pub/sub channel in this deployment's namespace (REDIS_PREFIX). Keys need no
   * such call: the connections prefix every key themselves (ioredis `keyPrefix`,
   * Lua scripts' KEYS included); channels are not keys.
   */
  channel(name: string): string {
    return this.config.redisPrefix + name;
  }

  /** A new connection for SUBSCRIBE (a subscribed connection can run no other command). */
  createSubscriber(): Redis {
    if (!this.config.redisUrl) throw new Error('Redis is not configured');
    const subscriber = this.connect(this.config.redisUrl, 'subscriber');
    this.subscribers.push(subscriber);
    return subscriber;
  }

  async onApplicationShutdown(): Promise<void> {
    const connections = this.client ? [this.client, ...this.subscribers] : this.subscribers;
    await Promise.all(connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private connect(url: string, role: string): Redis {
    const redis = new Redis(url, {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      connectionName: `llm-gateway:${role}`,
      keyPrefix: this.config.redisPrefix || undefined,
    });
    let reported = false;
    redis.on('error', (error: Error) => {
      if (!reported) this.logger.warn(`Redis ${role} connection error: ${error.message}`);
      reported = true;
    });
    redis.on('ready', () => (reported = false));
    return redis;
  }
}

/** Readiness: Redis answers PING (reported `up` with `enabled: false` when not configured). */
@Injectable()
export class RedisHealthIndicator implements ReadinessCheck {
  constructor(
    private readonly redis: RedisConnections,
    private readonly health: HealthIndicatorService,
  ) {}

  check() {
    const client = this.redis.client;
    return this.health
      .check('redis')
      .attempt(async () => {
        if (!client) return { enabled: false };
        await client.ping();
        return { enabled: true };
      })
      .withTimeout(2_000);
  }
}

@Global()
@Module({
  imports: [TerminusModule],
  providers: [RedisConnections, RedisHealthIndicator],
  exports: [RedisConnections, RedisHealthIndicator],
})
export class RedisModule {}
