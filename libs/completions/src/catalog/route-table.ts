import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type RouteRecord, RouteRepository } from '@app/db';
import { CatalogChangeBus } from './catalog-change.bus';
import { CATALOG_OPTIONS, type CatalogOptions } from './catalog.options';

/**
 * Route aliases in memory, for synchronous resolution. Reloaded on any catalog
 * change (a provider rename or delete changes the routes naming it), after an
 * outage of the change channel, and periodically as a safety net.
 */
@Injectable()
export class RouteTable implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RouteTable');
  private routes = new Map<string, RouteRecord>();
  private readonly unsubscribe: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly repository: RouteRepository,
    private readonly bus: CatalogChangeBus,
    @Inject(CATALOG_OPTIONS) private readonly options: CatalogOptions,
  ) {}

  async onModuleInit(): Promise<void> {
    this.unsubscribe.push(
      this.bus.subscribe((change) => (change.scope === 'models' ? undefined : this.reload())),
      this.bus.onReconnect(() => void this.reload()),
    );
    await this.reload();
    this.timer = setInterval(() => void this.reload(), this.options.reloadIntervalMs).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    for (const off of this.unsubscribe.splice(0)) off();
    await this.running;
  }

  /** The route of that alias (enabled or not). */
  get(alias: string): RouteRecord | undefined {
    return this.routes.get(alias);
  }

  /** Every route, by alias. */
  list(): RouteRecord[] {
    return [...this.routes.values()];
  }

  /** Reloads from the database now; concurrent calls share one reload (plus one more if asked meanwhile). */
  reload(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const routes = await this.repository.list();
          this.routes = new Map(routes.map((route) => [route.alias, route]));
        } catch (error) {
          this.logger.error(`Could not load routes from the database: ${(error as Error).message}`);
        }
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }
}
