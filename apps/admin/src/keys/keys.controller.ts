import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { z } from 'zod';
import { AdminGuard, AuditActor, CurrentPrincipal, type Principal } from '@app/auth';
import type { AuditContext } from '@app/db';
import { CreateKeyBody, CreatedKeyResponse, KeyResponse, ListKeysQuery, toKeyResponse } from './dto/key.dto';
import { KeysService } from './keys.service';

@ApiTags('keys')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/keys')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  @Get()
  @ApiOperation({ summary: "API keys (members: their team's); never the key itself" })
  @ApiOkResponse({ standardSchema: z.array(KeyResponse) })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query({ schema: ListKeysQuery }) query: ListKeysQuery,
  ): Promise<KeyResponse[]> {
    return (await this.keys.list(principal, query.teamId)).map((k) => toKeyResponse(k));
  }

  @Get(':id')
  @ApiOkResponse({ standardSchema: KeyResponse })
  @ApiNotFoundResponse({ description: 'No such key (or not your team)' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<KeyResponse> {
    return toKeyResponse(await this.keys.get(principal, id));
  }

  @Post()
  @ApiOperation({ summary: 'Create an API key; the response carries the key itself, shown only this once' })
  @ApiCreatedResponse({ standardSchema: CreatedKeyResponse })
  @ApiNotFoundResponse({ description: 'No such team (or not yours)' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body({ schema: CreateKeyBody }) body: CreateKeyBody,
    @AuditActor() actor: AuditContext,
  ): Promise<CreatedKeyResponse> {
    const { key, plaintext } = await this.keys.create(principal, body, actor);
    return { ...toKeyResponse(key), key: plaintext };
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a key: every gateway refuses it within a second' })
  @ApiOkResponse({ standardSchema: KeyResponse })
  @ApiNotFoundResponse({ description: 'No such key (or not your team)' })
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @AuditActor() actor: AuditContext,
  ): Promise<KeyResponse> {
    return toKeyResponse(await this.keys.revoke(principal, id, actor));
  }
}
