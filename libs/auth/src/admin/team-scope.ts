import { GatewayError } from '@app/contracts';
import type { Principal } from '../principal';

/**
 * Tenancy rules of the admin API: admins see every team, members only their
 * own. Another team's resource is reported as missing (404), never as
 * forbidden, so members cannot probe which ids exist.
 */
export const TeamScope = {
  canSee(principal: Principal, teamId: string | null): boolean {
    return principal.role === 'admin' || (principal.teamId !== null && principal.teamId === teamId);
  },

  /** @throws GatewayError 404 `not_found` (`<what> not found`) when the principal may not see the team's resource */
  assertCanSee(principal: Principal, teamId: string | null, what: string): void {
    if (!TeamScope.canSee(principal, teamId)) throw new GatewayError('not_found', `${what} not found.`);
  },

  /**
   * The team a listing is restricted to: a member's own team (asking for
   * another is a 404), an admin's requested team, or `undefined` for all.
   */
  forListing(principal: Principal, requested?: string): string | undefined {
    if (principal.role === 'admin') return requested;
    const own = TeamScope.ownTeam(principal);
    if (requested !== undefined && requested !== own) throw new GatewayError('not_found', 'Team not found.');
    return own;
  },

  /** The team a member acts for. @throws GatewayError 403 for a member without a team */
  ownTeam(principal: Principal): string {
    if (!principal.teamId) throw new GatewayError('permission_denied', 'Your account belongs to no team.');
    return principal.teamId;
  },
};
