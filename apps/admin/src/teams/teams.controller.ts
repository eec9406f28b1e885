import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
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
import { AdminGuard, AuditActor, CurrentPrincipal, type Principal, Roles } from '@app/auth';
import type { AuditContext } from '@app/db';
import { CreateTeamBody, TeamResponse, UpdateTeamBody, toTeamResponse } from './dto/team.dto';
import { TeamsService } from './teams.service';

@ApiTags('teams')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Get()
  @ApiOperation({ summary: 'Every team (admins) or your own team (members)' })
  @ApiOkResponse({ standardSchema: z.array(TeamResponse) })
  async list(@CurrentPrincipal() principal: Principal): Promise<TeamResponse[]> {
    return (await this.teams.list(principal)).map(toTeamResponse);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One team (members: only their own)' })
  @ApiOkResponse({ standardSchema: TeamResponse })
  @ApiNotFoundResponse({ description: 'No such team (or not yours)' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TeamResponse> {
    return toTeamResponse(await this.teams.get(principal, id));
  }

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Create a team with optional budget, rate limits and allowed models' })
  @ApiCreatedResponse({ standardSchema: TeamResponse })
  @ApiConflictResponse({ description: 'A team with this name exists' })
  async create(
    @Body({ schema: CreateTeamBody }) body: CreateTeamBody,
    @AuditActor() actor: AuditContext,
  ): Promise<TeamResponse> {
    return toTeamResponse(await this.teams.create(body, actor));
  }

  @Patch(':id')
  @Roles('admin')
  @ApiOperation({
    summary: 'Change a team: name, budget, budget period, rpm, tpm, allowed models (null clears a limit)',
  })
  @ApiOkResponse({ standardSchema: TeamResponse })
  @ApiNotFoundResponse({ description: 'No such team' })
  @ApiConflictResponse({ description: 'A team with this name exists' })
  async update(
    @Param('id') id: string,
    @Body({ schema: UpdateTeamBody }) body: UpdateTeamBody,
    @AuditActor() actor: AuditContext,
  ): Promise<TeamResponse> {
    return toTeamResponse(await this.teams.update(id, body, actor));
  }

  @Delete(':id')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a team and its API keys (its users stay, without a team)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such team' })
  async remove(@Param('id') id: string, @AuditActor() actor: AuditContext): Promise<void> {
    await this.teams.remove(id, actor);
  }
}
