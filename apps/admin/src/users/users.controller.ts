import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
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
import { CreateUserBody, UpdateUserBody, UserResponse, toUserResponse } from './dto/user.dto';
import { UsersService } from './users.service';

const ListUsersQuery = z.object({ teamId: z.string().min(1).max(100).optional() });

@ApiTags('users')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Roles('admin')
@Controller('api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'Dashboard accounts, optionally of one team' })
  @ApiOkResponse({ standardSchema: z.array(UserResponse) })
  async list(@Query({ schema: ListUsersQuery }) query: z.infer<typeof ListUsersQuery>): Promise<UserResponse[]> {
    return (await this.users.list(query.teamId)).map(toUserResponse);
  }

  @Get(':id')
  @ApiOkResponse({ standardSchema: UserResponse })
  @ApiNotFoundResponse({ description: 'No such user' })
  async get(@Param('id') id: string): Promise<UserResponse> {
    return toUserResponse(await this.users.get(id));
  }

  @Post()
  @ApiOperation({ summary: 'Create an account: role admin, or member of a team' })
  @ApiCreatedResponse({ standardSchema: UserResponse })
  @ApiConflictResponse({ description: 'The email is taken' })
  @ApiNotFoundResponse({ description: 'No such team' })
  async create(
    @Body({ schema: CreateUserBody }) body: CreateUserBody,
    @AuditActor() actor: AuditContext,
  ): Promise<UserResponse> {
    return toUserResponse(await this.users.create(body, actor));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change email, password, role, team or disable an account' })
  @ApiOkResponse({ standardSchema: UserResponse })
  @ApiNotFoundResponse({ description: 'No such user or team' })
  @ApiConflictResponse({ description: 'Email taken, or it would leave no active admin' })
  async update(
    @Param('id') id: string,
    @Body({ schema: UpdateUserBody }) body: UpdateUserBody,
    @AuditActor() actor: AuditContext,
  ): Promise<UserResponse> {
    return toUserResponse(await this.users.update(id, body, actor));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiConflictResponse({ description: 'Your own account, or the last active admin' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @AuditActor() actor: AuditContext,
  ): Promise<void> {
    await this.users.remove(principal, id, actor);
  }
}
