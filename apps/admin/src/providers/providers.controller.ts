import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { z } from 'zod';
import { AdminGuard, AuditActor, Roles } from '@app/auth';
import type { AuditContext } from '@app/db';
import {
  CreateProviderBody,
  ProbeResponse,
  ProviderModelsResponse,
  ProviderResponse,
  UpdateProviderBody,
  toProviderResponse,
} from './dto/provider.dto';
import { type AdminProvider, ProvidersService } from './providers.service';

@ApiTags('providers')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Roles('admin')
@Controller('api/providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Get()
  @ApiOperation({ summary: 'Every provider: stored ones and those configured through the environment (read-only)' })
  @ApiOkResponse({ standardSchema: z.array(ProviderResponse) })
  async list(): Promise<ProviderResponse[]> {
    return (await this.providers.list()).map((p) => this.respond(p));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One provider (`env:<name>` for environment ones); the API key is never returned' })
  @ApiOkResponse({ standardSchema: ProviderResponse })
  @ApiNotFoundResponse({ description: 'No such provider' })
  async get(@Param('id') id: string): Promise<ProviderResponse> {
    return this.respond(await this.providers.get(id));
  }

  @Post()
  @ApiOperation({ summary: 'Add a provider; its API key is stored encrypted and never returned' })
  @ApiCreatedResponse({ standardSchema: ProviderResponse })
  @ApiBadRequestResponse({ description: 'Invalid body, or a setting the kind needs is missing' })
  @ApiConflictResponse({ description: 'A provider with this name exists' })
  async create(
    @Body({ schema: CreateProviderBody }) body: CreateProviderBody,
    @AuditActor() actor: AuditContext,
  ): Promise<ProviderResponse> {
    return this.respond({ source: 'database', record: await this.providers.create(body, actor) });
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a provider (apiKey: a new key, or null to remove it)' })
  @ApiOkResponse({ standardSchema: ProviderResponse })
  @ApiNotFoundResponse({ description: 'No such provider' })
  @ApiConflictResponse({ description: 'Name taken, or an environment provider (read-only)' })
  async update(
    @Param('id') id: string,
    @Body({ schema: UpdateProviderBody }) body: UpdateProviderBody,
    @AuditActor() actor: AuditContext,
  ): Promise<ProviderResponse> {
    return this.respond({ source: 'database', record: await this.providers.update(id, body, actor) });
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a provider (refused while routes use it)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such provider' })
  @ApiConflictResponse({ description: 'Used by routes, or an environment provider (read-only)' })
  async remove(@Param('id') id: string, @AuditActor() actor: AuditContext): Promise<void> {
    await this.providers.remove(id, actor);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Check a provider: health check upstream and a short model listing' })
  @ApiOkResponse({ standardSchema: ProbeResponse, description: 'ok=false (with the reason) when the upstream fails' })
  @ApiNotFoundResponse({ description: 'No such provider' })
  async test(@Param('id') id: string): Promise<ProbeResponse> {
    return this.providers.test(id);
  }

  @Get(':id/models')
  @ApiOperation({ summary: 'Discover the models the provider serves, now' })
  @ApiOkResponse({ standardSchema: ProviderModelsResponse })
  @ApiNotFoundResponse({ description: 'No such provider' })
  async models(@Param('id') id: string): Promise<ProviderModelsResponse> {
    return this.providers.discover(id);
  }

  private respond(provider: AdminProvider): ProviderResponse {
    return toProviderResponse(provider, this.providers.statusOf(provider));
  }
}
