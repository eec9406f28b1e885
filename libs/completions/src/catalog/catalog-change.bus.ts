import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConnections } from '@app/server';

/** What changed: providers (and so possibly the routes naming them) or routes. */
export type CatalogScope = 'providers' | 'routes';

/**
 * A change: of providers or routes (reloaded from the database), or of one
 * provider's model list as an explicit discovery found it (each replica then
 * discovers that provider's models again). `source`, never sent to other
 * processes, lets the publisher skip its own announcement.
 */
export type CatalogChange = { scope: CatalogScope } | { scope: 'models'; provider: string; source?: object };

/** The longest provider name a message may carry (names are far shorter). */
const MAX_PROVIDER_NAME = 200;

const CHANNEL = 'llm-gateway:catalog-changes';
/** Apps in one process (`npm start`: gateway and admin) hear each other at once, Redis or not. */
const localBuses = new Set<CatalogChangeBus>();
/** How long a publisher waits for the reloads of the apps in its own process. */
const LOCAL_DELIVERY_WAIT_MS = 5_000;
/** Identifies this process in Redis messages, so it ignores the echo of what it already delivered. */
const PROCESS_ID = randomUUID();

/**
 * Tells every registry and route table that the admin API changed providers or
 * routes. Delivered in-process immediately; with REDIS_URL also published, so
 * other replicas reload within milliseconds. Without Redis, other processes
 * catch up on their periodic refresh.
 */
@Injectable()
export class CatalogChangeBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('CatalogChanges');
  private readonly listeners = new Set<CatalogListener>();
  private readonly reconnectListeners = new Set<() => void>();
  private subscriber: Redis | undefined;

  constructor(private readonly redis: RedisConnections) {}

  async onModuleInit(): Promise<void> {
    localBuses.add(this);
    if (!this.redis.enabled) return;
    const subscriber = this.redis.createSubscriber();
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.redis.channel(CHANNEL)) return;
      const change = parse(message);
      if (change) void this.deliver(change);
    });
    let connectedBefore = false;
    subscriber.on('ready', () => {
      // Changes published while we were disconnected were lost: have everything reloaded.
      if (connectedBefore) for (const listener of this.reconnectListeners) listener();
      connectedBefore = true;
    });
    // The periodic refresh covers the time until the subscription is made (see `subscribe`).
    await this.redis.subscribe(subscriber, CHANNEL, (reason) =>
      this.logger.warn(`Could not subscribe to catalog changes: ${reason}`),
    );
  }

  onApplicationShutdown(): void {
    localBuses.delete(this);
    // Stops hearing changes without a round trip to Redis, which may not answer; the connection is closed with the others.
    this.subscriber?.removeAllListeners('message');
  }

  /** Registers a listener (which may return the promise of its reload); returns the unsubscribe function. */
  subscribe(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after the Redis subscription comes back from an outage (messages may have been missed). */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  /**
   * Announces a committed change. Resolves once the apps of this process have
   * reloaded (so an admin response means "in effect here"), bounded; never throws:
   * replicas also refresh periodically.
   */
  async publish(change: CatalogChange): Promise<void> {
    const local = Promise.allSettled([...localBuses].map((bus) => bus.deliver(change)));
    await Promise.all([withTimeout(local, LOCAL_DELIVERY_WAIT_MS), this.publishRemote(change)]);
  }

  private async publishRemote(change: CatalogChange): Promise<void> {
    const client = this.redis.client;
    if (!client) return;
    try {
      const message = change.scope === 'models' ? { scope: change.scope, provider: change.provider } : change;
      await client.publish(this.redis.channel(CHANNEL), JSON.stringify({ ...message, origin: PROCESS_ID }));
    } catch (error) {
      this.logger.warn(`Could not publish a catalog change: ${(error as Error).message}`);
    }
  }

  private async deliver(change: CatalogChange): Promise<void> {
    const results = [...this.listeners].map(async (listener) => listener(change));
    for (const result of await Promise.allSettled(results)) {
      if (result.status === 'rejected') {
        this.logger.error(`A catalog change listener failed: ${(result.reason as Error).message}`);
      }
    }
  }
}

export type CatalogListener = (change: CatalogChange) => void | Promise<void>;

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function parse(message: string): CatalogChange | undefined {
  try {
    const value = JSON.parse(message) as { scope?: unknown; origin?: unknown; provider?: unknown };
    if (value.origin === PROCESS_ID) return undefined;
    if (value.scope === 'providers' || value.scope === 'routes') return { scope: value.scope };
    if (value.scope === 'models' && typeof value.provider === 'string' && value.provider.length <= MAX_PROVIDER_NAME) {
      return { scope: 'models', provider: value.provider };
    }
  } catch {
    // not ours
  }
  return undefined;
}
