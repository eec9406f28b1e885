import { GatewayError } from '@app/contracts';

/** Builds a deterministic sample value that satisfies a (reasonable) JSON Schema. */

type Schema = Record<string, unknown>;

export interface SampleOptions {
  /** `required`: only required properties (tool arguments); `all`: every property. */
  properties: 'required' | 'all';
  /** The request field that holds the schema, named by the 400 when the sample would be too large. */
  param: string;
}

const MAX_DEPTH = 8;

/**
 * The most JSON (in characters, as serialised) one sample may take. A schema that
 * requires more (`minItems`, items times nesting, recursive `$ref`s, large `const`s
 * repeated) is refused with a 400 before the work is done, rather than freezing the
 * event loop while building it.
 */
export const MAX_SAMPLE_CHARS = 100_000;

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(ref: string, root: Schema): unknown {
  if (!ref.startsWith('#/')) return {};
  let node: unknown = root;
  for (const segment of ref.slice(2).split('/')) {
    node = isSchema(node) ? node[segment.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  }
  return node ?? {};
}

function typeOf(schema: Schema): string | undefined {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null') ?? 'null';
  if (isSchema(schema['properties'])) return 'object';
  if (schema['items'] !== undefined) return 'array';
  return undefined;
}

function sampleString(schema: Schema): string {
  switch (schema['format']) {
    case 'date-time':
      return '2024-01-01T00:00:00Z';
    case 'date':
      return '2024-01-01';
    case 'email':
      return 'mock@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    default:
      return 'mock';
  }
}

function sampleNumber(schema: Schema, integer: boolean): number {
  const min = typeof schema['minimum'] === 'number' ? schema['minimum'] : undefined;
  const exclusive = typeof schema['exclusiveMinimum'] === 'number' ? schema['exclusiveMinimum'] + 1 : undefined;
  const value = exclusive ?? min ?? 1;
  return integer ? Math.ceil(value) : value;
}

class Sampler {
  /** Characters of JSON generated so far, separators included. */
  private chars = 0;
  /** Resolved once each: a long `$ref` path is not walked again for every item that uses it. */
  private readonly refs = new Map<string, unknown>();

  constructor(
    private readonly root: Schema,
    private readonly options: SampleOptions,
  ) {}

  sample(node: unknown, depth: number): unknown {
    if (!isSchema(node) || depth > MAX_DEPTH) return this.leaf(null);
    if (typeof node['$ref'] === 'string') return this.sample(this.resolve(node['$ref']), depth + 1);
    if ('const' in node) return this.leaf(node['const']);
    if (Array.isArray(node['enum']) && node['enum'].length > 0) return this.leaf(node['enum'][0]);
    if ('default' in node) return this.leaf(node['default']);
    for (const key of ['anyOf', 'oneOf', 'allOf']) {
      const options = node[key];
      if (Array.isArray(options) && options.length > 0) return this.sample(options[0], depth + 1);
    }
    return this.byType(node, depth);
  }

  private byType(node: Schema, depth: number): unknown {
    switch (typeOf(node)) {
      case 'object':
        return this.object(node, depth);
      case 'array':
        return this.array(node, depth);
      case 'string':
        return this.leaf(sampleString(node));
      case 'integer':
        return this.leaf(sampleNumber(node, true));
      case 'number':
        return this.leaf(sampleNumber(node, false));
      case 'boolean':
        return this.leaf(true);
      case 'null':
        return this.leaf(null);
      default:
        return this.leaf('mock');
    }
  }

  private resolve(ref: string): unknown {
    if (!this.refs.has(ref)) this.refs.set(ref, resolveRef(ref, this.root));
    return this.refs.get(ref);
  }

  private array(node: Schema, depth: number): unknown[] {
    const min = typeof node['minItems'] === 'number' ? Math.max(1, node['minItems']) : 1;
    // Each item takes at least a character and a comma: refuse at once rather than item by item.
    this.charge(2 + 2 * min, `minItems ${min}`);
    const items: unknown[] = [];
    for (let i = 0; i < min; i++) items.push(this.sample(node['items'] ?? {}, depth + 1));
    return items;
  }

  private object(node: Schema, depth: number): Record<string, unknown> {
    const properties = isSchema(node['properties']) ? node['properties'] : {};
    const required = Array.isArray(node['required'])
      ? node['required'].filter((k): k is string => typeof k === 'string')
      : [];
    const keys = this.options.properties === 'all' ? [...new Set([...Object.keys(properties), ...required])] : required;
    this.charge(2);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      this.charge(key.length + 4);
      out[key] = this.sample(properties[key] ?? {}, depth + 1);
    }
    return out;
  }

  /** A value used as is (a `const`, an `enum` member, a `default`, a sample scalar), counted at its JSON size. */
  private leaf(value: unknown): unknown {
    this.charge((JSON.stringify(value) ?? '').length + 1);
    return value;
  }

  private charge(chars: number, what = 'its nesting, sizes and constants'): void {
    this.chars += chars;
    if (this.chars <= MAX_SAMPLE_CHARS) return;
    throw new GatewayError(
      'invalid_request_error',
      `The mock provider generates at most ${MAX_SAMPLE_CHARS} characters of JSON for a schema; ` +
        `this schema needs more (${what}).`,
      { param: this.options.param },
    );
  }
}

/**
 * A deterministic value for the schema, or a 400 naming `options.param` when the
 * value would take more than {@link MAX_SAMPLE_CHARS} characters of JSON.
 */
export function sampleFromSchema(schema: unknown, options: SampleOptions): unknown {
  const root = isSchema(schema) ? schema : {};
  return new Sampler(root, options).sample(root, 0);
}
