import { z } from 'zod';

export const LoginBody = z
  .strictObject({
    // Any address an account may have: the credentials decide, not the format.
    email: z.string().trim().min(1).max(254),
    password: z.string().min(1).max(1024),
  })
  .meta({ id: 'LoginRequest' });
export type LoginBody = z.infer<typeof LoginBody>;

export const UserResponse = z
  .object({
    id: z.string(),
    email: z.string(),
    role: z.enum(['admin', 'member']),
    teamId: z.string().nullable(),
    disabled: z.boolean(),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'User' });
export type UserResponse = z.infer<typeof UserResponse>;

export const LoginResponse = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    /** Seconds until the token expires. */
    expiresIn: z.number(),
    user: UserResponse,
  })
  .meta({ id: 'LoginResponse' });
export type LoginResponse = z.infer<typeof LoginResponse>;

export const MeResponse = z
  .object({
    kind: z.enum(['master', 'user']),
    role: z.enum(['admin', 'member']),
    teamId: z.string().nullable(),
    label: z.string(),
    user: UserResponse.nullable(),
  })
  .meta({ id: 'AdminPrincipal' });
export type MeResponse = z.infer<typeof MeResponse>;

export function toUserResponse(user: {
  id: string;
  email: string;
  role: 'admin' | 'member';
  teamId: string | null;
  disabled: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}): UserResponse {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    teamId: user.teamId,
    disabled: user.disabled,
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
  };
}
