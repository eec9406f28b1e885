import { stringForPattern, testPattern, type Work } from './sample-pattern';
import { sampleString } from './sample-scalar';
import { SampleFailure, acceptsValue, canonical, isSchema, largest, smallest, type Schema } from './schema-values';

/** Where a value is being built. */
export interface Place {
  /** `$.items[0].name`, for messages. */
  path: string;
  depth: number;
  /** Only what the schema requires: past the depth limit, or inside a recursive `$ref`. */
  minimal: boolean;
  /** 0 for the usual value; another number for another value (distinct `uniqueItems` items). */
  variant: number;
}

/** The keys an object schema builds, worked out once per list of parts. */
interface KeyPlan {
  /** The parts, with the schemas its dependencies add. */
  parts: readonly Schema[];
  keys: string[];
  required: Set<string>;
}

/** Variants tried for a `uniqueItems` item that comes out equal to an earlier one. */
const UNIQUE_TRIES = 16;
/** Names tried beyond the number still missing for `minProperties`. */
const EXTRA_NAME_TRIES = 64;
/** Longest name made up from a `patternProperties` pattern. */
const MAX_NAME_LENGTH = 64;

/** Objects and arrays of the mock's samples; the values inside come from {@link ContainerSampler.sample}. */
export abstract class ContainerSampler {
  /** What pattern tests and class scans spend, with the rest of the sample's work. */
  protected readonly work: Work = { spend: (units) => this.spend(units) };

  /** How many enclosing values each schema part belongs to: meeting one again means recursion. */
  private readonly enclosing = new Map<Schema, number>();
  private readonly keyPlans = new WeakMap<readonly Schema[], { full?: KeyPlan; minimal?: KeyPlan }>();

  constructor(
    /** Optional properties too (structured output), not only required ones (tool arguments). */
    private readonly full: boolean,
  ) {}

  /** Whether the part belongs to the schema of a value this one is inside. */
  protected isAncestor(part: unknown): boolean {
    return (this.enclosing.get(part as Schema) ?? 0) > 0;
  }

  /** `build()` with `parts` counted as enclosing the values it builds. */
  private inside<T>(parts: readonly Schema[], build: () => T): T {
    for (const part of parts) this.enclosing.set(part, (this.enclosing.get(part) ?? 0) + 1);
    try {
      return build();
    } finally {
      for (const part of parts) this.enclosing.set(part, (this.enclosing.get(part) ?? 1) - 1);
    }
  }

  abstract sample(schemas: readonly unknown[], at: Place): unknown;
  abstract expand(schemas: readonly unknown[], seen: Set<Schema>): { readonly parts: readonly Schema[] };
  abstract charge(chars: number, what?: string): void;
  abstract reserve(chars: number, what?: string): void;
  abstract mark(): number;
  abstract rewind(mark: number): void;
  /** Counts work done (kept or given up); throws once there has been too much. */
  abstract spend(units: number): void;

  /** `build()`, or `undefined` (with what it built given back) when it finds no value. */
  private optional<T>(build: () => T): T | undefined {
    const mark = this.mark();
    try {
      return build();
    } catch (error) {
      if (!(error instanceof SampleFailure)) throw error;
      this.rewind(mark);
      return undefined;
    }
  }

  protected object(schemaParts: readonly Schema[], at: Place): Record<string, unknown> {
    const { parts, keys, required } = this.keyPlan(schemaParts, at);
    return this.inside(parts, () => this.properties(parts, keys, required, at));
  }

  private properties(
    parts: readonly Schema[],
    keys: readonly string[],
    required: ReadonlySet<string>,
    at: Place,
  ): Record<string, unknown> {
    const most = smallest(parts, 'maxProperties', Infinity);
    const least = largest(parts, 'minProperties', 0);
    if (Math.max(required.size, least) > most) {
      throw new SampleFailure(
        `it needs ${Math.max(required.size, least)} properties but allows at most ${most}`,
        at.path,
      );
    }
    const out: Record<string, unknown> = {};
    let optionalRoom = most - required.size;
    const add = (key: string, isRequired: boolean): void => {
      const schemas = this.valueSchemas(parts, key);
      if (!schemas) {
        if (!isRequired) return;
        const why = 'additionalProperties, propertyNames or a false schema';
        throw new SampleFailure(`it requires the property ${JSON.stringify(key)} and forbids it (${why})`, at.path);
      }
      const child: Place = { ...at, path: `${at.path}.${key}`, depth: at.depth + 1 };
      const build = () => {
        this.charge(JSON.stringify(key).length + 2);
        return this.sample(schemas, child);
      };
      if (isRequired) return define(out, key, build());
      if (optionalRoom <= 0) return;
      const value = this.optional(build);
      if (value === undefined) return;
      define(out, key, value);
      optionalRoom--;
    };
    this.charge(2);
    for (const key of keys) add(key, required.has(key));
    let count = Object.keys(out).length;
    if (count < least) {
      this.reserve((least - count) * 6, `minProperties ${least}`);
      for (const name of this.extraNames(parts, keys, least - count + EXTRA_NAME_TRIES)) {
        if (count >= least) break;
        if (Object.hasOwn(out, name)) continue;
        add(name, false);
        count = Object.keys(out).length;
      }
      if (count < least) {
        throw new SampleFailure(`it needs at least ${least} properties; the mock finds only ${count}`, at.path);
      }
    }
    return out;
  }

