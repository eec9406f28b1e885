import { z } from 'zod';
import type { PriceRecord } from '@app/db';
import { usdAmount } from '../../common/usd';

const MAX_PRICE = 1_000_000;

const PricePerMTok = usdAmount(MAX_PRICE).describe('USD per million tokens');

const Provider = z
  .string()
  .trim()
  .regex(/^(\*|[A-Za-z0-9][A-Za-z0-9._:-]{0,99})$/, 'must be a provider name or *')
  .describe('A configured provider name, a provider kind, or * for any provider');
const Model = z
  .string()
  .trim()
  .regex(/^(\*|[^\s*]{1,200})$/, 'must be a model id (no spaces) or *')
  .describe(
    "A model id (dated releases such as gpt-4o-2024-08-06 match their family's entry) or * for the provider's default",
  );

export const CreatePriceBody = z
  .strictObject({
    provider: Provider,
    model: Model,
    inputPerMTok: PricePerMTok,
    outputPerMTok: PricePerMTok,
    cachedInputPerMTok: PricePerMTok.nullable()
      .optional()
      .describe('Cached input tokens; null or absent: the input price'),
  })
  .meta({ id: 'CreatePrice' });
export type CreatePriceBody = z.infer<typeof CreatePriceBody>;

export const UpdatePriceBody = CreatePriceBody.partial()
  .refine((body) => Object.keys(body).length > 0, 'give at least one field to change')
  .meta({ id: 'UpdatePrice' });
export type UpdatePriceBody = z.infer<typeof UpdatePriceBody>;

export const ResolvePriceQuery = z
  .strictObject({ provider: z.string().trim().min(1).max(100), model: z.string().trim().min(1).max(200) })
  .meta({ id: 'ResolvePriceQuery' });
export type ResolvePriceQuery = z.infer<typeof ResolvePriceQuery>;

export const PriceResponse = z
  .object({
    id: z.string(),
    provider: z.string(),
    model: z.string(),
    inputPerMTok: z.number(),
    outputPerMTok: z.number(),
    cachedInputPerMTok: z.number().nullable(),
    currency: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Price' });
export type PriceResponse = z.infer<typeof PriceResponse>;

export const ResolvedPriceResponse = z
  .object({
    provider: z.string(),
    model: z.string(),
    match: z
      .object({
        provider: z.string(),
        model: z.string(),
        inputPerMTok: z.number(),
        outputPerMTok: z.number(),
        cachedInputPerMTok: z.number().nullable(),
      })
      .nullable()
      .describe('The entry that prices this provider and model; null: unpriced (costs nothing)'),
  })
  .meta({ id: 'ResolvedPrice' });
export type ResolvedPriceResponse = z.infer<typeof ResolvedPriceResponse>;

export function toPriceResponse(price: PriceRecord): PriceResponse {
  return { ...price, createdAt: price.createdAt.toISOString(), updatedAt: price.updatedAt.toISOString() };
}

/** Decimal strings for the database: exact, since the values have at most 8 decimals. */
export function decimal(value: number): string;
export function decimal(value: number | null | undefined): string | null | undefined;
export function decimal(value: number | null | undefined): string | null | undefined {
  return value === null || value === undefined ? value : value.toFixed(8);
}
