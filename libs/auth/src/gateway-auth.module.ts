import { Global, Module } from '@nestjs/common';
import { ApiKeyAuthService } from './keys/api-key-auth.service';
import { ApiKeyGuard } from './keys/api-key.guard';
import { KeyInvalidationBus } from './keys/key-invalidation';
import { LastUsedTracker } from './keys/last-used.tracker';
import { ModelAccess } from './keys/model-access';
import { RequestLimiter } from './limits/request-limiter.service';

/**
 * Gateway side of auth: API-key authentication with its cache, model access and
 * the request limiter. Global, so any gateway feature can `@UseGuards(ApiKeyGuard)`
 * and inject {@link RequestLimiter}. Needs DbModule and RedisModule.
 */
@Global()
@Module({
  providers: [KeyInvalidationBus, LastUsedTracker, ApiKeyAuthService, ApiKeyGuard, ModelAccess, RequestLimiter],
  exports: [KeyInvalidationBus, ApiKeyAuthService, ApiKeyGuard, ModelAccess, RequestLimiter],
})
export class GatewayAuthModule {}
