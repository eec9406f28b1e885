import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type GatewayError, hasControlCharacter } from '@app/contracts';
import type { ModelInfo } from '@app/providers';
import { CatalogChangeBus } from './catalog-change.bus';
import { CATALOG_OPTIONS, type CatalogOptions } from './catalog.options';
import type { CatalogModel, RegisteredProvider } from './catalog.types';
import { discoveryError } from './provider-probe';
import { ProviderRegistry } from './provider-registry';

interface Discovery {
  models: ModelInfo[];
  fetchedAt?: Date;
  /** The last failure, kept until a discovery succeeds. */
  error?: string;
  /** The same failure, as the API reports it (502, or 504 for a timeout). */
  failure?: GatewayError;
}

/** What the catalog knows of one provider's discovery, for status pages. */
export interface DiscoveryStatus {
  fetchedAt: string | null;
  error: string | null;
  discovered: number;
}

/**
 * Every provider's models: its configured list plus what `listModels()` reports
 * upstream. Discovery runs in the background (at startup, periodically, and when
 * a provider changes) and never delays boot or a request; a failure keeps the
 * last good list. Reads are synchronous, from memory.
 */
@Injectable()
export class ModelCatalog implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ModelCatalog');
  private readonly discoveries = new Map<string, Discovery>();
  private readonly firstSeen = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly shutdown = new AbortController();
  private byModel = new Map<string, string[]>();
  private entries: CatalogModel[] = [];
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  private unsubscribeBus: (() => void) | undefined;

  constructor(
    private readonly registry: ProviderRegistry,
    private readonly bus: CatalogChangeBus,
    @Inject(CATALOG_OPTIONS) private readonly options: CatalogOptions,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.registry.onChange((names) => this.onProvidersChanged(names));
    // A discovery asked for elsewhere (another replica, the admin API) found a new list: discover it here too.
    this.unsubscribeBus = this.bus.subscribe((change) => {
      if (change.scope === 'models' && change.source !== this) return this.refresh(change.provider);
      return undefined;
    });
    this.rebuild();
  }

  onApplicationBootstrap(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.options.modelRefreshIntervalMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribeBus?.();
    this.shutdown.abort();
    await Promise.allSettled(this.inFlight.values());
  }

  /** The provider's model ids: configured first, then discovered ones (empty for an unknown provider). */
  modelsOf(provider: string): string[] {
    const registered = this.registry.get(provider);
    if (!registered) return [];
    return this.modelInfos(registered).map((m) => m.id);
  }

  /** Names of the enabled providers serving `model` (a provider-local id). */
  providersServing(model: string): string[] {
    return this.byModel.get(model) ?? [];
  }

  /** Every model of every enabled provider, as `provider/model`, sorted. */
  list(): CatalogModel[] {
    return this.entries;
  }

  /** The model of that `provider/model` id, if listed. */
  find(id: string): CatalogModel | undefined {
    return this.entries.find((entry) => entry.id === id);
  }

  discoveryStatus(provider: string): DiscoveryStatus {
    const discovery = this.discoveries.get(provider);
    return {
      fetchedAt: discovery?.fetchedAt?.toISOString() ?? null,
      error: discovery?.error ?? null,
      discovered: discovery?.models.length ?? 0,
    };
  }

  /**
   * Re-discovers the models of one provider, or of every enabled one. Resolves when
   * done; never rejects (a failure is kept in `discoveryStatus` and the last good
   * list stays).
   */
  async refresh(provider?: string): Promise<void> {
    const targets = provider === undefined ? this.registry.list() : [this.registry.get(provider)];
    await Promise.all(
      targets.filter((p): p is RegisteredProvider => p !== undefined && p.enabled).map((p) => this.discover(p)),
    );
  }

  /**
   * Re-discovers one provider's models now, like {@link refresh}, but reports a failure
   * (the last good list stays in the catalog).
   * @throws GatewayError 502 `upstream_error` / 504 `upstream_timeout` naming the provider
   */
  async rediscover(provider: string): Promise<void> {
    const before = this.discoveredIds(provider);
    await this.refresh(provider);
    const failure = this.discoveries.get(provider)?.failure;
    if (failure) throw failure;
    // The other replicas (and apps of this process) learn the list changed, and discover it themselves.
    if (this.discoveredIds(provider) !== before) void this.bus.publish({ scope: 'models', provider, source: this });
  }

  private discoveredIds(provider: string): string {
    return (this.discoveries.get(provider)?.models ?? []).map((m) => m.id).join('\n');
  }

  private discover(provider: RegisteredProvider): Promise<void> {
    const running = this.inFlight.get(provider.name);
    if (running) return running;
    const task = this.fetch(provider).finally(() => this.inFlight.delete(provider.name));
    this.inFlight.set(provider.name, task);
    return task;
  }

  private async fetch(provider: RegisteredProvider): Promise<void> {
    if (this.shutdown.signal.aborted) return;
    // Bounded by the adapter's own timeout (the provider's when set), so a timeout is reported as one.
    const timeoutMs = provider.timeoutMs ?? this.options.upstreamTimeoutMs;
    try {
      const models = await provider.adapter.listModels({
        signal: this.shutdown.signal,
        timeoutMs,
        requestId: `discovery-${randomUUID()}`,
      });
      // Only ids a request can name: the chat schema refuses control characters and unpaired surrogates.
      const usable = models.filter((m) => m.id.length > 0 && !hasControlCharacter(m.id) && m.id.isWellFormed());
      this.discoveries.set(provider.name, { models: usable, fetchedAt: new Date() });
    } catch (error) {
      if (this.shutdown.signal.aborted) return;
      const message = (error as Error).message;
      const previous = this.discoveries.get(provider.name);
      if (previous?.error !== message) {
        this.logger.warn(`Could not discover the models of provider "${provider.name}": ${message}`);
      }
      this.discoveries.set(provider.name, {
        models: previous?.models ?? [],
        fetchedAt: previous?.fetchedAt,
        error: message,
        failure: discoveryError(provider.name, error, timeoutMs),
      });
    }
    // The provider may have been replaced or removed while discovery ran.
    if (this.registry.get(provider.name)?.adapter !== provider.adapter) return;
    this.rebuild();
  }

  private onProvidersChanged(names: string[]): void {
    for (const name of names) {
      if (!this.registry.get(name)) {
        this.discoveries.delete(name);
        this.firstSeen.delete(name);
      }
    }
    this.rebuild();
    for (const name of names) void this.refresh(name);
  }

  private modelInfos(provider: RegisteredProvider): ModelInfo[] {
    const seen = new Set<string>();
    const infos: ModelInfo[] = [];
    for (const id of provider.models) {
      if (seen.has(id)) continue;
      seen.add(id);
      infos.push({ id, ownedBy: provider.name });
    }
    for (const info of this.discoveries.get(provider.name)?.models ?? []) {
      if (seen.has(info.id)) continue;
      seen.add(info.id);
      infos.push(info);
    }
    return infos;
  }

  /** Rebuilds the lookup index and the sorted list from the registry and the discoveries. */
  private rebuild(): void {
    const byModel = new Map<string, string[]>();
    const entries: CatalogModel[] = [];
    const now = Math.floor(Date.now() / 1000);
    for (const provider of this.registry.list()) {
      if (!provider.enabled) continue;
      if (!this.firstSeen.has(provider.name)) this.firstSeen.set(provider.name, now);
      const created = this.firstSeen.get(provider.name) ?? now;
      for (const info of this.modelInfos(provider)) {
        const serving = byModel.get(info.id) ?? [];
        serving.push(provider.name);
        byModel.set(info.id, serving);
        entries.push({
          id: `${provider.name}/${info.id}`,
          provider: provider.name,
          model: info.id,
          ownedBy: info.ownedBy || provider.name,
          created: info.created ?? created,
        });
      }
    }
    entries.sort((a, b) => a.id.localeCompare(b.id));
    this.byModel = byModel;
    this.entries = entries;
  }
}
