import { Global, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { AdminGuard } from './admin/admin.guard';
import { jwtSecretOf, JwtStrategy } from './admin/jwt.strategy';
import { LoginThrottle } from './admin/login-throttle';
import { KeyInvalidationBus } from './keys/key-invalidation';

/**
 * Admin side of auth: JWT issuing and checking (passport-jwt), the master key,
 * roles, login throttling, and publishing key invalidations. Global, so every
 * admin feature can `@UseGuards(AdminGuard)`. Needs DbModule and RedisModule.
 */
@Global()
@Module({
  imports: [
    PassportModule,
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        secret: jwtSecretOf(config),
        signOptions: { expiresIn: config.jwtExpiresInSeconds, algorithm: 'HS256' },
      }),
    }),
  ],
  providers: [JwtStrategy, AdminGuard, LoginThrottle, KeyInvalidationBus],
  exports: [JwtModule, AdminGuard, LoginThrottle, KeyInvalidationBus],
})
export class AdminAuthModule {}
