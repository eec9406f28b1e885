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
import type { Database } from './database';
import { DatabaseHealthIndicator } from './database.health';
import { databaseRegistry } from './database.registry';
import { DATABASE, PRISMA } from './db.tokens';
import { REPOSITORIES } from './repositories';

/** Releases this app's reference to the shared database when the app shuts down. */
@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: Database) {}

  async onApplicationShutdown(): Promise<void> {
    await databaseRegistry.release(this.database);
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
