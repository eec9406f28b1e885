import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { ReadinessCheck } from '@app/server';
import { USAGE_OPTIONS, type UsageOptions } from '../usage.options';
import { UsageWriter } from './usage-writer';

/**
 * Readiness: `down` when more usage rows wait than `backlogReadyThreshold`
 * (the load balancer should send traffic elsewhere before rows are dropped),
 * `degraded` while writes fail but the backlog is still small.
 */
@Injectable()
export class UsageBacklogHealthIndicator implements ReadinessCheck {
  constructor(
    private readonly writer: UsageWriter,
    private readonly health: HealthIndicatorService,
    @Inject(USAGE_OPTIONS) private readonly options: UsageOptions,
  ) {}

  async check() {
    const { queued, failingSince, lastError } = this.writer.state;
    const session = this.health.check('usageWriter');
    const data = { queued, threshold: this.options.backlogReadyThreshold };
    if (queued > this.options.backlogReadyThreshold) return session.down({ ...data, lastError });
    if (failingSince) return session.degraded({ ...data, failingSince: failingSince.toISOString(), lastError });
    return session.up(data);
  }
}
