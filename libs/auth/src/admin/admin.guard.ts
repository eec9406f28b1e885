import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { IncomingHttpHeaders } from 'node:http';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { GatewayError } from '@app/contracts';
import type { AuthenticatedRequest } from '../current-principal.decorator';
import { secretsEqual } from '../keys/api-key-format';
import { MASTER_PRINCIPAL, type Principal } from '../principal';
import { ROLES_KEY } from './roles.decorator';

type AdminRequest = AuthenticatedRequest & { headers: IncomingHttpHeaders; user?: Principal };

function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/**
 * Admin API routes: `Authorization: Bearer <JWT from POST /api/auth/login>`
 * (passport-jwt) or `Bearer <MASTER_KEY>`. Attaches `req.principal` and
 * enforces `@Roles(...)`: 401 `unauthorized` without a valid credential, 403
 * `permission_denied` for a role the route does not allow.
 */
@Injectable()
export class AdminGuard extends AuthGuard('jwt') {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const token = bearerToken(req.headers);
    if (!token || token.length > 4096) {
      throw new GatewayError(
        'unauthorized',
        'Log in with POST /api/auth/login and send `Authorization: Bearer <accessToken>`.',
      );
    }
    const master = this.config.masterKey;
    if (master !== undefined && secretsEqual(token, master)) {
      req.principal = { ...MASTER_PRINCIPAL };
    } else {
      await super.canActivate(context);
      req.principal = req.user;
    }
    this.checkRole(context, req.principal);
    return true;
  }

  override handleRequest<TUser = Principal>(error: unknown, user: TUser | false | null, info: unknown): TUser {
    if (error || !user) {
      const expired = (info as { name?: string } | undefined)?.name === 'TokenExpiredError';
      throw new GatewayError(
        'unauthorized',
        expired ? 'Your session has expired: log in again.' : 'Invalid or expired access token.',
      );
    }
    return user;
  }

  private checkRole(context: ExecutionContext, principal: Principal | undefined): void {
    const roles = this.reflector.getAllAndOverride<Array<Principal['role']> | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!principal) throw new GatewayError('unauthorized', 'Invalid or expired access token.');
    if (roles && !roles.includes(principal.role)) {
      throw new GatewayError('permission_denied', 'This action needs the admin role.');
    }
  }
}
