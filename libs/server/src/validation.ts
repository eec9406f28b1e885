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

/** The global pipe: zod schemas given to `@Body({ schema })` / `@Query({ schema })` produce our 400. */
export function createValidationPipe(): StandardSchemaValidationPipe {
  return new StandardSchemaValidationPipe({ exceptionFactory: validationError });
}
