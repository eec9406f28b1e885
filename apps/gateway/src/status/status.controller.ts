import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '@app/auth';
import { type GatewayStatus, StatusService } from '@app/usage';

@ApiTags('observability')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@UseGuards(ApiKeyGuard)
@Controller('v1/status')
export class StatusController {
  constructor(private readonly status: StatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Version, uptime, request totals of this replica, stored sessions, providers and their state',
  })
  @ApiOkResponse({ description: 'Gateway status' })
  get(): Promise<GatewayStatus> {
    return this.status.status();
  }
}
