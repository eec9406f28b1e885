import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { modelCandidates } from '../pricing/price-table';
import { PricingService } from '../pricing/pricing.service';
import { ProviderCatalog } from '../status/provider-catalog';

export const OTHER = 'other';
export const NONE = 'none';
const REFRESH_MS = 30_000;
const MISS_REFRESH_MS = 2_000;
/** Hard bound per label, whatever the configuration says. */
const MAX_VALUES = 500;
const SEPARATOR = '\u0000';

/**
 * Keeps metric label values bounded: a provider or model becomes a label only
 * when configuration knows it (a registered provider or its models, a priced
 * model, an environment provider); anything else is `other`. Request ids and
 * client-chosen strings never reach a label.
 */
@Injectable()
export class MetricLabels {
  private known = { at: 0, providers: new Set<string>(), models: new Set<string>() };
  private readonly used = { provider: new Set<string>(), model: new Set<string>() };
  /** Model labels found, by the names asked (joined); emptied whenever the known names are re-read. */
  private readonly modelLabels = new Map<string, string>();

  constructor(
    private readonly catalog: ProviderCatalog,
    private readonly pricing: PricingService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  provider(name: string | null | undefined): string {
    if (!name) return NONE;
    const known = (refresh: number) => this.refreshed(refresh).providers.has(name);
    // A miss re-reads the sources sooner: a provider added a moment ago is labelled within seconds.
    return this.bounded('provider', known(REFRESH_MS) || known(MISS_REFRESH_MS) ? name : OTHER);
  }

  /** The first of the names whose priced family or exact id is known (served model first). */
  model(...names: Array<string | null | undefined>): string {
    // Each request asks twice for the same names: a label found is kept until the known names are re-read.
    const key = names.join(SEPARATOR);
    const cached = this.modelLabels.get(key);
    if (cached !== undefined) return cached;
    const find = (refresh: number) => {
      const known = this.refreshed(refresh).models;
      for (const name of names) {
        const hit = name ? modelCandidates(name).find((m) => known.has(m)) : undefined;
        if (hit) return hit;
      }
      return undefined;
    };
    const hit = find(REFRESH_MS) ?? find(MISS_REFRESH_MS);
    if (!hit) return names.some(Boolean) ? OTHER : NONE;
    const label = this.bounded('model', hit);
    // A miss is not kept: it re-reads the sources sooner, as above.
    if (label !== OTHER && this.modelLabels.size < MAX_VALUES * 4) this.modelLabels.set(key, label);
    return label;
  }

  private bounded(kind: 'provider' | 'model', value: string): string {
    const used = this.used[kind];
    if (used.has(value) || value === OTHER) return value;
    if (used.size >= MAX_VALUES) return OTHER;
    used.add(value);
    return value;
  }

  /** The known names, re-read from their sources when older than `maxAgeMs`. */
  private refreshed(maxAgeMs: number) {
    const now = Date.now();
    if (now - this.known.at < maxAgeMs) return this.known;
    const providers = new Set<string>(
      Object.keys(this.config.providers).filter((k) => this.config.providers[k as keyof AppConfig['providers']]),
    );
    const models = new Set<string>();
    for (const p of this.catalog.list()) {
      providers.add(p.name);
      for (const m of p.models) models.add(m);
    }
    const priced = this.pricing.knownNames();
    for (const p of priced.providers) providers.add(p);
    for (const m of priced.models) models.add(m);
    this.known = { at: now, providers, models };
    this.modelLabels.clear();
    return this.known;
  }

  /** Forgets the cached known sets (after providers or prices change). */
  invalidate(): void {
    this.known.at = 0;
  }
}
