/**
 * Finding JSON in model replies, which wrap it in prose, markdown fences or both.
 * Pure; used by structured-output emulation and by tool-call emulation.
 */

const FENCE = /```[ \t]*(?:json5?|jsonc|javascript|js)?[ \t]*\r?\n?([\s\S]*?)```/gi;
/** Bounds the work on a long reply full of braces that are not JSON. */
const MAX_SPANS = 64;

function tryParse(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * End (exclusive) of the balanced `{...}` or `[...]` that opens at `start`,
 * skipping brackets inside strings; -1 when it never closes.
 */
export function balancedEnd(text: string, start: number): number {
  const closers: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') closers.push('}');
    else if (ch === '[') closers.push(']');
    else if (ch === '}' || ch === ']') {
      if (closers.pop() !== ch) return -1;
      if (closers.length === 0) return i + 1;
    }
  }
  return -1;
}

/** A JSON value found in a reply, and where its text (fences included) starts and ends. */
export interface JsonCandidate {
  value: unknown;
  start: number;
  end: number;
}

/** Every balanced object or array span in reading order (outermost first), parsed when it parses. */
function* spans(text: string, opener: RegExp): Generator<JsonCandidate> {
  let tried = 0;
  for (let i = 0; i < text.length && tried < MAX_SPANS; i++) {
    if (!opener.test(text[i])) continue;
    tried++;
    const end = balancedEnd(text, i);
    if (end === -1) continue;
    const parsed = tryParse(text.slice(i, end));
    if (!parsed) continue;
    yield { value: parsed.value, start: i, end };
    i = end - 1;
  }
}

/**
 * Candidate JSON values of a reply with their places, most likely first: the whole
 * text, then each fenced block, then each balanced object (then array) in the prose.
 */
export function* jsonCandidateSpans(text: string): Generator<JsonCandidate> {
  const whole = tryParse(text.trim());
  if (whole) yield { value: whole.value, start: 0, end: text.length };
  for (const match of text.matchAll(FENCE)) {
    const fenced = tryParse(match[1].trim());
    if (fenced) yield { value: fenced.value, start: match.index, end: match.index + match[0].length };
  }
  yield* spans(text, /\{/);
  yield* spans(text, /\[/);
}

/** The values of {@link jsonCandidateSpans}. */
export function* jsonCandidates(text: string): Generator<unknown> {
  for (const candidate of jsonCandidateSpans(text)) yield candidate.value;
}

/**
 * The JSON value of a model reply — the whole text, a fenced block, or the first
 * object (else array) embedded in prose — or `undefined` when there is none.
 * (A reply of `null` is the JSON value `null`, not "no JSON".)
 */
export function extractJson(text: string): unknown {
  for (const value of jsonCandidates(text)) return value;
  return undefined;
}
