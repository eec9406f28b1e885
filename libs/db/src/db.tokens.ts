/** Injection token of the open {@link Database} (shared per process). */
export const DATABASE = Symbol('DATABASE');
/** Injection token of the Prisma client; only repositories in this lib inject it. */
export const PRISMA = Symbol('PRISMA');
