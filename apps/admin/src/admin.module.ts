import { type DynamicModule, Module } from '@nestjs/common';
import { AdminBootstrapService } from '@app/auth';
import { AppConfigModule, type AppConfig } from '@app/config';
import { DatabaseHealthIndicator, DbModule } from '@app/db';
import { HealthModule, RedisHealthIndicator, RedisModule, ServerLoggerModule } from '@app/server';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { KeysModule } from './keys/keys.module';
import { PricingAdminModule } from './pricing/pricing.module';
import { ProvidersModule } from './providers/providers.module';
import { RoutesModule } from './routes/routes.module';
import { TeamsModule } from './teams/teams.module';
import { UsageAdminModule } from './usage/usage.module';
import { UsersModule } from './users/users.module';

/** The admin app: the dashboard and its JSON API under /api. */
@Module({})
export class AdminModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AdminModule,
      imports: [
        AppConfigModule.forRoot(config),
        ServerLoggerModule.forRoot(config, 'admin'),
        DbModule.forRoot(),
        RedisModule,
        HealthModule.forRoot([DatabaseHealthIndicator, RedisHealthIndicator]),
        AuthModule,
        TeamsModule,
        UsersModule,
        KeysModule,
        AuditModule,
        ProvidersModule,
        RoutesModule,
        UsageAdminModule,
        PricingAdminModule,
      ],
      providers: [AdminBootstrapService],
    };
  }
}
