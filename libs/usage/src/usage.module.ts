import { type DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { GatewayEvents } from './events/gateway-events';
import { GatewayMetrics } from './metrics/gateway-metrics';
import { MetricLabels } from './metrics/metric-labels';
import { PricingModule } from './pricing/pricing.module';
import { StatusService } from './status/status.service';
import { TracingService } from './tracing/tracing.service';
import { UsageRecorder } from './usage-recorder';
import type { UsageOptions } from './usage.options';
import { UsageBacklogHealthIndicator } from './writer/usage-backlog.health';
import { UsageWriter } from './writer/usage-writer';

/**
 * Usage, cost and observability for the gateway: {@link UsageRecorder},
 * {@link GatewayMetrics}, {@link GatewayEvents}, {@link StatusService},
 * {@link PricingService} and the writer's readiness check. Global, so the
 * request pipeline and HealthModule can inject them.
 */
@Global()
@Module({})
export class UsageModule {
  static forRoot(options: Partial<UsageOptions> = {}): DynamicModule {
    const pricing = PricingModule.forRoot(options);
    return {
      module: UsageModule,
      imports: [pricing, TerminusModule],
      providers: [
        MetricLabels,
        GatewayMetrics,
        GatewayEvents,
        UsageWriter,
        UsageRecorder,
        StatusService,
        UsageBacklogHealthIndicator,
        TracingService,
      ],
      exports: [
        pricing,
        GatewayMetrics,
        GatewayEvents,
        UsageWriter,
        UsageRecorder,
        StatusService,
        UsageBacklogHealthIndicator,
        TracingService,
      ],
    };
  }
}
