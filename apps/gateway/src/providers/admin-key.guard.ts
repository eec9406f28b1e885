import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthenticatedRequest } from '@app/auth';
import { GatewayError } from '@app/contracts';

/**
 * After ApiKeyGuard: only an admin principal passes, which on the gateway is the master key (API keys
 * belong to teams; admin users see providers in the admin API). 403 `permission_denied` otherwise.
 */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.role === 'admin') return true;
    throw new GatewayError(
      'permission_denied',
      'Only the master key may inspect providers here; admins see them in the admin API (/api/providers).',
    );
  }
}
