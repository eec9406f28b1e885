import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { type AdminTokenPayload, LoginThrottle, type Principal, hashPassword, verifyPassword } from '@app/auth';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { GatewayError } from '@app/contracts';
import { UserRepository } from '@app/db';
import { type LoginResponse, type MeResponse, toUserResponse } from './dto/auth.dto';

/** Compared against when the email is unknown, so both failures take as long. */
let dummyHash: Promise<string> | undefined;

@Injectable()
export class AuthService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UserRepository,
    private readonly jwt: JwtService,
    private readonly throttle: LoginThrottle,
  ) {}

  /**
   * @throws GatewayError 429 when the account or address has too many recent failures,
   * 401 `unauthorized` for a wrong email or password (the same message for both)
   */
  async login(email: string, password: string, ip: string): Promise<LoginResponse> {
    await this.throttle.assertAllowed(email, ip);
    const user = await this.users.findByEmailWithPassword(email);
    const valid = await verifyPassword(
      password,
      user?.passwordHash ?? (await (dummyHash ??= hashPassword('not-a-real-password'))),
    );
    if (!user || !valid || user.disabled) {
      await this.throttle.recordFailure(email, ip);
      throw new GatewayError('unauthorized', 'Invalid email or password.');
    }
    await this.throttle.recordSuccess(email);
    const now = new Date();
    await this.users.recordLogin(user.id, now);
    const payload: AdminTokenPayload = { sub: user.id, email: user.email, role: user.role, teamId: user.teamId };
    return {
      accessToken: await this.jwt.signAsync(payload),
      tokenType: 'Bearer',
      expiresIn: this.config.jwtExpiresInSeconds,
      user: toUserResponse({ ...user, lastLoginAt: now }),
    };
  }

  async me(principal: Principal): Promise<MeResponse> {
    const user = principal.userId ? await this.users.findById(principal.userId) : null;
    return {
      kind: principal.kind === 'master' ? 'master' : 'user',
      role: principal.role,
      teamId: principal.teamId,
      label: principal.label,
      user: user ? toUserResponse(user) : null,
    };
  }
}
