import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { GatewayError } from '@app/contracts';
import type { AuditContext } from '@app/db';
import type { AuthenticatedRequest } from '../current-principal.decorator';
import type { Principal } from '../principal';

/** The audit "who" of a principal acting from `ip`. */
export function auditActor(principal: Principal, ip: string | null): AuditContext {
  return {
    actorType: principal.kind === 'master' ? 'master_key' : principal.kind === 'user' ? 'user' : 'system',
    actorId: principal.userId ?? principal.apiKeyId ?? null,
    ip,
  };
}

/** `@AuditActor()`: who is making this admin write and from where, for the audit log. */
export const AuditActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuditContext => {
  const req = ctx.switchToHttp().getRequest<Request & AuthenticatedRequest>();
  if (!req.principal)
    throw new GatewayError('internal_error', 'No principal on this request: the route has no auth guard.');
  return auditActor(req.principal, req.ip ?? req.socket.remoteAddress ?? null);
});
