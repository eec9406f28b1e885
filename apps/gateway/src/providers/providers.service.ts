import { Injectable } from '@nestjs/common';
import {
  ModelCatalog,
  type ProbeResult,
  probeProvider,
  ProviderRegistry,
  type ProviderStatus,
  ProviderStatusService,
} from '@app/completions';
import { GatewayError } from '@app/contracts';
import type { ModelResponse } from '../models/dto/model.dto';
import type { ProviderTestBody } from './dto/provider.dto';

/** Providers as admin and master keys see them on the gateway: status, models, configuration checks. */
@Injectable()
export class GatewayProvidersService {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly catalog: ModelCatalog,
    private readonly status: ProviderStatusService,
  ) {}

  list(): ProviderStatus[] {
    return this.status.list();
  }

  /**
   * The provider's models as `provider/model` (configured and discovered); `refresh`
   * discovers again first and, like the admin API, answers a failed discovery with
   * 502 (504 for a timeout) rather than the cached list the caller asked to renew.
   */
  async models(name: string, refresh: boolean): Promise<ModelResponse[]> {
    const provider = this.registry.get(name);
    if (!provider) throw new GatewayError('not_found', `Provider ${JSON.stringify(name)} not found.`);
    if (refresh) await this.catalog.rediscover(name);
    const now = Math.floor(Date.now() / 1000);
    return this.catalog.modelsOf(name).map((model) => {
      const entry = this.catalog.find(`${name}/${model}`);
      return {
        id: `${name}/${model}`,
        object: 'model',
        created: entry?.created ?? now,
        owned_by: entry?.ownedBy ?? name,
      };
    });
  }

  /** Checks a configuration against its upstream without storing it. */
  test(body: ProviderTestBody): Promise<ProbeResult> {
    return probeProvider({
      name: body.name ?? 'test',
      kind: body.kind,
      baseUrl: body.baseUrl,
      apiKey: body.apiKey,
      models: body.models,
      timeoutMs: body.timeoutMs,
      options: body.options,
    });
  }
}
