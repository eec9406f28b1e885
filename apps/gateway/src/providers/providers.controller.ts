import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { ApiKeyGuard } from '@app/auth';
import { ModelListResponse } from '../models/dto/model.dto';
import { AdminKeyGuard } from './admin-key.guard';
import {
  ModelsRefreshQuery,
  ProviderStatusListResponse,
  ProviderTestBody,
  ProviderTestResponse,
} from './dto/provider.dto';
import { GatewayProvidersService } from './providers.service';

/** `/v1/providers`: provider health, circuit state and models, and configuration checks. Admin and master keys only. */
@ApiTags('providers')
@ApiBearerAuth()
@ApiSecurity('x-api-key')
@ApiForbiddenResponse({ description: 'Not an admin or master key' })
@UseGuards(ApiKeyGuard, AdminKeyGuard)
@Controller('v1/providers')
export class GatewayProvidersController {
  constructor(private readonly providers: GatewayProvidersService) {}

  @Get()
  @ApiOperation({ summary: 'Every provider with its last health check and circuit state' })
  @ApiOkResponse({ standardSchema: ProviderStatusListResponse })
  list(): ProviderStatusListResponse {
    return { object: 'list', data: this.providers.list() };
  }

  @Get(':name/models')
  @ApiOperation({ summary: "A provider's models (configured and discovered) as provider/model" })
  @ApiOkResponse({ standardSchema: ModelListResponse })
  @ApiNotFoundResponse({ description: 'No such provider' })
  async models(
    @Param('name') name: string,
    @Query({ schema: ModelsRefreshQuery }) query: ModelsRefreshQuery,
  ): Promise<ModelListResponse> {
    return { object: 'list', data: await this.providers.models(name, query.refresh === 'true') };
  }

  @Post('test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check a provider configuration against its upstream without saving it' })
  @ApiOkResponse({
    standardSchema: ProviderTestResponse,
    description: 'ok=false (with the reason) when the upstream fails',
  })
  @ApiBadRequestResponse({ description: 'Invalid configuration' })
  test(@Body({ schema: ProviderTestBody }) body: ProviderTestBody): Promise<ProviderTestResponse> {
    return this.providers.test(body);
  }
}
