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

type ModelPrincipal = Pick<Principal, 'allowedModels' | 'modelLists' | 'label'>;
type ListsOf = Pick<Principal, 'allowedModels' | 'modelLists'>;

function allows(list: readonly string[], model: string): boolean {
  return list.some((pattern) => matches(pattern, model));
}

/** The lists a model must pass, each on its own (none: every model). */
function listsOf(principal: ListsOf): ReadonlyArray<readonly string[]> {
  return principal.modelLists ?? (principal.allowedModels.length > 0 ? [principal.allowedModels] : []);
}

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

  static isAllowed(principal: ListsOf, model: string): boolean {
    return listsOf(principal).every((list) => allows(list, model));
  }

  /**
   * Whether each list allows one of `names`, the names of one model (a bare name
   * and the `provider/model` it resolves to).
   */
  static isAllowedAs(principal: ListsOf, names: readonly string[]): boolean {
    return listsOf(principal).every((list) => names.some((name) => allows(list, name)));
  }

  /**
   * Whether each list allows `name` (a route alias, a bare model name), or every
   * model it reaches (`targets`, as `provider/model`): a key allowed an alias by
   * name, in a team allowed `provider/*`, may use the alias when all its targets
   * are that provider's.
   */
  static isAllowedVia(principal: ListsOf, name: string, targets: readonly string[]): boolean {
    return listsOf(principal).every(
      (list) => allows(list, name) || (targets.length > 0 && targets.every((target) => allows(list, target))),
    );
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

  isAllowed(principal: ListsOf, model: string): boolean {
    return ModelAccess.isAllowed(principal, model);
  }

  isAllowedAs(principal: ListsOf, names: readonly string[]): boolean {
    return ModelAccess.isAllowedAs(principal, names);
  }

  isAllowedVia(principal: ListsOf, name: string, targets: readonly string[]): boolean {
    return ModelAccess.isAllowedVia(principal, name, targets);
  }

  assertAllowed(principal: ModelPrincipal, model: string): void {
    ModelAccess.assertAllowed(principal, model);
  }
}
