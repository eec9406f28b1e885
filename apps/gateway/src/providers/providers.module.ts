import { Module } from '@nestjs/common';
import { ProviderCatalogModule } from '@app/completions';
import { AdminKeyGuard } from './admin-key.guard';
import { GatewayProvidersController } from './providers.controller';
import { GatewayProvidersService } from './providers.service';

@Module({
  imports: [ProviderCatalogModule],
  controllers: [GatewayProvidersController],
  providers: [GatewayProvidersService, AdminKeyGuard],
})
export class GatewayProvidersModule {}
