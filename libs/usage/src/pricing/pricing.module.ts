import { type DynamicModule, Module } from '@nestjs/common';
import { UsagePubSub } from '../pubsub';
import { ProviderCatalog } from '../status/provider-catalog';
import { DEFAULT_USAGE_OPTIONS, USAGE_OPTIONS, type UsageOptions } from '../usage.options';
import { PricingService } from './pricing.service';

/**
 * Prices and costs, with cross-replica cache invalidation. Used alone by the
 * admin app (to edit prices) and inside {@link UsageModule} by the gateway.
 */
@Module({})
export class PricingModule {
  static forRoot(options: Partial<UsageOptions> = {}): DynamicModule {
    return {
      module: PricingModule,
      providers: [
        { provide: USAGE_OPTIONS, useValue: { ...DEFAULT_USAGE_OPTIONS, ...options } },
        UsagePubSub,
        ProviderCatalog,
        PricingService,
      ],
      exports: [USAGE_OPTIONS, UsagePubSub, ProviderCatalog, PricingService],
    };
  }
}
