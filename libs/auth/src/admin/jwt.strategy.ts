import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { UserRepository } from '@app/db';
import type { Principal } from '../principal';

/** What the dashboard's JWT carries. The account is re-read on every request, so role changes and disabling apply at once. */
export interface AdminTokenPayload {
  sub: string;
  email: string;
  role: Principal['role'];
  teamId: string | null;
}

export function jwtSecretOf(config: AppConfig): string {
  if (!config.jwtSecret) throw new Error('JWT_SECRET is not resolved (resolveSecrets runs at boot)');
  return config.jwtSecret;
}

/** passport-jwt: verifies signature and expiry, then loads the account behind the token. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly users: UserRepository,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      ignoreExpiration: false,
      secretOrKey: jwtSecretOf(config),
      algorithms: ['HS256'],
    });
  }

  async validate(payload: AdminTokenPayload): Promise<Principal | null> {
    if (typeof payload.sub !== 'string') return null;
    const user = await this.users.findById(payload.sub);
    if (!user || user.disabled) return null;
    return {
      kind: 'user',
      role: user.role,
      teamId: user.teamId,
      userId: user.id,
      label: user.email,
      allowedModels: [],
    };
  }
}
