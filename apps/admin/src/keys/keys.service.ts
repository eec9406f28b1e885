import { Injectable } from '@nestjs/common';
import { KeyInvalidationBus, type Principal, TeamScope, generateApiKey } from '@app/auth';
import { GatewayError } from '@app/contracts';
import { type ApiKeyRecord, ApiKeyRepository, type AuditContext, MissingReferenceError, TeamRepository } from '@app/db';
import type { CreateKeyBody } from './dto/key.dto';

const keyNotFound = () => new GatewayError('not_found', 'API key not found.');
const teamNotFound = () => new GatewayError('not_found', 'Team not found.', { param: 'teamId' });

/**
 * API keys: admins manage every team's, members only their own team's.
 * Revocation reaches every gateway's key cache at once.
 */
@Injectable()
export class KeysService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly teams: TeamRepository,
    private readonly invalidations: KeyInvalidationBus,
  ) {}

  list(principal: Principal, teamId?: string): Promise<ApiKeyRecord[]> {
    return this.keys.list(TeamScope.forListing(principal, teamId));
  }

  async get(principal: Principal, id: string): Promise<ApiKeyRecord> {
    const key = await this.keys.findById(id);
    if (!key || !TeamScope.canSee(principal, key.teamId)) throw keyNotFound();
    return key;
  }

  /** Returns the stored key and its plaintext, which exists only in this response. */
  async create(
    principal: Principal,
    body: CreateKeyBody,
    actor: AuditContext,
  ): Promise<{ key: ApiKeyRecord; plaintext: string }> {
    const teamId = this.teamFor(principal, body.teamId);
    if (!(await this.teams.findById(teamId))) throw teamNotFound();
    const expiresAt = body.expiresAt ? new Date(body.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new GatewayError('invalid_request_error', 'expiresAt: must be in the future', { param: 'expiresAt' });
    }
    const generated = generateApiKey();
    try {
      const key = await this.keys.create(
        {
          teamId,
          name: body.name,
          keyHash: generated.hash,
          prefix: generated.prefix,
          createdById: principal.userId ?? null,
          expiresAt,
          allowedModels: [...new Set(body.allowedModels ?? [])],
          rpmLimit: body.rpm ?? null,
          tpmLimit: body.tpm ?? null,
          budgetUsd: body.budgetUsd ?? null,
          budgetPeriod: body.budgetPeriod ?? 'total',
        },
        actor,
      );
      return { key, plaintext: generated.plaintext };
    } catch (error) {
      // The team was deleted between the check and the insert.
      if (error instanceof MissingReferenceError) throw teamNotFound();
      throw error;
    }
  }

  async revoke(principal: Principal, id: string, actor: AuditContext): Promise<ApiKeyRecord> {
    await this.get(principal, id);
    const key = await this.keys.revoke(id, actor);
    if (!key) throw keyNotFound();
    await this.invalidations.publish({ keyId: key.id });
    return key;
  }

  private teamFor(principal: Principal, requested: string | undefined): string {
    if (principal.role !== 'admin') {
      const own = TeamScope.ownTeam(principal);
      if (requested !== undefined && requested !== own) throw teamNotFound();
      return own;
    }
    if (!requested) throw new GatewayError('invalid_request_error', 'teamId: required', { param: 'teamId' });
    return requested;
  }
}
