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
import { CreateRouteBody, RouteResponse, UpdateRouteBody, toRouteResponse } from './dto/route.dto';
import { RoutesService } from './routes.service';

@ApiTags('routes')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Roles('admin')
@Controller('api/routes')
export class RoutesController {
  constructor(private readonly routes: RoutesService) {}

  @Get()
  @ApiOperation({ summary: 'Every route alias with its targets in order' })
  @ApiOkResponse({ standardSchema: z.array(RouteResponse) })
  async list(): Promise<RouteResponse[]> {
    return (await this.routes.list()).map(toRouteResponse);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One route' })
  @ApiOkResponse({ standardSchema: RouteResponse })
  @ApiNotFoundResponse({ description: 'No such route' })
  async get(@Param('id') id: string): Promise<RouteResponse> {
    return toRouteResponse(await this.routes.get(id));
  }

  @Post()
  @ApiOperation({ summary: 'Create a route alias: ordered targets and a strategy' })
  @ApiCreatedResponse({ standardSchema: RouteResponse })
  @ApiBadRequestResponse({ description: 'Invalid body, or a target names an unknown provider' })
  @ApiConflictResponse({ description: 'A route with this alias exists' })
  async create(
    @Body({ schema: CreateRouteBody }) body: CreateRouteBody,
    @AuditActor() actor: AuditContext,
  ): Promise<RouteResponse> {
    return toRouteResponse(await this.routes.create(body, actor));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a route; `targets` replaces the whole list' })
  @ApiOkResponse({ standardSchema: RouteResponse })
  @ApiBadRequestResponse({ description: 'Invalid body, or a target names an unknown provider' })
  @ApiNotFoundResponse({ description: 'No such route' })
  @ApiConflictResponse({ description: 'A route with this alias exists' })
  async update(
    @Param('id') id: string,
    @Body({ schema: UpdateRouteBody }) body: UpdateRouteBody,
    @AuditActor() actor: AuditContext,
  ): Promise<RouteResponse> {
    return toRouteResponse(await this.routes.update(id, body, actor));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a route alias' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No such route' })
  async remove(@Param('id') id: string, @AuditActor() actor: AuditContext): Promise<void> {
    await this.routes.remove(id, actor);
  }
}
