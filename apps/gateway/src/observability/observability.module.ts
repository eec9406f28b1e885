import { Module } from '@nestjs/common';
import { EventsModule } from '../events/events.module';
import { MetricsModule } from '../metrics/metrics.module';
import { StatusModule } from '../status/status.module';

/** The gateway's observability routes: `/metrics`, `/v1/status`, `/v1/events/stream`. */
@Module({ imports: [MetricsModule, StatusModule, EventsModule] })
export class ObservabilityModule {}
