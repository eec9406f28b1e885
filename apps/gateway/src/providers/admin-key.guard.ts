import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { AuthenticatedRequest } from '@app/auth';
import { GatewayError } from '@app/contracts';

/** After ApiKeyGuard: only the master key and admin keys pass (403 `permission_denied` otherwise). */
@Injectable()
export class AdminKeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.role === 'admin') return true;
    throw new GatewayError('permission_denied', 'Only the master key and admin keys may inspect providers.');
  }
}
