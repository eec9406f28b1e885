import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, SecretCipher } from '@app/config';
import { ProviderRepository, type ProviderWithSecret } from '@app/db';
import { createProviderAdapter, type ProviderAdapter, type ProviderConfig } from '@app/providers';
import { CatalogChangeBus } from './catalog-change.bus';
import { CATALOG_OPTIONS, type CatalogOptions } from './catalog.options';
import type { ProviderProblem, ProviderSource, RegisteredProvider } from './catalog.types';
import { environmentProviders, storedProviderConfig } from './provider-config';

interface Entry {
  provider: RegisteredProvider;
  /** Hash of the adapter's configuration: an unchanged provider keeps its adapter (and connection pool). */
  fingerprint: string;
}

/**
 * Every provider this process can call, with its adapter, in memory: lookups on
 * the request path are synchronous. Database providers (enabled or not, keys
 * decrypted) override environment ones of the same name. Reloaded when the admin
 * API announces a change (CatalogChangeBus) and periodically as a safety net; an
 * adapter whose configuration changed is replaced and the old one closed.
 */
@Injectable()
export class ProviderRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ProviderRegistry');
  private environment = new Map<string, Entry>();
  private stored = new Map<string, Entry>();
  private effective = new Map<string, RegisteredProvider>();
  private storedProblems: ProviderProblem[] = [];
  private environmentProblems: ProviderProblem[] = [];
  private readonly listeners = new Set<ProviderChangeListener>();
  private readonly unsubscribe: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CATALOG_OPTIONS) private readonly options: CatalogOptions,
    private readonly repository: ProviderRepository,
    private readonly cipher: SecretCipher,
    private readonly bus: CatalogChangeBus,
  ) {}

  async onModuleInit(): Promise<void> {
    this.loadEnvironment();
    this.unsubscribe.push(
      this.bus.subscribe((change) => (change.scope === 'providers' ? this.reload() : undefined)),
      this.bus.onReconnect(() => void this.reload()),
    );
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.options.reloadIntervalMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.running;
    const adapters = new Set([...this.environment.values(), ...this.stored.values()].map((e) => e.provider.adapter));
    this.environment.clear();
    this.stored.clear();
    this.effective.clear();
    await Promise.all([...adapters].map((adapter) => closeQuietly(adapter)));
  }

  /** The provider of that name (enabled or not; callers route only to `enabled` ones). */
  get(name: string): RegisteredProvider | undefined {
    return this.effective.get(name);
  }

  /** Every provider, by name. */
  list(): RegisteredProvider[] {
    return [...this.effective.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Providers that are configured but cannot be used (and why), for status pages. */
  problems(): ProviderProblem[] {
    const shadowed = new Set(this.stored.keys());
    return [...this.storedProblems, ...this.environmentProblems.filter((p) => !shadowed.has(p.name))];
  }

  /** Names of environment providers (read-only in the admin API; routes may name them). */
  environmentProviders(): Array<Pick<RegisteredProvider, 'name' | 'kind'>> {
    return environmentProviders(this.config).map(({ name, kind }) => ({ name, kind }));
  }

  /**
   * Called with the names whose provider was added, replaced or removed (`changed`),
   * and those of them that were known before and now call another upstream or none:
   * removed, or with a new adapter (a new id or configuration; not a mere enable or
   * disable). Returns the unsubscribe function.
   */
  onChange(listener: ProviderChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reloads database providers now; concurrent calls share one reload (plus one more if asked meanwhile). */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.loadStored().catch((error: unknown) =>
          this.logger.error(`Could not load providers from the database: ${(error as Error).message}`),
        );
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private loadEnvironment(): void {
    for (const config of environmentProviders(this.config)) {
      const entry = this.build(config, 'environment', true, undefined, this.environmentProblems);
      if (entry) this.environment.set(config.name, entry);
    }
    this.publish();
  }

  private async loadStored(): Promise<void> {
    const rows = await this.repository.listWithSecrets();
    const next = new Map<string, Entry>();
    const problems: ProviderProblem[] = [];
    for (const row of rows) {
      const entry = this.fromRow(row, problems);
      if (entry) next.set(row.name, entry);
    }
    const kept = new Set([...next.values()].map((e) => e.provider.adapter));
    const replaced = [...this.stored.values()].filter((e) => !kept.has(e.provider.adapter));
    this.stored = next;
    this.storedProblems = problems;
    this.publish();
    // In-flight calls on a replaced adapter finish first (ProviderAdapter.close).
    for (const old of replaced) void closeQuietly(old.provider.adapter);
  }

  private fromRow(row: ProviderWithSecret, problems: ProviderProblem[]): Entry | undefined {
    let config: ProviderConfig;
    try {
      config = storedProviderConfig(row, this.cipher);
    } catch (error) {
      this.reportProblem(problems, row, 'database', `cannot be used: ${(error as Error).message}`, row.id);
      return undefined;
    }
    const previous = this.stored.get(row.name);
    const fingerprint = fingerprintOf(config);
    if (previous && previous.fingerprint === fingerprint && previous.provider.id === row.id) {
      if (previous.provider.enabled === row.enabled) return previous;
      return { fingerprint, provider: { ...previous.provider, enabled: row.enabled } };
    }
    return this.build(config, 'database', row.enabled, row.id, problems);
  }

  private build(
    config: ProviderConfig,
    source: ProviderSource,
    enabled: boolean,
    id: string | undefined,
    problems: ProviderProblem[],
  ): Entry | undefined {
    try {
      const adapter = createProviderAdapter(config);
      const provider: RegisteredProvider = {
        name: config.name,
        kind: config.kind,
        source,
        ...(id === undefined ? {} : { id }),
        adapter,
        models: config.models ?? [],
        ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
        enabled,
      };
      return { provider, fingerprint: fingerprintOf(config) };
    } catch (error) {
      this.reportProblem(problems, config, source, `is misconfigured: ${(error as Error).message}`, id);
      return undefined;
    }
  }

  private reportProblem(
    problems: ProviderProblem[],
    provider: Pick<ProviderConfig, 'name' | 'kind'>,
    source: ProviderSource,
    message: string,
    id?: string,
  ): void {
    problems.push({ name: provider.name, kind: provider.kind, source, ...(id ? { id } : {}), message });
    const known = [...this.storedProblems, ...this.environmentProblems].some(
      (p) => p.name === provider.name && p.message === message,
    );
    if (!known) this.logger.error(`Provider "${provider.name}" ${message}`);
  }

  /** Recomputes the effective map and tells listeners which names changed. */
  private publish(): void {
    const next = new Map<string, RegisteredProvider>();
    for (const [name, entry] of this.environment) next.set(name, entry.provider);
    for (const [name, entry] of this.stored) next.set(name, entry.provider);
    const names = new Set([...this.effective.keys(), ...next.keys()]);
    const changed = [...names].filter((name) => this.effective.get(name) !== next.get(name)).sort();
    const replaced = changed.filter((name) => {
      const before = this.effective.get(name);
      return before !== undefined && before.adapter !== next.get(name)?.adapter;
    });
    this.effective = next;
    if (changed.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(changed, replaced);
      } catch (error) {
        this.logger.error(`A provider change listener failed: ${(error as Error).message}`);
      }
    }
  }
}

export type ProviderChangeListener = (changed: string[], replaced: string[]) => void;

function fingerprintOf(config: ProviderConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

async function closeQuietly(adapter: ProviderAdapter): Promise<void> {
  await adapter.close().catch(() => undefined);
}
