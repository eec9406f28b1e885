import { isSchema, type Schema } from './schema-values';

/**
 * The `$ref`s of one schema, resolved once each (a long `$ref` path is not walked
 * again for every item that uses it): `#`, `#/json/pointer`, `#anchor`, and the
 * `$id`s of subschemas. A reference it cannot follow resolves to `undefined`,
 * which stands for any value; the final check judges the result.
 */
export class SchemaRefs {
  private readonly refs = new Map<string, unknown>();
  private ids?: Map<string, unknown>;

  constructor(private readonly root: Schema) {}

  resolve(ref: string): unknown {
    if (!this.refs.has(ref)) this.refs.set(ref, this.lookup(ref));
    return this.refs.get(ref);
  }

  private lookup(ref: string): unknown {
    const hash = ref.indexOf('#');
    const base = hash < 0 ? ref : ref.slice(0, hash);
    const fragment = hash < 0 ? '' : ref.slice(hash + 1);
    const document = base === '' || base === this.root['$id'] ? this.root : this.index().get(base);
    if (!fragment) return document;
    if (!fragment.startsWith('/')) return this.index().get(`#${fragment}`);
    let node = document;
    for (const raw of fragment.slice(1).split('/')) {
      const segment = decoded(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = Array.isArray(node) ? node[Number(segment)] : isSchema(node) ? node[segment] : undefined;
    }
    return node;
  }

  /** Every subschema's `$id`, `$anchor` and `$dynamicAnchor` (built once, when a reference needs it). */
  private index(): Map<string, unknown> {
    if (this.ids) return this.ids;
    const ids = new Map<string, unknown>();
    const stack: unknown[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop();
      if (Array.isArray(node)) for (const item of node as unknown[]) stack.push(item);
      if (!isSchema(node)) continue;
      if (typeof node['$id'] === 'string') ids.set(node['$id'].replace(/#$/, ''), node);
      for (const key of ['$anchor', '$dynamicAnchor']) {
        if (typeof node[key] === 'string') ids.set(`#${node[key]}`, node);
      }
      for (const value of Object.values(node)) stack.push(value);
    }
    this.ids = ids;
    return ids;
  }
}

/** A pointer segment's `%xx` escapes decoded (a malformed one is taken as written). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
