import {
  type DynamicModule,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { settlesWithin } from '@app/contracts';
import type { Database } from './database';
import { DatabaseHealthIndicator } from './database.health';
import { databaseRegistry } from './database.registry';
import { DATABASE, PRISMA } from './db.tokens';
import { REPOSITORIES } from './repositories';

/** How long closing the database may take at shutdown before it is left to the process's exit. */
const CLOSE_TIMEOUT_MS = 5_000;

/** Releases this app's reference to the shared database when the app shuts down. */
@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');

  constructor(@Inject(DATABASE) private readonly database: Database) {}

  /** A database that does not answer (its connections held by queries that never return) does not hold the shutdown. */
  async onApplicationShutdown(): Promise<void> {
    if (!(await settlesWithin(databaseRegistry.release(this.database), CLOSE_TIMEOUT_MS))) {
      this.logger.warn(`The database did not close within ${CLOSE_TIMEOUT_MS} ms; leaving it to the exit`);
    }
  }
}

/**
 * The database for one Nest app: opened (and migrated) on first use per process,
 * shared with any other app in the same process, closed after the last one.
 */
@Global()
@Module({})
export class DbModule {
  static forRoot(): DynamicModule {
    const logger = new Logger('Database');
    return {
      module: DbModule,
      imports: [TerminusModule],
      providers: [
        {
          provide: DATABASE,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) =>
            databaseRegistry.acquire({ ...config.database, log: (message) => logger.log(message) }),
        },
        { provide: PRISMA, inject: [DATABASE], useFactory: (database: Database) => database.prisma },
        DatabaseLifecycle,
        DatabaseHealthIndicator,
        ...REPOSITORIES,
      ],
      exports: [DATABASE, DatabaseHealthIndicator, ...REPOSITORIES],
    };
  }
}
