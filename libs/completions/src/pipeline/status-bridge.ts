import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { StatusService, type ProviderStatus as UsageProviderStatus } from '@app/usage';
import { ModelCatalog, ProviderStatusService } from '../catalog';
import { RoutingService } from './routing.service';

/**
 * Connects the parts that report on providers: the router's circuit breakers
 * feed the provider status (`/v1/providers`), and the provider status feeds
 * `/v1/status` and the metric labels of the usage lib.
 */
@Injectable()
export class StatusBridge implements OnModuleInit, OnModuleDestroy {
  private unregister?: () => void;

  constructor(
    private readonly routing: RoutingService,
    private readonly providers: ProviderStatusService,
    private readonly models: ModelCatalog,
    private readonly status: StatusService,
  ) {}

  onModuleInit(): void {
    this.providers.registerCircuitStateSource((provider) => this.routing.breakers.state(provider));
    this.unregister = this.status.registerProviderSource(() => this.providers.list().map((p) => this.toUsageStatus(p)));
  }

  onModuleDestroy(): void {
    this.unregister?.();
    this.providers.registerCircuitStateSource(null);
  }

  private toUsageStatus(p: ReturnType<ProviderStatusService['list']>[number]): UsageProviderStatus {
    const circuit = p.circuit ?? 'closed';
    let state: UsageProviderStatus['state'] = 'unknown';
    if (!p.enabled) state = 'disabled';
    else if (circuit === 'open' || p.problem || p.health?.ok === false) state = 'down';
    else if (circuit === 'half-open') state = 'degraded';
    else if (p.health?.ok) state = 'up';
    return { name: p.name, kind: p.kind, enabled: p.enabled, state, circuit, models: this.models.modelsOf(p.name) };
  }
}
