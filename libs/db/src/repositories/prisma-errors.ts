/** Prisma's "unique constraint failed" (P2002), whatever the adapter. */
export function isUniqueViolation(error: unknown): boolean {
  return hasCode(error, 'P2002') || hasCode(error, '23505');
}

/** A row the operation needed does not exist (P2025) or a foreign key points nowhere (P2003). */
export function isMissingRecord(error: unknown): boolean {
  return hasCode(error, 'P2025');
}

export function isForeignKeyViolation(error: unknown): boolean {
  return hasCode(error, 'P2003') || hasCode(error, '23503');
}

function hasCode(error: unknown, code: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    code?: unknown;
    cause?: unknown;
    meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
  };
  if (e.code === code) return true;
  if (e.meta?.driverAdapterError?.cause?.originalCode === code) return true;
  return e.cause !== undefined && e.cause !== error && hasCode(e.cause, code);
}
