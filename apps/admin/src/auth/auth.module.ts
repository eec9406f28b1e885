import { Module } from '@nestjs/common';
import { AdminAuthModule } from '@app/auth';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';

/** `POST /api/auth/login`, `GET /api/auth/me`; brings in the admin guard for every other feature. */
@Module({
  imports: [AdminAuthModule],
  controllers: [AuthController],
  providers: [AuthService],
})
export class AuthModule {}
