import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Redis, ReplyError } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { outcomeWithin, settlesWithin } from '@app/contracts';
import type { ReadinessCheck } from './health.module';

/**
 * After a command failed for want of Redis (not an error Redis replied), how
 * long callers go straight to their fallback, in command timeouts (at least 1 s):
 * 5 s by default.
 */
const QUIET_COMMAND_TIMEOUTS = 10;

/** How long a boot waits for a subscription before going on without it (ioredis subscribes once Redis answers). */
const SUBSCRIBE_WAIT_MS = 2_000;

/**
 * Consecutive command timeouts on a connection that looks open after which it is
 * dropped for a new one: the path to Redis may have lost it (a NAT or load balancer
 * forgetting the flow) while new connections pass.
 */
const TIMEOUTS_BEFORE_RECONNECT = 2;

/** How often subscriber connections, which have no command timeout, are asked for a PONG, in command timeouts (at least 1 s). */
const SUBSCRIBER_PING_COMMAND_TIMEOUTS = 10;

/**
 * Redis when REDIS_URL is set, for state shared by gateway replicas (rate
 * limits, budgets, circuit breakers, key-cache invalidation, events). Features
 * inject {@link RedisConnections} and fall back to memory when `client` is null.
 * Every command fails after REDIS_COMMAND_TIMEOUT_MS, so an outage costs a
 * caller a bounded wait; callers on the request path also ask {@link answering}
 * first and skip Redis while it cannot answer.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  /** Commands; `null` when REDIS_URL is not set. */
  readonly client: Redis | null;
  private readonly subscribers: Redis[] = [];
  /** Until then, {@link answering} is false: a command failed for want of Redis. */
  private quietUntil = 0;
  /** The command connection has been ready once: a later connecting state means Redis went away. */
  private wasReady = false;
  /** Commands timed out in a row on the open command connection (see {@link TIMEOUTS_BEFORE_RECONNECT}). */
  private timeouts = 0;
  private pinger?: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.client = config.redisUrl ? this.connect(config.redisUrl, 'commands') : null;
    this.client?.once('ready', () => (this.wasReady = true));
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  /**
   * Whether a command sent now should get an answer: the connection is not
   * reconnecting after Redis went away (at boot, commands wait for the first
   * connection), and no command failed for want of Redis in the last ten
   * command timeouts (refused, or timed out behind a socket that still looks
   * open). While false, request-path callers use their fallback at once instead
   * of each waiting for a command to fail.
   */
  get answering(): boolean {
    if (!this.client || Date.now() < this.quietUntil) return false;
    return this.client.status === 'ready' || !this.wasReady;
  }

  /**
   * State shared by the replicas when it can be, this process's own otherwise:
   * `shared` while Redis answers, `local` at once while it does not, and
   * `local` when `shared` fails (`onFallback` hears why, to log it). Without
   * Redis, `local` always.
   */
  async sharedOr<T>(
    shared: (client: Redis) => Promise<T>,
    local: () => T | Promise<T>,
    onFallback?: (reason: string) => void,
  ): Promise<T> {
    const client = this.client;
    if (!client) return local();
    if (!this.answering) {
      onFallback?.('it is not answering');
      return local();
    }
    try {
      const result = await shared(client);
      this.timeouts = 0;
      return result;
    } catch (error) {
      this.commandFailed(error);
      onFallback?.((error as Error).message);
      return local();
    }
  }

  /**
   * Tells the connections a command failed: unless Redis itself replied with the
   * error (a script's, say), {@link answering} is false for a while.
   */
  commandFailed(error: unknown): void {
    if (error instanceof ReplyError) return;
    this.quietUntil = Date.now() + Math.max(1_000, QUIET_COMMAND_TIMEOUTS * this.config.redisCommandTimeoutMs);
    const client = this.client;
    if (!client || !isTimeout(error) || client.status !== 'ready') return;
    if (++this.timeouts < TIMEOUTS_BEFORE_RECONNECT) return;
    this.timeouts = 0;
    this.logger.warn('Redis commands time out on an open connection: opening a new one');
    client.disconnect(true);
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
    this.pinger ??= setInterval(() => void this.pingSubscribers(), this.subscriberPingMs()).unref();
    return subscriber;
  }

  private subscriberPingMs(): number {
    return Math.max(1_000, SUBSCRIBER_PING_COMMAND_TIMEOUTS * this.config.redisCommandTimeoutMs);
  }

  /**
   * A subscriber connection only listens, so a path that went silent under it would
   * go unnoticed (no command times out) and its messages (key revocations, changes)
   * would be lost for good: each one that does not answer a PING within two command
   * timeouts (at least a second) is dropped for a new one, which subscribes again.
   */
  private async pingSubscribers(): Promise<void> {
    const waitMs = Math.max(1_000, 2 * this.config.redisCommandTimeoutMs);
    await Promise.all(
      this.subscribers
        .filter((subscriber) => subscriber.status === 'ready')
        .map(async (subscriber) => {
          const outcome = await outcomeWithin(subscriber.ping(), waitMs);
          if (outcome.state !== 'late' || subscriber.status !== 'ready') return;
          this.logger.warn('A Redis subscriber connection stopped answering: opening a new one');
          subscriber.disconnect(true);
        }),
    );
  }

  /**
   * Subscribes a {@link createSubscriber} connection to `channel` (namespaced here),
   * waiting at most `timeoutMs`. A subscriber connection has no command timeout, so
   * behind a Redis that accepts connections and never answers a plain `subscribe`
   * would hold the boot for good; this goes on after the wait, or at once when Redis
   * refuses, telling `onFailure` why. ioredis keeps the subscription and sends it
   * (again) whenever the connection is (re)established.
   */
  async subscribe(
    subscriber: Redis,
    channel: string,
    onFailure: (reason: string) => void,
    timeoutMs = SUBSCRIBE_WAIT_MS,
  ): Promise<void> {
    const outcome = await outcomeWithin(subscriber.subscribe(this.channel(channel)), timeoutMs);
    if (outcome.state === 'rejected') onFailure((outcome.error as Error).message);
    else if (outcome.state === 'late') onFailure(`Redis did not answer within ${timeoutMs} ms`);
  }

  /** Closes every connection: politely (QUIT) when Redis answers within a command timeout, else at once. */
  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.pinger);
    const connections = this.client ? [this.client, ...this.subscribers] : this.subscribers;
    await Promise.all(
      connections.map(async (c) => {
        await settlesWithin(c.quit(), this.config.redisCommandTimeoutMs);
        c.disconnect();
      }),
    );
  }

  private connect(url: string, role: 'commands' | 'subscriber'): Redis {
    const redis = new Redis(url, {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      // A subscription waits as long as it takes: ioredis subscribes again after every reconnect.
      ...(role === 'commands' ? { commandTimeout: this.config.redisCommandTimeoutMs } : {}),
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

/** Whether a command failed by ioredis's `commandTimeout` (no answer in time), not by an error. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
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
        // A ping that times out counts as any command's does (see `RedisConnections.commandFailed`).
        await client.ping().catch((error: unknown) => {
          this.redis.commandFailed(error);
          throw error;
        });
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