  /**
   * The keys to build, in the order the schema declares them: the required ones
   * (and with `full`, outside recursion, every declared one), then whatever their
   * `dependentRequired`, `dependentSchemas` or `dependencies` add. Dependent
   * schemas join `parts`.
   */
  private keyPlan(schemaParts: readonly Schema[], at: Place): KeyPlan {
    const mode = this.full && !at.minimal ? 'full' : 'minimal';
    const known = this.keyPlans.get(schemaParts) ?? {};
    let plan = known[mode];
    if (!plan) {
      const parts = [...schemaParts];
      plan = { parts, ...this.keysOf(parts, mode === 'full') };
      this.keyPlans.set(schemaParts, { ...known, [mode]: plan });
    }
    return plan;
  }

  private keysOf(parts: Schema[], all: boolean): { keys: string[]; required: Set<string> } {
    const required = new Set<string>();
    const names: string[] = [];
    const gather = (part: Schema) => {
      if (isSchema(part['properties'])) for (const name of Object.keys(part['properties'])) names.push(name);
      if (Array.isArray(part['required'])) {
        for (const name of part['required']) if (typeof name === 'string') required.add(name);
      }
    };
    parts.forEach(gather);
    const chosen = new Set<string>(all ? [...names, ...required] : required);
    const applied = new Set<unknown>();
    for (let changed = true; changed;) {
      changed = false;
      for (const key of [...chosen]) {
        for (const part of [...parts]) {
          for (const source of [part['dependentRequired'], part['dependentSchemas'], part['dependencies']]) {
            if (!isSchema(source) || !Object.hasOwn(source, key) || applied.has(source[key])) continue;
            const dependency = source[key];
            applied.add(dependency);
            changed = true;
            if (Array.isArray(dependency)) {
              for (const name of dependency) if (typeof name === 'string') required.add(name);
            } else {
              const more = this.expand([dependency], new Set(parts)).parts;
              more.forEach(gather);
              for (const part of more) parts.push(part);
            }
            required.forEach((name) => chosen.add(name));
          }
        }
      }
    }
    const declared = [...new Set(names)].filter((name) => chosen.has(name));
    return { keys: [...new Set([...declared, ...chosen])], required };
  }

  /**
   * The schemas a property's value must satisfy: the `properties` entry of each
   * part, the `patternProperties` its name matches, else `additionalProperties`
   * (and `unevaluatedProperties` when none of these cover it). `undefined` when
   * the name is not allowed.
   */
  private valueSchemas(parts: readonly Schema[], key: string): unknown[] | undefined {
    const schemas: unknown[] = [];
    let evaluated = false;
    for (const part of parts) {
      let covered = false;
      const properties = part['properties'];
      if (isSchema(properties) && Object.hasOwn(properties, key)) {
        schemas.push(properties[key]);
        covered = true;
      }
      const patterns = part['patternProperties'];
      for (const [pattern, schema] of Object.entries(isSchema(patterns) ? patterns : {})) {
        if (testPattern(pattern, key, this.work)) {
          schemas.push(schema);
          covered = true;
        }
      }
      if (!covered && 'additionalProperties' in part) {
        schemas.push(part['additionalProperties']);
        covered = true;
      }
      evaluated ||= covered;
    }
    if (!evaluated) {
      for (const part of parts) if ('unevaluatedProperties' in part) schemas.push(part['unevaluatedProperties']);
    }
    if (schemas.includes(false)) return undefined;
    const named = parts.every((part) => !('propertyNames' in part) || this.nameAllowed(part['propertyNames'], key));
    return named ? schemas : undefined;
  }

  private nameAllowed(schema: unknown, name: string): boolean {
    try {
      return acceptsValue(this.expand([schema], new Set()).parts, name, this.work);
    } catch (error) {
      if (error instanceof SampleFailure) return false;
      throw error;
    }
  }

