import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { CHANNELS, UsagePubSub } from '../pubsub';
import type { GatewayEvent } from '../usage-event';

export type GatewayEventListener = (event: GatewayEvent) => void;

interface WireMessage {
  /** The replica that emitted the event. */
  origin: string;
  event: GatewayEvent;
}

/**
 * The gateway's event bus (`GET /v1/events/stream` reads it). Listeners in this
 * replica get every event synchronously; with Redis each replica also publishes
 * its events and delivers those of the others, never its own twice.
 * Emitting never throws and never waits.
 */
@Injectable()
export class GatewayEvents implements OnModuleInit {
  private readonly logger = new Logger('GatewayEvents');
  private readonly listeners = new Set<GatewayEventListener>();
  /** Identifies this replica's messages on the shared channel. */
  readonly replicaId = randomUUID();

  constructor(private readonly pubsub: UsagePubSub) {}

  async onModuleInit(): Promise<void> {
    await this.pubsub.subscribeRemote(CHANNELS.events, (message) => this.onRemote(message));
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Whether an emitted event reaches anyone (a listener here, or other replicas): callers on the hot path skip building it otherwise. */
  get wanted(): boolean {
    return this.listeners.size > 0 || this.pubsub.redisEnabled;
  }

  emit(event: GatewayEvent): void {
    this.deliver(event);
    if (this.pubsub.redisEnabled) {
      const message: WireMessage = { origin: this.replicaId, event };
      this.pubsub.publishRemote(CHANNELS.events, JSON.stringify(message));
    }
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: GatewayEventListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private onRemote(raw: string): void {
    let message: WireMessage;
    try {
      message = JSON.parse(raw) as WireMessage;
    } catch {
      return;
    }
    if (message.origin === this.replicaId || typeof message.event?.type !== 'string') return;
    this.deliver(message.event);
  }

  private deliver(event: GatewayEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn(`An event listener failed: ${(error as Error).message}`);
      }
    }
  }
}
