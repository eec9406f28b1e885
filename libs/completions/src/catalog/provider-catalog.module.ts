import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, SecretCipher } from '@app/config';
import { CatalogChangeBus } from './catalog-change.bus';
import { CATALOG_OPTIONS, DEFAULT_CATALOG_OPTIONS } from './catalog.options';
import { ModelCatalog } from './model-catalog';
import { ModelResolver } from './model-resolver';
import { ProviderRegistry } from './provider-registry';
import { ProviderStatusService } from './provider-status.service';
import { RouteTable } from './route-table';

const SERVICES = [CatalogChangeBus, ProviderRegistry, ModelCatalog, RouteTable, ModelResolver, ProviderStatusService];

/**
 * Providers, their models, routes and model resolution, in memory and kept in
 * step with the database (and other replicas). Needs the app's config, database
 * and Redis modules (global). Imported by the gateway (pipeline, /v1/models,
 * /v1/providers) and the admin app (provider and route administration).
 */
@Module({
  providers: [
    { provide: CATALOG_OPTIONS, useValue: DEFAULT_CATALOG_OPTIONS },
    { provide: SecretCipher, inject: [APP_CONFIG], useFactory: (config: AppConfig) => SecretCipher.fromConfig(config) },
    ...SERVICES,
  ],
  exports: [SecretCipher, ...SERVICES],
})
export class ProviderCatalogModule {}
