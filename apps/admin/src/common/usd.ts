import { z } from 'zod';

/** Exactly representable with the 8 decimals the database keeps (no silent rounding). */
export function atMost8Decimals(value: number): boolean {
  const scaled = value * 1e8;
  return Math.abs(scaled - Math.round(scaled)) < 1e-4;
}

/** An amount of US dollars as the database keeps it: at most 8 decimals, refused (not rounded) beyond. */
export const usdAmount = (max: number) =>
  z.number().nonnegative().max(max).refine(atMost8Decimals, 'must have at most 8 decimal places');
