import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient } from '../generated/prisma/client';
import { PRISMA } from '../db.tokens';
import { insertAudit } from './audit.repository';
import { isForeignKeyViolation, isMissingRecord, isUniqueViolation } from './prisma-errors';
import { type AuditContext, auditDiff, auditFields, isRowId } from './team.repository';

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
    if (!isRowId(id)) return Promise.resolve(null);
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

  /** Every account, or one team's, by email. */
  list(teamId?: string): Promise<UserRecord[]> {
    return this.prisma.user.findMany({ where: { teamId }, select: PUBLIC_FIELDS, orderBy: { email: 'asc' } });
  }

  /** Creates the account and its audit row together. @throws DuplicateError('email'), MissingUserTeamError */
  async createAudited(user: NewUser, audit: AuditContext): Promise<UserRecord> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const created = await tx.user.create({ data: { ...user, email: user.email.toLowerCase() }, select: PUBLIC_FIELDS });
        await insertAudit(tx, {
          ...audit,
          action: 'user.create',
          targetType: 'user',
          targetId: created.id,
          changes: auditFields(created, AUDITED_USER_FIELDS),
        });
        return created;
      });
    } catch (error) {
      throw translateUserError(error);
    }
  }

  /**
   * Applies `patch` (a new password is recorded as `password: "changed"`);
   * `null` when there is no such user. @throws DuplicateError('email'), MissingUserTeamError
   */
  async updateAudited(id: string, patch: UserPatch, audit: AuditContext): Promise<UserRecord | null> {
    if (!isRowId(id)) return null;
    try {
      return await this.prisma.$transaction(async (tx) => {
        const before = await tx.user.findUnique({ where: { id }, select: PUBLIC_FIELDS });
        if (!before) return null;
        const data = { ...patch, email: patch.email?.toLowerCase() };
        const after = await tx.user.update({ where: { id }, data, select: PUBLIC_FIELDS });
        const changes = auditDiff(before, after, AUDITED_USER_FIELDS);
        if (patch.passwordHash) changes.password = 'changed';
        await insertAudit(tx, { ...audit, action: 'user.update', targetType: 'user', targetId: id, changes });
        return after;
      });
    } catch (error) {
      if (isMissingRecord(error)) return null;
      throw translateUserError(error);
    }
  }

  /** Deletes the account; `null` when there is no such user. */
  async deleteAudited(id: string, audit: AuditContext): Promise<UserRecord | null> {
    if (!isRowId(id)) return null;
    try {
      return await this.prisma.$transaction(async (tx) => {
        const user = await tx.user.findUnique({ where: { id }, select: PUBLIC_FIELDS });
        if (!user) return null;
        await tx.user.delete({ where: { id } });
        await insertAudit(tx, { ...audit, action: 'user.delete', targetType: 'user', targetId: id, changes: { email: user.email } });
        return user;
      });
    } catch (error) {
      if (isMissingRecord(error)) return null;
      throw error;
    }
  }

  async recordLogin(id: string, at: Date): Promise<void> {
    await this.prisma.user.update({ where: { id }, data: { lastLoginAt: at } }).catch(() => undefined);
  }
}

export interface UserPatch {
  email?: string;
  passwordHash?: string;
  role?: UserRole;
  teamId?: string | null;
  disabled?: boolean;
}

/** The user's team does not exist. */
export class MissingUserTeamError extends Error {
  constructor() {
    super('team not found');
    this.name = 'MissingUserTeamError';
  }
}

const AUDITED_USER_FIELDS: Array<keyof UserRecord> = ['email', 'role', 'teamId', 'disabled'];

function translateUserError(error: unknown): unknown {
  if (isUniqueViolation(error)) return new DuplicateError('email');
  if (isForeignKeyViolation(error)) return new MissingUserTeamError();
  return error;
}
