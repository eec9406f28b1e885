import { Module } from '@nestjs/common';
import { ProviderCatalogModule } from '@app/completions';
import { ProvidersController } from './providers.controller';
import { ProvidersService } from './providers.service';

@Module({ imports: [ProviderCatalogModule], controllers: [ProvidersController], providers: [ProvidersService] })
export class ProvidersModule {}
