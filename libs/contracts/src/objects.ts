/**
 * `{ ...base, ...extra }` for the request path. On Node 20 (V8 11.3) an object
 * literal that opens with a spread and adds properties after it takes a slow
 * runtime path (~0.7 µs against ~0.1 µs here) and makes its copy in the old
 * generation, so everything the copy refers to (a whole request body, an
 * upstream answer) outlives the young-generation collections until the next
 * full one. `Object.assign` onto a fresh object does neither, with the same
 * result for plain data: own enumerable properties of `base`, then `extra`'s.
 */
export function withFields<T extends object, U extends object>(base: T, extra: U): Spread<T, U> {
  return Object.assign({}, base, extra);
}

/** Whether `value` is an object that is not an array (a JSON object, parsed). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The type of `{ ...T, ...U }`: `T`'s properties that `U` does not replace (index signatures kept), and `U`'s. */
export type Spread<T, U> = { [K in keyof T as K extends keyof U ? never : K]: T[K] } & U;

/**
 * Whether `value` nests objects and arrays deeper than `limit` levels (a scalar
 * is 0 deep, `{}` and `[]` 1). It looks no deeper than `limit`, so it is safe on
 * any value; it visits every object and array above that depth, not strings.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null && nestsDeeperThan(item, limit - 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item === 'object' && item !== null && nestsDeeperThan(item, limit - 1)) return true;
  }
  return false;
}
