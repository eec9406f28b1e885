import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GatewayError } from '@app/contracts';
import type { Principal } from './principal';

/** A request a guard of this lib has authenticated. */
export interface AuthenticatedRequest {
  principal?: Principal;
}

/** The {@link Principal} the route's guard attached (`ApiKeyGuard` or `AdminGuard`). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  // A route using the decorator without a guard is a programming error, not the caller's.
  if (!principal)
    throw new GatewayError('internal_error', 'No principal on this request: the route has no auth guard.');
  return principal;
});
