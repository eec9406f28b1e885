import { Injectable } from '@nestjs/common';
import { type Principal, hashPassword } from '@app/auth';
import { GatewayError } from '@app/contracts';
import {
  type AuditContext,
  DuplicateError,
  MissingUserTeamError,
  TeamRepository,
  type UserPatch,
  type UserRecord,
  UserRepository,
} from '@app/db';
import type { CreateUserBody, UpdateUserBody } from './dto/user.dto';

const notFound = () => new GatewayError('not_found', 'User not found.');
const teamNotFound = () => new GatewayError('not_found', 'Team not found.', { param: 'teamId' });

/** Dashboard accounts (admins only). The platform always keeps at least one active admin. */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly teams: TeamRepository,
  ) {}

  list(teamId?: string): Promise<UserRecord[]> {
    return this.users.list(teamId);
  }

  async get(id: string): Promise<UserRecord> {
    const user = await this.users.findById(id);
    if (!user) throw notFound();
    return user;
  }

  async create(body: CreateUserBody, actor: AuditContext): Promise<UserRecord> {
    const teamId = body.teamId ?? null;
    if (teamId !== null && !(await this.teams.findById(teamId))) throw teamNotFound();
    try {
      return await this.users.createAudited(
        { email: body.email, passwordHash: await hashPassword(body.password), role: body.role, teamId },
        actor,
      );
    } catch (error) {
      throw this.translate(error, body.email);
    }
  }

  async update(id: string, body: UpdateUserBody, actor: AuditContext): Promise<UserRecord> {
    const current = await this.get(id);
    const role = body.role ?? current.role;
    const teamId = body.teamId === undefined ? current.teamId : body.teamId;
    if (role === 'member' && !teamId)
      throw new GatewayError('invalid_request_error', 'teamId: a member needs a team', { param: 'teamId' });
    if (body.teamId && !(await this.teams.findById(body.teamId))) throw teamNotFound();
    const losesAdmin = current.role === 'admin' && !current.disabled && (role !== 'admin' || body.disabled === true);
    if (losesAdmin) await this.assertAnotherAdmin(id);
    const patch: UserPatch = { email: body.email, role: body.role, teamId: body.teamId, disabled: body.disabled };
    if (body.password !== undefined) patch.passwordHash = await hashPassword(body.password);
    try {
      const updated = await this.users.updateAudited(id, patch, actor);
      if (!updated) throw notFound();
      return updated;
    } catch (error) {
      throw this.translate(error, body.email);
    }
  }

  async remove(principal: Principal, id: string, actor: AuditContext): Promise<void> {
    const current = await this.get(id);
    if (principal.userId === id) throw new GatewayError('conflict', 'You cannot delete your own account.');
    if (current.role === 'admin' && !current.disabled) await this.assertAnotherAdmin(id);
    if (!(await this.users.deleteAudited(id, actor))) throw notFound();
  }

  private async assertAnotherAdmin(id: string): Promise<void> {
    const admins = (await this.users.list()).filter((u) => u.role === 'admin' && !u.disabled && u.id !== id);
    if (admins.length === 0)
      throw new GatewayError('conflict', 'This is the last active admin: create another admin first.');
  }

  private translate(error: unknown, email: string | undefined): unknown {
    if (error instanceof DuplicateError) {
      return new GatewayError('conflict', `A user with the email ${JSON.stringify(email)} already exists.`, {
        param: 'email',
      });
    }
    if (error instanceof MissingUserTeamError) return teamNotFound();
    return error;
  }
}
