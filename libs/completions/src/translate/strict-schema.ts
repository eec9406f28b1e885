/**
 * Whether OpenAI's strict structured output (`json_schema.strict: true`) accepts a
 * schema: an object at the root; every object closed (`additionalProperties: false`)
 * with all its properties required; no keywords strict mode refuses. Pure.
 */

type Json = Record<string, unknown>;

/** Keywords strict mode refuses (OpenAI, "Supported schemas"). */
const UNSUPPORTED = [
  'allOf',
  // OpenAI: "'oneOf' is not permitted" (Pydantic's discriminated unions write it); `anyOf` is.
  'oneOf',
  'not',
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'patternProperties',
];

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every subschema a value of `schema` may be checked against, each then held to the same rules. */
function children(schema: Json): unknown[] {
  const nested = (value: unknown): unknown[] => (isRecord(value) ? Object.values(value) : []);
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? (value as unknown[]) : []);
  const items = schema['items'];
  return [
    ...nested(schema['properties']),
    ...nested(schema['$defs']),
    ...nested(schema['definitions']),
    ...(Array.isArray(items) ? (items as unknown[]) : items === undefined ? [] : [items]),
    ...list(schema['prefixItems']),
    ...list(schema['anyOf']),
  ];
}

function closedAndRequired(schema: Json): boolean {
  if (schema['type'] !== 'object' && !('properties' in schema)) return true;
  if (schema['additionalProperties'] !== false) return false;
  const required = Array.isArray(schema['required']) ? (schema['required'] as unknown[]) : [];
  return Object.keys(isRecord(schema['properties']) ? schema['properties'] : {}).every((key) => required.includes(key));
}

export function strictModeAccepts(schema: Json): boolean {
  if (schema['type'] !== 'object') return false;
  // Schemas arrive checked (depth-bounded, see json-schema.ts); `seen` guards shared nodes.
  const seen = new Set<unknown>();
  const pending: unknown[] = [schema];
  while (pending.length > 0) {
    const node = pending.pop();
    if (!isRecord(node) || seen.has(node)) continue;
    seen.add(node);
    if (UNSUPPORTED.some((keyword) => keyword in node) || !closedAndRequired(node)) return false;
    pending.push(...children(node));
  }
  return true;
}
