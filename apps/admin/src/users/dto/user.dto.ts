import { z } from 'zod';

export { UserResponse, toUserResponse } from '../../auth/dto/auth.dto';

const Role = z.enum(['admin', 'member']);
const Password = z.string().min(8, 'must be at least 8 characters').max(1024);

export const CreateUserBody = z
  .strictObject({
    email: z.email().max(254),
    password: Password,
    role: Role,
    teamId: z.string().min(1).max(100).nullable().optional().describe('Required for members'),
  })
  .refine((u) => u.role === 'admin' || Boolean(u.teamId), { message: 'a member needs a teamId', path: ['teamId'] })
  .meta({ id: 'CreateUser' });
export type CreateUserBody = z.infer<typeof CreateUserBody>;

export const UpdateUserBody = z
  .strictObject({
    email: z.email().max(254).optional(),
    password: Password.optional(),
    role: Role.optional(),
    teamId: z.string().min(1).max(100).nullable().optional(),
    disabled: z.boolean().optional(),
  })
  .meta({ id: 'UpdateUser' });
export type UpdateUserBody = z.infer<typeof UpdateUserBody>;
