import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  CircuitBreakers,
  type CircuitTransition,
  LatencyTracker,
  Router,
  DEFAULT_RETRY_POLICY,
  TargetOrder,
  type RouterObserver,
} from '@app/providers';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { RedisConnections } from '@app/server';
import { GatewayEvents, GatewayMetrics } from '@app/usage';
import { ProviderRegistry } from '../catalog';

const CIRCUIT_CHANNEL = 'llm-gateway:circuits';
/** Open circuits by provider, read by replicas that start while one is open. */
const OPEN_CIRCUITS_KEY = 'llm-gateway:open-circuits';

/**
 * The router of this process, with its circuit breakers wired to events,
 * metrics and — with Redis — to the other replicas: an open circuit is
 * published and stored (with its cooldown as TTL), so every replica skips the
 * provider; the request path itself never waits on Redis. A provider that is
 * deleted or now calls another upstream (new configuration or id) starts afresh:
 * its circuit closed (shared like any close) and its latency samples forgotten.
 * Every replica does so when its registry reloads.
 */
@Injectable()
export class RoutingService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Routing');
  readonly breakers: CircuitBreakers;
  readonly router: Router;
  private readonly latency = new LatencyTracker();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly instanceId = Math.random().toString(36).slice(2);
  private subscriber?: Redis;

  constructor(
    private readonly redis: RedisConnections,
    private readonly events: GatewayEvents,
    private readonly metrics: GatewayMetrics,
    private readonly registry: ProviderRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.breakers = new CircuitBreakers(config.circuit);
    const policy = { ...DEFAULT_RETRY_POLICY, maxRetries: config.upstreamMaxRetries };
    this.router = new Router(this.breakers, this.latency, new TargetOrder(this.latency), policy, this.observer());
    this.breakers.onTransition((transition) => this.onLocalTransition(transition));
  }

  async onModuleInit(): Promise<void> {
    this.unsubscribe.push(this.registry.onChange((_changed, replaced) => this.forget(replaced)));
    if (!this.redis.enabled) return;
    this.subscriber = this.redis.createSubscriber();
    this.subscriber.on('message', (_channel: string, message: string) => this.onRemoteTransition(message));
    // Circuits opened while this process could not hear them (Redis down, at boot or since) are read again.
    this.subscriber.on('ready', () => void this.loadOpenCircuits());
    // Redis down or silent at boot must not stop the gateway: circuits work in this process meanwhile,
    // and ioredis subscribes once Redis is back.
    void this.redis.subscribe(this.subscriber, CIRCUIT_CHANNEL, (reason) =>
      this.logger.warn(`Could not subscribe to circuit changes: ${reason}`),
    );
    await this.loadOpenCircuits();
  }

  onApplicationShutdown(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    // Stops hearing transitions without a round trip to Redis, which may not answer; the connection is closed with the others.
    this.subscriber?.removeAllListeners('message');
  }

  private forget(providers: string[]): void {
    for (const provider of providers) {
      this.breakers.reset(provider);
      this.latency.forgetProvider(provider);
    }
  }

  private observer(): RouterObserver {
    return {
      retry: ({ target, attempt, delayMs, error }) => {
        this.metrics.countRetry(target.provider);
        this.events.emit({
          type: 'retry',
          at: new Date().toISOString(),
          data: { provider: target.provider, model: target.model, attempt, delayMs, error: error.message },
        });
      },
      fallback: ({ plan, from, to, error }) => {
        this.metrics.countFallback(from.provider, to.provider);
        this.events.emit({
          type: 'fallback',
          at: new Date().toISOString(),
          data: {
            model: plan.requested,
            from: `${from.provider}/${from.model}`,
            to: `${to.provider}/${to.model}`,
            reason: error.message,
          },
        });
      },
      providerError: ({ target, error }) => {
        this.events.emit({
          type: 'provider_error',
          at: new Date().toISOString(),
          data: {
            provider: target.provider,
            model: target.model,
            status: error.status,
            code: error.code,
            message: error.message,
          },
        });
      },
    };
  }

  private onLocalTransition(transition: CircuitTransition): void {
    this.metrics.setCircuitState(transition.provider, transition.state);
    if (transition.state === 'open' || transition.state === 'closed') {
      this.events.emit({
        type: transition.state === 'open' ? 'circuit_opened' : 'circuit_closed',
        at: new Date().toISOString(),
        data: { provider: transition.provider, openUntil: transition.openUntil },
      });
      this.share(transition);
    }
  }

  private share(transition: CircuitTransition): void {
    const client = this.redis.client;
    if (!client) return;
    const message = JSON.stringify({ ...transition, from: this.instanceId });
    const write =
      transition.state === 'open'
        ? client.hset(OPEN_CIRCUITS_KEY, transition.provider, message)
        : client.hdel(OPEN_CIRCUITS_KEY, transition.provider);
    Promise.all([write, client.publish(this.redis.channel(CIRCUIT_CHANNEL), message)]).catch((error: Error) =>
      this.logger.warn(`Could not share circuit state: ${error.message}`),
    );
  }

  private onRemoteTransition(message: string): void {
    try {
      const transition = JSON.parse(message) as CircuitTransition & { from: string };
      if (transition.from === this.instanceId) return;
      this.breakers.applyRemote(transition);
      this.metrics.setCircuitState(transition.provider, this.breakers.state(transition.provider));
    } catch {
      this.logger.warn('Ignored a malformed circuit message');
    }
  }

  /** Takes the circuits other replicas opened (never fails: without Redis, this process's own state stands). */
  private async loadOpenCircuits(): Promise<void> {
    const client = this.redis.client;
    if (!client) return;
    let open: Record<string, string>;
    try {
      open = await client.hgetall(OPEN_CIRCUITS_KEY);
    } catch (error) {
      this.logger.warn(`Could not read the circuits other replicas opened: ${(error as Error).message}`);
      return;
    }
    for (const message of Object.values(open)) {
      const { openUntil } = JSON.parse(message) as CircuitTransition;
      // Entries can outlive their cooldown (the replica that would close one may be gone).
      if ((openUntil ?? 0) > Date.now()) this.onRemoteTransition(message);
    }
  }
}
