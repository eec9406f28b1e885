/** How a promise fared within a time limit: its value, its error, or neither yet. */
export type Outcome<T> = { state: 'resolved'; value: T } | { state: 'rejected'; error: unknown } | { state: 'late' };

/**
 * Waits for `promise` at most `ms`: its value or its error when it settled in time,
 * `late` when the time ran out first (it is not cancelled, and a later rejection is
 * handled). For a dependency that may never answer: a shutdown step, or a reload
 * that something already known can stand in for.
 */
export async function outcomeWithin<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome<T>>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), { state: 'late' })));
  const settled = promise.then(
    (value): Outcome<T> => ({ state: 'resolved', value }),
    (error: unknown): Outcome<T> => ({ state: 'rejected', error }),
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `promise` at most `ms`: `true` when it settled in time (resolved or rejected), `false` when the time ran out first. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return (await outcomeWithin(promise, ms)).state !== 'late';
}
