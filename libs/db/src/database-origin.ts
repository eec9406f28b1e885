/** Errors the drivers of this lib threw: the database layer's own (see {@link markDatabaseError}). */
const fromDriver = new WeakSet<object>();

/**
 * Marks an error a driver of this lib threw (the same object, for `throw`): a
 * socket error is a database outage only when it comes from the database layer,
 * and node-postgres' are bare (`connect ECONNREFUSED ...`), like anyone else's.
 */
export function markDatabaseError<T>(error: T): T {
  if (typeof error === 'object' && error !== null) fromDriver.add(error);
  return error;
}

/** Throws `error` marked (a `promise.catch` handler). */
export function throwMarked(error: unknown): never {
  throw markDatabaseError(error);
}

/**
 * Whether an error came from the database layer: one our drivers threw, or one
 * Prisma's client or its driver adapter raised.
 */
export function fromDatabaseLayer(error: object): boolean {
  if (fromDriver.has(error)) return true;
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' && (name.startsWith('PrismaClient') || name === 'DriverAdapterError');
}
