import { EventEmitter } from 'node:events';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConnections } from '@app/server';

/** Which cached keys to drop: one key, every key of a team, or everything. */
export type KeyInvalidation = { keyId: string } | { teamId: string } | { all: true };

const CHANNEL = 'llm-gateway:key-invalidation';
/** Without Redis, apps in one process (`npm start`) still hear each other at once. */
const localBus = new EventEmitter().setMaxListeners(0);

/**
 * Tells every key cache that keys changed (revoked, team limits edited, team
 * deleted). With REDIS_URL: Redis pub/sub, so every replica hears it within
 * milliseconds; without: an in-process bus, and other processes rely on the
 * cache TTL.
 */
@Injectable()
export class KeyInvalidationBus implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyInvalidationBus.name);
  private readonly listeners = new Set<(event: KeyInvalidation) => void>();
  private subscriber: Redis | undefined;
  private readonly onLocal = (event: KeyInvalidation) => this.deliver(event);

  constructor(private readonly redis: RedisConnections) {}

  async onModuleInit(): Promise<void> {
    // Only processes with a key cache listen (the admin app only publishes).
    if (this.listeners.size === 0) return;
    if (!this.redis.enabled) {
      localBus.on('invalidate', this.onLocal);
      return;
    }
    this.subscriber = this.redis.createSubscriber();
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.redis.channel(CHANNEL)) return;
      const event = parse(message);
      if (event) this.deliver(event);
    });
    // A Redis down or silent at boot must not stop the gateway (see `subscribe`).
    await this.redis.subscribe(this.subscriber, CHANNEL, (reason) =>
      this.logger.warn(
        `Could not subscribe to key invalidations (revocations reach this process within the cache TTL): ${reason}`,
      ),
    );
  }

  onApplicationShutdown(): void {
    localBus.off('invalidate', this.onLocal);
  }

  /** Registers a cache (before module init, e.g. in its constructor); returns the unsubscribe function. */
  subscribe(listener: (event: KeyInvalidation) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(event: KeyInvalidation): Promise<void> {
    const client = this.redis.client;
    if (!client) {
      localBus.emit('invalidate', event);
      return;
    }
    try {
      await client.publish(this.redis.channel(CHANNEL), JSON.stringify(event));
    } catch (error) {
      // The change is stored; replicas will drop the key when their cache entry expires.
      this.logger.warn(`Could not publish a key invalidation: ${(error as Error).message}`);
      this.deliver(event);
    }
  }

  private deliver(event: KeyInvalidation): void {
    for (const listener of this.listeners) listener(event);
  }
}

function parse(message: string): KeyInvalidation | undefined {
  try {
    const value = JSON.parse(message) as Record<string, unknown>;
    if (typeof value.keyId === 'string') return { keyId: value.keyId };
    if (typeof value.teamId === 'string') return { teamId: value.teamId };
    if (value.all === true) return { all: true };
  } catch {
    // not ours
  }
  return undefined;
}
