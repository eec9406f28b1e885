/** Builds a deterministic sample value that satisfies a (reasonable) JSON Schema. */

type Schema = Record<string, unknown>;

export interface SampleOptions {
  /** `required`: only required properties (tool arguments); `all`: every property. */
  properties: 'required' | 'all';
}

const MAX_DEPTH = 8;

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
  constructor(
    private readonly root: Schema,
    private readonly options: SampleOptions,
  ) {}

  sample(node: unknown, depth: number): unknown {
    if (!isSchema(node) || depth > MAX_DEPTH) return null;
    if (typeof node['$ref'] === 'string') return this.sample(resolveRef(node['$ref'], this.root), depth + 1);
    if ('const' in node) return node['const'];
    if (Array.isArray(node['enum']) && node['enum'].length > 0) return node['enum'][0];
    if ('default' in node) return node['default'];
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
      case 'array': {
        const min = typeof node['minItems'] === 'number' ? node['minItems'] : 1;
        return Array.from({ length: Math.max(1, min) }, () => this.sample(node['items'] ?? {}, depth + 1));
      }
      case 'string':
        return sampleString(node);
      case 'integer':
        return sampleNumber(node, true);
      case 'number':
        return sampleNumber(node, false);
      case 'boolean':
        return true;
      case 'null':
        return null;
      default:
        return 'mock';
    }
  }

  private object(node: Schema, depth: number): Record<string, unknown> {
    const properties = isSchema(node['properties']) ? node['properties'] : {};
    const required = Array.isArray(node['required'])
      ? node['required'].filter((k): k is string => typeof k === 'string')
      : [];
    const keys = this.options.properties === 'all' ? [...new Set([...Object.keys(properties), ...required])] : required;
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = this.sample(properties[key] ?? {}, depth + 1);
    return out;
  }
}

export function sampleFromSchema(schema: unknown, options: SampleOptions): unknown {
  const root = isSchema(schema) ? schema : {};
  return new Sampler(root, options).sample(root, 0);
}
