import { StandardSchemaValidationPipe } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { GatewayError } from '@app/contracts';

/** `messages[0].role` from a Standard Schema issue path. */
export function issuePath(issue: StandardSchemaV1.Issue): string | null {
  if (!issue.path?.length) return null;
  let out = '';
  for (const segment of issue.path) {
    const key = typeof segment === 'object' ? segment.key : segment;
    out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** A validation failure as a 400 in the OpenAI envelope, naming the first bad field. */
export function validationError(issues: readonly StandardSchemaV1.Issue[]): GatewayError {
  const first = issues[0];
  const param = first ? issuePath(first) : null;
  const detail = first ? first.message : 'Invalid request';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new GatewayError('invalid_request_error', `${param ? `${param}: ` : ''}${detail}${more}`, { param });
}

/**
 * Nest's Standard Schema pipe, but for what it strips before validating: Nest removes
 * every key named `__proto__`, `constructor` or `prototype` at any depth, so a JSON
 * Schema with a property named `constructor` or `prototype` (data like any other name)
 * lost it and kept it in `required` (a schema no answer could meet). Only `__proto__`,
 * which a merge could turn into a prototype, is removed.
 */
class GatewayValidationPipe extends StandardSchemaValidationPipe {
  protected override stripProtoKeys(value: unknown): void {
    stripDunderProto(value);
  }
}

/** Removes own `__proto__` keys (as `JSON.parse` makes them) at any depth; walks each object once, without recursion. */
export function stripDunderProto(value: unknown): void {
  const seen = new WeakSet<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current !== 'object' || current === null || seen.has(current) || ArrayBuffer.isView(current)) continue;
    seen.add(current);
    if (Object.prototype.hasOwnProperty.call(current, '__proto__'))
      delete (current as Record<string, unknown>)['__proto__'];
    for (const item of Object.values(current)) stack.push(item);
  }
}

/** The global pipe: zod schemas given to `@Body({ schema })` / `@Query({ schema })` produce our 400. */
export function createValidationPipe(): StandardSchemaValidationPipe {
  return new GatewayValidationPipe({ exceptionFactory: validationError });
}
