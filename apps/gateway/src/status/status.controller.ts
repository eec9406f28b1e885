import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentPrincipal, ModelAccess, type Principal } from '@app/auth';
import { type GatewayStatus, type ProviderStatus, StatusService } from '@app/usage';

/**
 * The providers as a key may see them: those it may use, with the models it may use
 * (all of them for the master key, or a key allowed every model); the configuration
 * beyond that is for admins (`/v1/providers`, the admin API). A model is the key's to
 * use by its `provider/model` name, or by its bare name where that names it alone (one
 * enabled provider serves it), as requests resolve names.
 */
function visibleTo(principal: Principal, providers: ProviderStatus[]): ProviderStatus[] {
  if (principal.role === 'admin') return providers;
  const servedBy = new Map<string, number>();
  for (const provider of providers) {
    if (!provider.enabled) continue;
    for (const model of provider.models) servedBy.set(model, (servedBy.get(model) ?? 0) + 1);
  }
  const usable = (provider: ProviderStatus, model: string) =>
    ModelAccess.isAllowed(principal, `${provider.name}/${model}`) ||
    (provider.enabled &&
      servedBy.get(model) === 1 &&
      ModelAccess.isAllowedAs(principal, [model, `${provider.name}/${model}`]));
  const visible: ProviderStatus[] = [];
  for (const provider of providers) {
    const models = provider.models.filter((model) => usable(provider, model));
    if (models.length > 0 || ModelAccess.isAllowed(principal, `${provider.name}/*`)) {
      visible.push(models.length === provider.models.length ? provider : { ...provider, models });
    }
  }
  return visible;
}

@ApiTags('observability')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/status')
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  @ApiOperation({
    summary:
      'Version, uptime, request totals of this replica, stored sessions, and the providers (and models) the key may use, with their state',
  })
  @ApiOkResponse({ description: 'Gateway status' })
  async get(@CurrentPrincipal() principal: Principal): Promise<GatewayStatus> {
    const status = await this.status.status();
    return { ...status, providers: visibleTo(principal, status.providers) };
  }
}
