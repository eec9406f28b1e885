import { z } from 'zod';
import { hasControlCharacter } from '@app/contracts';

/**
 * zod helpers for request bodies whose validation errors must name the exact
 * field (`messages[0].content[1].image_url.url`): zod reports a failed union
 * only at the union's own path, so unions here stay shallow and the detail is
 * checked afterwards, per item, against a schema chosen by the item's `type`.
 */

type Refinement = z.core.$RefinementCtx;

/** Re-reports the issues of `schema` on `value` under `path` (relative to the refined field). */
export function reportIssues(schema: z.ZodType, value: unknown, ctx: Refinement, path: PropertyKey[] = []): void {
  const result = schema.safeParse(value);
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: [...path, ...issue.path] });
  }
}

/**
 * Items that are objects with a string `type`, each checked against the schema its
 * type selects; with `closed`, a type without a schema is an error.
 */
export function typedItems(detail: Readonly<Record<string, z.ZodType>>, closed = false) {
  return z.array(z.looseObject({ type: z.string() })).superRefine((items, ctx) => {
    items.forEach((item, i) => {
      const schema = detail[item.type];
      if (schema) reportIssues(schema, item, ctx, [i]);
      else if (closed) {
        const known = Object.keys(detail).join(', ');
        ctx.addIssue({ code: 'custom', message: `type must be one of: ${known}`, path: [i, 'type'] });
      }
    });
  });
}

/** `string | typed items[]`, with a readable message when it is neither. */
export function textOrItems(detail: Readonly<Record<string, z.ZodType>>, message: string, closed = false) {
  return z.union([z.string(), typedItems(detail, closed)], { error: message });
}

/** A JSON object (not an array, not null). */
export const jsonObject = z.record(z.string(), z.unknown());

/** A request's `model`: not empty, and without control characters (it goes upstream and into response headers). */
export const modelName = z
  .string()
  .min(1, 'model is required')
  .refine((model) => !hasControlCharacter(model), 'model must not contain control characters')
  .refine((model) => model.isWellFormed(), 'model must be valid Unicode: it holds an unpaired surrogate');
