import { Module } from '@nestjs/common';
import { ProviderCatalogModule } from '@app/completions';
import { ModelsController } from './models.controller';
import { ModelsService } from './models.service';

@Module({ imports: [ProviderCatalogModule], controllers: [ModelsController], providers: [ModelsService] })
export class ModelsModule {}
