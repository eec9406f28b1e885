import { SettingRepository } from './setting.repository';
import { UserRepository } from './user.repository';

export * from './prisma-errors';
export * from './setting.repository';
export * from './user.repository';

/** Every repository, provided and exported by DbModule. */
export const REPOSITORIES = [UserRepository, SettingRepository];
