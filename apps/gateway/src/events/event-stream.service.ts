import type { Server } from 'node:http';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Response } from 'express';
import {
  type GatewayEvent,
  type GatewayEventType,
  GatewayEvents,
  GatewayMetrics,
  USAGE_OPTIONS,
  type UsageOptions,
} from '@app/usage';

interface Subscriber {
  res: Response;
  close(): void;
}

/** How often open streams check whether the server has stopped accepting (graceful shutdown). */
const SHUTDOWN_POLL_MS = 200;

/** One SSE event: the whole event as a single `data:` line (JSON has no raw newlines). */
export function sseFrame(id: number, event: GatewayEvent): string {
  return `id: ${id}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The open `GET /v1/events/stream` connections. Each gets the bus's events as
 * SSE plus a heartbeat comment. A subscriber that leaves more than
 * `eventBufferBytes` unread is disconnected, so a slow reader costs the
 * gateway a bounded buffer and never slows it down. When the server stops
 * accepting (graceful shutdown) the streams end, so shutdown does not wait on them.
 */
@Injectable()
export class EventStreamService implements OnModuleDestroy {
  private readonly subscribers = new Set<Subscriber>();
  private shutdownWatch?: NodeJS.Timeout;

  constructor(
    private readonly events: GatewayEvents,
    private readonly metrics: GatewayMetrics,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
  ) {}

  get size(): number {
    return this.subscribers.size;
  }

  open(res: Response, types: ReadonlySet<GatewayEventType> | null): void {
    res.status(200);
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    // A HEAD request gets the head alone: a response without a body ends there (the next request on its connection waits for it).
    if (res.req.method === 'HEAD') return void res.end();
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    res.write(`retry: 3000\n: connected\n\n`);

    let sequence = 0;
    let closed = false;
    const subscriber: Subscriber = {
      res,
      close: () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(heartbeat);
        this.subscribers.delete(subscriber);
        this.metrics.setEventSubscribers(this.subscribers.size);
      },
    };
    const unsubscribe = this.events.subscribe((event) => {
      if (!types || types.has(event.type)) this.send(subscriber, sseFrame(++sequence, event));
    });
    const heartbeat = setInterval(
      () => this.send(subscriber, `: heartbeat ${new Date().toISOString()}\n\n`),
      this.options.heartbeatMs,
    );
    res.once('close', () => subscriber.close());
    this.subscribers.add(subscriber);
    this.metrics.setEventSubscribers(this.subscribers.size);
    this.watchShutdown();
  }

  onModuleDestroy(): void {
    this.endAll();
  }

  private send(subscriber: Subscriber, chunk: string): void {
    const { res } = subscriber;
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength + chunk.length > this.options.eventBufferBytes) {
      this.metrics.countSlowSubscriberDropped();
      subscriber.close();
      res.destroy();
      return;
    }
    res.write(chunk);
  }

  private watchShutdown(): void {
    if (this.shutdownWatch) return;
    this.shutdownWatch = setInterval(() => {
      const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
      if (this.subscribers.size === 0) {
        clearInterval(this.shutdownWatch);
        this.shutdownWatch = undefined;
      } else if (server && !server.listening) {
        this.endAll();
      }
    }, SHUTDOWN_POLL_MS).unref();
  }

  private endAll(): void {
    for (const subscriber of [...this.subscribers]) {
      subscriber.close();
      subscriber.res.end();
    }
    clearInterval(this.shutdownWatch);
    this.shutdownWatch = undefined;
  }
}