  /** Names for `minProperties`: declared ones not built yet, then made from `patternProperties`, then `propertyNames`. */
  private *extraNames(parts: readonly Schema[], built: readonly string[], tries: number): Generator<string> {
    const declared = parts.flatMap((part) => (isSchema(part['properties']) ? Object.keys(part['properties']) : []));
    const patterns = parts.flatMap((part) =>
      Object.keys(isSchema(part['patternProperties']) ? part['patternProperties'] : {}),
    );
    const naming = parts.filter((part) => 'propertyNames' in part).map((part) => part['propertyNames']);
    let left = tries;
    for (const name of declared) {
      if (left-- <= 0) return;
      if (!built.includes(name)) yield name;
    }
    for (let variant = 0; left > 0; variant++) {
      const names = patterns.map((pattern) => stringForPattern(pattern, 0, MAX_NAME_LENGTH, variant, this.work));
      const plain = this.optional(() => sampleString(this.expand(naming, new Set()).parts, variant, this.work));
      for (const name of [...names, plain]) {
        if (left-- <= 0) return;
        if (name !== undefined) yield name;
      }
    }
  }

  protected array(parts: readonly Schema[], at: Place): unknown[] {
    const minItems = largest(parts, 'minItems', 0);
    const maxItems = smallest(parts, 'maxItems', Infinity);
    const containing = parts.filter((part) => 'contains' in part);
    const contained = containing.length > 0 ? largest(containing, 'minContains', 1) : 0;
    const least = Math.max(minItems, contained);
    if (least > maxItems) throw new SampleFailure(`it needs ${least} items but allows at most ${maxItems}`, at.path);
    const tuple = parts.reduce((most, part) => Math.max(most, prefixOf(part)?.length ?? 0), 0);
    // Beyond what is required: the whole tuple, or one item to show its shape.
    const wanted = Math.min(maxItems, at.minimal ? least : Math.max(least, tuple, 1));
    // Each item takes at least a character and a comma: refuse at once rather than item by item.
    this.charge(2 + 2 * least, `minItems ${least}`);
    const unique = parts.some((part) => part['uniqueItems'] === true);
    return this.inside(parts, () => this.items(parts, at, { least, wanted, contained, containing, unique }));
  }

  private items(
    parts: readonly Schema[],
    at: Place,
    plan: { least: number; wanted: number; contained: number; containing: readonly Schema[]; unique: boolean },
  ): unknown[] {
    const { least, wanted, contained, containing, unique } = plan;
    const seen = new Set<string>();
    const items: unknown[] = [];
    for (let index = 0; index < wanted; index++) {
      const schemas = [
        ...itemSchemas(parts, index),
        ...(index < contained ? containing.map((p) => p['contains']) : []),
      ];
      const place: Place = { ...at, path: `${at.path}[${index}]`, depth: at.depth + 1 };
      const build = () => this.item(schemas, place, index, unique ? seen : undefined);
      if (index < least) {
        items.push(build());
        continue;
      }
      const value = this.optional(build);
      if (value === undefined) break;
      items.push(value);
    }
    return items;
  }

  /** An item; with `uniqueItems`, the first of its variants unlike the items before it. */
  private item(schemas: unknown[], at: Place, index: number, seen: Set<string> | undefined): unknown {
    if (!seen) return this.sample(schemas, at);
    for (let variant = at.variant + index; variant < at.variant + index + UNIQUE_TRIES; variant++) {
      const mark = this.mark();
      const value = this.sample(schemas, { ...at, variant });
      const key = canonical(value);
      if (!seen.has(key)) {
        seen.add(key);
        return value;
      }
      this.rewind(mark);
    }
    throw new SampleFailure(`uniqueItems: the mock finds no item ${index + 1} unlike the ones before it`, at.path);
  }
}

/** `__proto__` as a plain property, as JSON.parse makes it. */
function define(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** The tuple of a part: `prefixItems` (2020-12) or an `items` array (older drafts). */
function prefixOf(part: Schema): unknown[] | undefined {
  const tuple = Array.isArray(part['prefixItems']) ? part['prefixItems'] : part['items'];
  return Array.isArray(tuple) ? (tuple as unknown[]) : undefined;
}

/** The schemas of the item at `index`: each part's tuple entry, or what it says of the items after its tuple. */
function itemSchemas(parts: readonly Schema[], index: number): unknown[] {
  const schemas: unknown[] = [];
  let evaluated = false;
  for (const part of parts) {
    const tuple = prefixOf(part);
    const rest = !tuple ? 'items' : Array.isArray(part['prefixItems']) ? 'items' : 'additionalItems';
    if (tuple && index < tuple.length) {
      schemas.push(tuple[index]);
      evaluated = true;
    } else if (rest in part) {
      schemas.push(part[rest]);
      evaluated = true;
    }
  }
  if (!evaluated) for (const part of parts) if ('unevaluatedItems' in part) schemas.push(part['unevaluatedItems']);
  return schemas;
}
