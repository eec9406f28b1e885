import { ApiKeyRepository } from './api-key.repository';
import { AuditRepository } from './audit.repository';
import { PricingRepository } from './pricing.repository';
import { ProviderRepository } from './provider.repository';
import { RouteRepository } from './route.repository';
import { SettingRepository } from './setting.repository';
import { SpendRepository } from './spend.repository';
import { TeamRepository } from './team.repository';
import { UsageRepository } from './usage.repository';
import { UserRepository } from './user.repository';

export * from './api-key.repository';
export * from './audit.repository';
export * from './prisma-errors';
export * from './provider.repository';
export * from './route.repository';
export * from './spend.repository';
export * from './team.repository';
export * from './pricing.repository';
export * from './setting.repository';
export * from './usage.repository';
export * from './user.repository';

/** Every repository, provided and exported by DbModule. */
export const REPOSITORIES = [UserRepository, SettingRepository, TeamRepository, ApiKeyRepository, AuditRepository, SpendRepository, ProviderRepository, RouteRepository, UsageRepository, PricingRepository];
