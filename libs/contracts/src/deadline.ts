/**
 * Waits for `promise` at most `ms`: `true` when it settled in time (resolved or
 * rejected), `false` when the time ran out first (it is not cancelled). For the
 * steps of a shutdown, which must not hang on a dependency that never answers.
 */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), false)));
  const settled = promise.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
