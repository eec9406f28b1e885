import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import { PRISMA } from '../db.tokens';
import { isUniqueViolation } from './prisma-errors';

export type UserRole = 'admin' | 'member';

/** A dashboard account, without its password hash. */
export interface UserRecord {
  id: string;
  email: string;
  role: UserRole;
  teamId: string | null;
  disabled: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

export interface UserWithPassword extends UserRecord {
  passwordHash: string;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  role: UserRole;
  teamId?: string | null;
}

/** Thrown when a unique value (email, name...) is taken. */
export class DuplicateError extends Error {
  constructor(readonly field: string) {
    super(`${field} already exists`);
    this.name = 'DuplicateError';
  }
}

const PUBLIC_FIELDS = {
  id: true,
  email: true,
  role: true,
  teamId: true,
  disabled: true,
  lastLoginAt: true,
  createdAt: true,
} as const;

@Injectable()
export class UserRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  findByEmailWithPassword(email: string): Promise<UserWithPassword | null> {
    return this.prisma.user.findUnique({
      where: { email: email.toLowerCase() },
      select: { ...PUBLIC_FIELDS, passwordHash: true },
    });
  }

  findById(id: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({ where: { id }, select: PUBLIC_FIELDS });
  }

  countByRole(role: UserRole): Promise<number> {
    return this.prisma.user.count({ where: { role } });
  }

  async create(user: NewUser): Promise<UserRecord> {
    try {
      return await this.prisma.user.create({
        data: { ...user, email: user.email.toLowerCase() },
        select: PUBLIC_FIELDS,
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateError('email');
      throw error;
    }
  }
}
