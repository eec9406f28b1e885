import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { MetricsModule } from '../metrics/metrics.module';
import { StatusModule } from '../status/status.module';
import { TracingMiddleware } from './tracing.middleware';

/** The gateway's observability: `/metrics`, `/v1/status`, `/v1/events/stream`, and request tracing (OpenTelemetry, optional). */
@Module({ imports: [MetricsModule, StatusModule, EventsModule], providers: [TracingMiddleware] })
export class ObservabilityModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TracingMiddleware).forRoutes('*');
  }
}
