import { type DynamicModule, Module } from '@nestjs/common';
import { GatewayAuthModule } from '@app/auth';
import { AppConfigModule, type AppConfig } from '@app/config';
import { DatabaseHealthIndicator, DbModule } from '@app/db';
import { HealthModule, HotRoutesModule, RedisHealthIndicator, RedisModule, ServerLoggerModule } from '@app/server';
import { UsageBacklogHealthIndicator, UsageModule } from '@app/usage';
import { CompletionsApiModule } from './completions/completions-api.module';
import { MeModule } from './me/me.module';
import { ModelsModule } from './models/models.module';
import { ObservabilityModule } from './observability/observability.module';
import { GatewayProvidersModule } from './providers/providers.module';

/** The public gateway: the OpenAI-compatible API under /v1, health and metrics. */
@Module({})
export class GatewayModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        AppConfigModule.forRoot(config),
        ServerLoggerModule.forRoot(config, 'gateway'),
        HotRoutesModule,
        DbModule.forRoot(),
        RedisModule,
        GatewayAuthModule,
        UsageModule.forRoot(),
        HealthModule.forRoot([DatabaseHealthIndicator, RedisHealthIndicator, UsageBacklogHealthIndicator]),
        ObservabilityModule,
        MeModule,
        CompletionsApiModule,
        ModelsModule,
        GatewayProvidersModule,
      ],
    };
  }
}
