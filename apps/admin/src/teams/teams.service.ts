import { Injectable } from '@nestjs/common';
import { KeyInvalidationBus, type Principal, TeamScope } from '@app/auth';
import { GatewayError } from '@app/contracts';
import { type AuditContext, DuplicateError, type TeamFields, type TeamRecord, TeamRepository } from '@app/db';
import type { CreateTeamBody, UpdateTeamBody } from './dto/team.dto';

function toFields(body: UpdateTeamBody): Partial<TeamFields> {
  const fields: Partial<TeamFields> = {
    name: body.name,
    budgetUsd: body.budgetUsd,
    budgetPeriod: body.budgetPeriod,
    rpmLimit: body.rpm,
    tpmLimit: body.tpm,
    allowedModels: body.allowedModels ? [...new Set(body.allowedModels)] : undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}

const notFound = () => new GatewayError('not_found', 'Team not found.');
const duplicate = (name: string | undefined) =>
  new GatewayError('conflict', `A team named ${JSON.stringify(name)} already exists.`, { param: 'name' });

/** Teams: admins manage them; members see their own. Limit changes reach the gateways' key caches at once. */
@Injectable()
export class TeamsService {
  constructor(
    private readonly teams: TeamRepository,
    private readonly invalidations: KeyInvalidationBus,
  ) {}

  async list(principal: Principal): Promise<TeamRecord[]> {
    if (principal.role === 'admin') return this.teams.list();
    const own = await this.teams.findById(TeamScope.ownTeam(principal));
    return own ? [own] : [];
  }

  async get(principal: Principal, id: string): Promise<TeamRecord> {
    const team = await this.teams.findById(id);
    if (!team) throw notFound();
    TeamScope.assertCanSee(principal, team.id, 'Team');
    return team;
  }

  async create(body: CreateTeamBody, actor: AuditContext): Promise<TeamRecord> {
    const fields = toFields(body);
    try {
      return await this.teams.create(
        {
          name: body.name,
          budgetUsd: fields.budgetUsd ?? null,
          budgetPeriod: fields.budgetPeriod ?? 'total',
          rpmLimit: fields.rpmLimit ?? null,
          tpmLimit: fields.tpmLimit ?? null,
          allowedModels: fields.allowedModels ?? [],
        },
        actor,
      );
    } catch (error) {
      if (error instanceof DuplicateError) throw duplicate(body.name);
      throw error;
    }
  }

  async update(id: string, body: UpdateTeamBody, actor: AuditContext): Promise<TeamRecord> {
    let team: TeamRecord | null;
    try {
      team = await this.teams.update(id, toFields(body), actor);
    } catch (error) {
      if (error instanceof DuplicateError) throw duplicate(body.name);
      throw error;
    }
    if (!team) throw notFound();
    await this.invalidations.publish({ teamId: team.id });
    return team;
  }

  async remove(id: string, actor: AuditContext): Promise<void> {
    const team = await this.teams.delete(id, actor);
    if (!team) throw notFound();
    await this.invalidations.publish({ teamId: team.id });
  }
}
