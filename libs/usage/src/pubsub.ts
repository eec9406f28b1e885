import { EventEmitter } from 'node:events';
import { Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisConnections } from '@app/server';

/** Channel names, prefixed so the gateway can share a Redis with other software. */
export const CHANNELS = {
  events: 'llm-gateway:events',
  pricing: 'llm-gateway:pricing-changed',
} as const;

// Both apps run in one process on the embedded database: they hear each other through this.
const processBus = new EventEmitter().setMaxListeners(0);

/**
 * Publish/subscribe between the Nest apps of this process and, when REDIS_URL
 * is set, every replica. One subscriber connection per app carries all channels.
 * Publishing never waits and never queues while Redis is away or not
 * answering: what goes over it is best-effort notification.
 */
@Injectable()
export class UsagePubSub {
  private readonly logger = new Logger('UsagePubSub');
  private subscriber?: Redis;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();

  constructor(private readonly redis: RedisConnections) {}

  get redisEnabled(): boolean {
    return this.redis.enabled;
  }

  /** Sends to other replicas (Redis) only. */
  publishRemote(channel: string, message: string): void {
    const client = this.redis.client;
    if (!client || client.status !== 'ready' || !this.redis.answering) return;
    client.publish(this.redis.channel(channel), message).catch((error: Error) => {
      this.redis.commandFailed(error);
      this.logger.debug(`publish failed: ${error.message}`);
    });
  }

  /** Sends to the other apps of this process only. */
  publishLocal(channel: string, message: string): void {
    processBus.emit(channel, message);
  }

  /** Listens on this process's bus; returns the unsubscribe function. */
  subscribeLocal(channel: string, handler: (message: string) => void): () => void {
    processBus.on(channel, handler);
    return () => void processBus.off(channel, handler);
  }

  /**
   * Listens on a Redis channel (no-op without Redis). Resolves once subscribed,
   * or after a while, so an unreachable Redis never holds up the boot
   * ({@link RedisConnections.subscribe}).
   */
  async subscribeRemote(channel: string, handler: (message: string) => void): Promise<void> {
    if (!this.redis.enabled) return;
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    const subscriber = this.connection();
    await this.redis.subscribe(subscriber, channel, (reason) => this.logger.warn(`subscribe ${channel}: ${reason}`));
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.redis.createSubscriber();
    const namespace = this.redis.channel('');
    subscriber.on('message', (namespaced: string, message: string) => {
      const channel = namespaced.slice(namespace.length);
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch (error) {
          this.logger.warn(`handler for ${channel} failed: ${(error as Error).message}`);
        }
      }
    });
    this.subscriber = subscriber;
    return subscriber;
  }
}
