import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PricingRepository } from '@app/db';
import { CHANNELS, UsagePubSub } from '../pubsub';
import { ProviderCatalog } from '../status/provider-catalog';
import type { TokenUsage } from '../usage-event';
import { USAGE_OPTIONS, type UsageOptions } from '../usage.options';
import { type Price, PriceTable, costOf } from './price-table';

const KIND_CACHE_MS = 5_000;

/**
 * Costs from an in-memory copy of the price list, so pricing a request never
 * touches the database. The copy is re-read periodically, and at once when an
 * admin edits prices in this process or (through Redis) on any replica.
 */
@Injectable()
export class PricingService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PricingService');
  private table = new PriceTable([]);
  private timer?: NodeJS.Timeout;
  private reloading?: Promise<void>;
  private reloadAgain = false;
  private unsubscribeLocal?: () => void;
  private kinds = { at: 0, byName: new Map<string, string>() };

  constructor(
    private readonly prices: PricingRepository,
    private readonly pubsub: UsagePubSub,
    private readonly catalog: ProviderCatalog,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.options.pricingRefreshMs).unref();
    const onChange = () => void this.reload();
    this.unsubscribeLocal = this.pubsub.subscribeLocal(CHANNELS.pricing, onChange);
    await this.pubsub.subscribeRemote(CHANNELS.pricing, onChange);
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.unsubscribeLocal?.();
  }

  /** USD cost of a request; zero for local providers and for models without any price. */
  cost(provider: string | null, model: string, usage: TokenUsage): number {
    const price = this.priceFor(provider, model);
    return price ? costOf(price, usage) : 0;
  }

  /** The entry that prices `provider/model`, if any (see {@link PriceTable.resolve}). */
  priceFor(provider: string | null, model: string): Price | undefined {
    return this.table.resolve(provider ?? '', model, provider ? this.kindOf(provider) : undefined);
  }

  /** Every priced provider and model name (wildcards excluded), for metric label bounds. */
  knownNames(): { providers: string[]; models: string[] } {
    const named = (v: string) => v !== '*';
    return {
      providers: this.table.prices.map((p) => p.provider).filter(named),
      models: this.table.prices.map((p) => p.model).filter(named),
    };
  }

  /** After an edit: re-read here, and tell the other apps of this process and every replica. */
  async changed(): Promise<void> {
    await this.reload();
    this.pubsub.publishLocal(CHANNELS.pricing, 'changed');
    this.pubsub.publishRemote(CHANNELS.pricing, 'changed');
  }

  /** Re-reads the price list; concurrent calls share one read (plus one more if asked meanwhile). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          this.table = new PriceTable(await this.prices.listPrices());
        } catch (error) {
          this.logger.warn(`Could not read prices (keeping ${this.table.size} cached): ${(error as Error).message}`);
        }
      } while (this.reloadAgain);
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private kindOf(provider: string): string | undefined {
    const now = Date.now();
    if (now - this.kinds.at > KIND_CACHE_MS) {
      this.kinds = { at: now, byName: new Map(this.catalog.list().map((p) => [p.name, p.kind])) };
    }
    return this.kinds.byName.get(provider);
  }
}
