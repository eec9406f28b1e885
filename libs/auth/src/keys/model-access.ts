import { Injectable } from '@nestjs/common';
import { GatewayError } from '@app/contracts';
import type { Principal } from '../principal';

/**
 * What an empty intersection of two non-empty allow-lists becomes: a pattern no
 * model name can match (an empty list would mean "every model").
 */
export const NO_MODELS = '!none';

function matches(pattern: string, model: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/*')) return model.length > pattern.length - 1 && model.startsWith(pattern.slice(0, -1));
  return pattern === model;
}

/** The pattern matching exactly the models both `a` and `b` match, when one covers the other. */
function intersectPatterns(a: string, b: string): string | undefined {
  if (matches(a, b)) return b;
  if (matches(b, a)) return a;
  return undefined;
}

type ModelPrincipal = Pick<Principal, 'allowedModels' | 'label'>;

/**
 * Model allow-lists: exact names (`gpt-4o-mini`, a route alias, an agent id)
 * and `provider/*` patterns; `*` and an empty list allow every model. Usable
 * statically (`ModelAccess.assertAllowed(p, m)`) or injected.
 */
@Injectable()
export class ModelAccess {
  /** The list allowing what both lists allow: a key's list can only narrow its team's. */
  static intersect(keyList: readonly string[], teamList: readonly string[]): string[] {
    if (keyList.length === 0) return [...teamList];
    if (teamList.length === 0) return [...keyList];
    const result = new Set<string>();
    for (const k of keyList) {
      for (const t of teamList) {
        const both = intersectPatterns(k, t);
        if (both !== undefined) result.add(both);
      }
    }
    return result.size > 0 ? [...result] : [NO_MODELS];
  }

  static isAllowed(principal: Pick<Principal, 'allowedModels'>, model: string): boolean {
    const list = principal.allowedModels;
    return list.length === 0 || list.some((pattern) => matches(pattern, model));
  }

  /** @throws GatewayError 403 `model_not_allowed` */
  static assertAllowed(principal: ModelPrincipal, model: string): void {
    if (ModelAccess.isAllowed(principal, model)) return;
    throw new GatewayError(
      'model_not_allowed',
      `The API key ${principal.label} is not allowed to use the model ${JSON.stringify(model.slice(0, 200))}.`,
      { param: 'model' },
    );
  }

  isAllowed(principal: Pick<Principal, 'allowedModels'>, model: string): boolean {
    return ModelAccess.isAllowed(principal, model);
  }

  assertAllowed(principal: ModelPrincipal, model: string): void {
    ModelAccess.assertAllowed(principal, model);
  }
}
