import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { CircuitState, ProviderKind } from '@app/providers';
import { CATALOG_OPTIONS, type CatalogOptions } from './catalog.options';
import type { CircuitStateSource, ProviderHealth, ProviderSource, RegisteredProvider } from './catalog.types';
import { type DiscoveryStatus, ModelCatalog } from './model-catalog';
import { ProviderRegistry } from './provider-registry';

/** One provider as status pages show it. */
export interface ProviderStatus {
  name: string;
  kind: ProviderKind;
  source: ProviderSource;
  enabled: boolean;
  /** The last background health check; `null` before the first one (or when disabled). */
  health: ProviderHealth | null;
  /** The router's circuit for it; `null` when no circuit source is plugged in. */
  circuit: CircuitState | null;
  models: DiscoveryStatus & { total: number };
  /** Set when the provider is configured but unusable (undecryptable key, invalid setting). */
  problem: string | null;
}

/**
 * Health and circuit state of every provider. Health checks (`adapter.health`) run
 * in the background — at startup, periodically, and when a provider changes —
 * so reading the status never calls upstream. The router plugs its circuit
 * breakers in with {@link registerCircuitStateSource}.
 */
@Injectable()
export class ProviderStatusService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ProviderStatus');
  private readonly health = new Map<string, ProviderHealth>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly shutdown = new AbortController();
  private circuitSource: CircuitStateSource | null = null;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly catalog: ModelCatalog,
    @Inject(CATALOG_OPTIONS) private readonly options: CatalogOptions,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.registry.onChange((names) => {
      for (const name of names) {
        this.health.delete(name);
        void this.check(name);
      }
    });
  }

  onApplicationBootstrap(): void {
    void this.checkAll();
    this.timer = setInterval(() => void this.checkAll(), this.options.healthIntervalMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.shutdown.abort();
    await Promise.allSettled(this.inFlight.values());
  }

  /** Plugs in the router's circuit breakers (`null` unplugs them). */
  registerCircuitStateSource(source: CircuitStateSource | null): void {
    this.circuitSource = source;
  }

  /** Every provider (including unusable ones), by name. */
  list(): ProviderStatus[] {
    const statuses = this.registry.list().map((provider) => this.statusOf(provider));
    for (const problem of this.registry.problems()) {
      if (statuses.some((s) => s.name === problem.name)) continue;
      statuses.push({
        name: problem.name,
        kind: problem.kind,
        source: problem.source,
        enabled: false,
        health: null,
        circuit: null,
        models: { fetchedAt: null, error: null, discovered: 0, total: 0 },
        problem: problem.message,
      });
    }
    return statuses.sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): ProviderStatus | undefined {
    return this.list().find((status) => status.name === name);
  }

  /** Checks one provider now (or every enabled one); never rejects. */
  async check(name?: string): Promise<void> {
    if (name === undefined) return this.checkAll();
    const provider = this.registry.get(name);
    if (provider?.enabled) await this.checkOne(provider);
  }

  private async checkAll(): Promise<void> {
    await Promise.all(
      this.registry
        .list()
        .filter((p) => p.enabled)
        .map((p) => this.checkOne(p)),
    );
  }

  private checkOne(provider: RegisteredProvider): Promise<void> {
    const running = this.inFlight.get(provider.name);
    if (running) return running;
    const task = this.runCheck(provider).finally(() => this.inFlight.delete(provider.name));
    this.inFlight.set(provider.name, task);
    return task;
  }

  private async runCheck(provider: RegisteredProvider): Promise<void> {
    if (this.shutdown.signal.aborted) return;
    // Bounded by the adapter's own timeout (the provider's when set), as discovery is: a timeout is reported as one.
    const timeoutMs = provider.timeoutMs ?? this.options.upstreamTimeoutMs;
    const result = await provider.adapter
      .health({ signal: this.shutdown.signal, timeoutMs, requestId: `health-${randomUUID()}` })
      .catch((error: unknown) => ({ ok: false, latencyMs: 0, message: (error as Error).message }));
    if (this.shutdown.signal.aborted || this.registry.get(provider.name)?.adapter !== provider.adapter) return;
    const previous = this.health.get(provider.name);
    if (previous && previous.ok !== result.ok) {
      const detail = result.ok ? 'is healthy again' : `is unhealthy: ${result.message ?? 'no detail'}`;
      this.logger.warn(`Provider "${provider.name}" ${detail}`);
    }
    this.health.set(provider.name, {
      ok: result.ok,
      latencyMs: result.latencyMs,
      ...(result.message === undefined ? {} : { message: result.message }),
      checkedAt: new Date().toISOString(),
    });
  }

  private statusOf(provider: RegisteredProvider): ProviderStatus {
    const discovery = this.catalog.discoveryStatus(provider.name);
    return {
      name: provider.name,
      kind: provider.kind,
      source: provider.source,
      enabled: provider.enabled,
      health: provider.enabled ? (this.health.get(provider.name) ?? null) : null,
      circuit: this.circuitSource?.(provider.name) ?? null,
      models: { ...discovery, total: this.catalog.modelsOf(provider.name).length },
      problem: null,
    };
  }
}
