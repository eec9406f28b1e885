import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Database } from './database';
import { DATABASE } from './db.tokens';

/** Terminus indicator: the database answers `SELECT 1` within two seconds. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    @Inject(DATABASE) private readonly database: Database,
    private readonly health: HealthIndicatorService,
  ) {}

  check(key = 'database') {
    return this.health
      .check(key)
      .attempt(async () => {
        await this.database.ping();
        return { kind: this.database.kind };
      })
      .withTimeout(2_000);
  }
}
