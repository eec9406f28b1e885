import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { DuplicateError, UserRepository } from '@app/db';
import { hashPassword } from './password-hasher';

export interface BootstrapResult {
  email: string;
  /** Only when the password was generated: shown once, never stored in clear. */
  generatedPassword?: string;
}

const DEFAULT_ADMIN_EMAIL = 'admin@example.com';

/**
 * Creates the first admin account when the platform has none: from
 * ADMIN_EMAIL / ADMIN_PASSWORD, or with a generated password that the boot
 * prints once.
 */
@Injectable()
export class AdminBootstrapService {
  private readonly logger = new Logger(AdminBootstrapService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UserRepository,
  ) {}

  async ensureAdmin(): Promise<BootstrapResult | undefined> {
    if ((await this.users.countByRole('admin')) > 0) return undefined;
    const email = this.config.bootstrapAdmin.email ?? DEFAULT_ADMIN_EMAIL;
    const configured = this.config.bootstrapAdmin.password;
    const password = configured ?? randomBytes(12).toString('base64url');
    const generatedPassword = configured ? undefined : password;
    try {
      await this.users.create({ email, passwordHash: await hashPassword(password), role: 'admin' });
    } catch (error) {
      // Another replica booting at the same moment created it first.
      if (error instanceof DuplicateError) return undefined;
      throw error;
    }
    this.logger.log(`Created the first admin account ${email}`);
    return { email, generatedPassword };
  }
}
