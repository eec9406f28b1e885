/**
 * Deterministic "model output" shared by the provider fakes: token counts, text pieces
 * for streaming, values that fit a JSON Schema, and embedding vectors.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonRecord = Record<string, unknown>;

/** Trigger phrase in the last user message that makes a fake answer with a tool call. */
export const TOOL_TRIGGER = /call tool/i;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): JsonRecord {
  return isRecord(value) ? value : {};
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The fakes' tokenizer: one token per started group of 4 characters. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Splits text into word-sized pieces (whitespace kept) that concatenate back to it. */
export function splitWords(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\s)/);
}

/** Splits text into pieces of `size` characters, e.g. tool arguments across stream chunks. */
export function splitEvery(text: string, size: number): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

export interface LimitedText {
  text: string;
  /** Why generation stopped: natural end, token limit, or a stop sequence. */
  reason: 'end' | 'length' | 'stop_sequence';
  stopSequence?: string;
}

/** Applies stop sequences, then the output token limit (`countTokens` in reverse). */
export function applyLimits(text: string, maxTokens: number | undefined, stops: string[]): LimitedText {
  let result: LimitedText = { text, reason: 'end' };
  for (const stop of stops) {
    const at = stop === '' ? -1 : result.text.indexOf(stop);
    if (at !== -1) result = { text: result.text.slice(0, at), reason: 'stop_sequence', stopSequence: stop };
  }
  if (maxTokens !== undefined && countTokens(result.text) > maxTokens) {
    return { text: result.text.slice(0, Math.max(0, maxTokens) * 4), reason: 'length' };
  }
  return result;
}

/** Stop sequences given as a string or a list (OpenAI `stop`, Anthropic `stop_sequences`). */
export function stopList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return asArray(value).filter((s): s is string => typeof s === 'string');
}

/**
 * The tools to call in one turn: the forced one; else each offered tool the prompt
 * names, in the order it names them (parallel tool calls, as OpenAI and Claude make
 * them), only the first of them when `parallel` is false; else the first tool.
 */
export function pickTools<T extends { name: string }>(
  tools: T[],
  prompt: string,
  forced: string | undefined,
  parallel: boolean,
): T[] {
  if (forced !== undefined) return tools.filter((t) => t.name === forced).slice(0, 1);
  const named = tools
    .filter((t) => prompt.includes(t.name))
    .sort((a, b) => prompt.indexOf(a.name) - prompt.indexOf(b.name));
  if (named.length === 0) return tools.slice(0, 1);
  return parallel ? named : named.slice(0, 1);
}

/** A value that conforms (roughly but plausibly) to a JSON Schema. */
export function sampleFromSchema(schema: unknown, key = 'value', root: unknown = schema, depth = 0): JsonValue {
  const s = asRecord(resolveRef(schema, root));
  if (depth > 8) return null;
  if ('const' in s) return toJson(s.const);
  if (Array.isArray(s.enum) && s.enum.length > 0) return toJson(s.enum[0]);
  const variants = asArray(s.anyOf ?? s.oneOf);
  if (variants.length > 0) {
    const preferred = variants.find((v) => asRecord(v).type !== 'null') ?? variants[0];
    return sampleFromSchema(preferred, key, root, depth + 1);
  }
  if (Array.isArray(s.allOf)) return sampleFromSchema(Object.assign({}, ...s.allOf.map(asRecord)), key, root, depth);
  switch (schemaType(s)) {
    case 'object':
      return sampleObject(s, root, depth);
    case 'array': {
      const count = Math.max(1, asNumber(s.minItems) ?? 1);
      return Array.from({ length: count }, () => sampleFromSchema(s.items ?? {}, key, root, depth + 1));
    }
    case 'integer':
      return Math.ceil(Math.max(asNumber(s.minimum) ?? 42, asNumber(s.exclusiveMinimum) ?? -Infinity));
    case 'number':
      return asNumber(s.minimum) ?? 42.5;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      return sampleString(s, key);
  }
}

function sampleObject(s: JsonRecord, root: unknown, depth: number): JsonValue {
  const properties = asRecord(s.properties);
  const required = asArray(s.required).filter((k): k is string => typeof k === 'string');
  const keys = required.length > 0 ? required : Object.keys(properties);
  const out: Record<string, JsonValue> = {};
  for (const k of keys) out[k] = sampleFromSchema(properties[k] ?? {}, k, root, depth + 1);
  return out;
}

function sampleString(s: JsonRecord, key: string): string {
  switch (s.format) {
    case 'date-time':
      return '2025-01-01T00:00:00Z';
    case 'date':
      return '2025-01-01';
    case 'email':
      return 'user@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
  }
  const text = `sample ${key}`;
  const min = asNumber(s.minLength) ?? 0;
  const max = asNumber(s.maxLength) ?? Infinity;
  return text.padEnd(min, 'x').slice(0, max);
}

function schemaType(s: JsonRecord): string | undefined {
  const type: unknown = s.type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null') ?? 'null';
  if (typeof type === 'string') return type;
  if ('properties' in s) return 'object';
  if ('items' in s) return 'array';
  return undefined;
}

function resolveRef(schema: unknown, root: unknown): unknown {
  const ref = asString(asRecord(schema).$ref);
  if (ref === undefined || !ref.startsWith('#/')) return schema;
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = asRecord(node)[part];
  return node ?? {};
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

/** A deterministic unit-length vector for a text (same text, same vector). */
export function embedText(text: string, dimensions: number): number[] {
  let seed = fnv1a(text);
  const raw = Array.from({ length: dimensions }, () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  });
  const norm = Math.hypot(...raw) || 1;
  return raw.map((x) => Math.fround(x / norm));
}

/** Float32 little-endian bytes in base64, as OpenAI sends `encoding_format: 'base64'`. */
export function toBase64Floats(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString('base64');
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
