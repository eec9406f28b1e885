import { Module } from '@nestjs/common';
import { ProviderCatalogModule } from '@app/completions';
import { RoutesController } from './routes.controller';
import { RoutesService } from './routes.service';

@Module({ imports: [ProviderCatalogModule], controllers: [RoutesController], providers: [RoutesService] })
export class RoutesModule {}
