import { SetMetadata } from '@nestjs/common';
import type { Principal } from '../principal';

export const ROLES_KEY = 'llm-gateway:roles';

/** Restricts an admin route (or controller) to these roles; without it any authenticated user passes. */
export const Roles = (...roles: Array<Principal['role']>) => SetMetadata(ROLES_KEY, roles);
