import { checkFormat } from '@app/contracts';
import { codePoints, stringForPattern, testPattern, type Work } from './sample-pattern';
import { SampleFailure, isMultipleOf, largest, numberOf, smallest, stringsOf, type Schema } from './schema-values';

/**
 * Strings and numbers for the mock's samples: the first value that honours every
 * part's length, `pattern`, `format`, range and `multipleOf`. `variant` > 0 asks
 * for another such value (distinct items for `uniqueItems`). Throws
 * {@link SampleFailure} when none is found.
 */

interface FormatSample {
  sample(variant: number): string;
  /** The sample made `by` code points longer, where the format allows it. */
  lengthen?(text: string, by: number): string | undefined;
  /** A shorter sample, for a `maxLength` below the usual one. */
  short?(variant: number): string;
}

const suffix = (variant: number) => (variant === 0 ? '' : String(variant));
const day = (variant: number) => new Date(Date.UTC(2024, 0, 1) + variant * 86_400_000).toISOString().slice(0, 10);
const clock = (variant: number) => new Date(variant * 1000).toISOString().slice(11, 19);
const append = (text: string, by: number) => text + 'x'.repeat(by);
/** Fractional seconds: `00:00:00Z` -> `00:00:00.000Z`. */
const fraction = (text: string, by: number) => (by < 2 ? undefined : text.replace(/Z$/, `.${'0'.repeat(by - 1)}Z`));
const beforeAt = (text: string, by: number) => text.replace('@', `${'x'.repeat(by)}@`);
const path = (text: string, by: number) => (text.includes('/', 8) ? append(text, by) : `${text}/${'x'.repeat(by - 1)}`);
/** More labels in front (each at most 63 characters and a dot); the validator checks the 253 in all. */
function labels(text: string, by: number): string | undefined {
  let prefix = '';
  for (let left = by; left > 0;) {
    if (left === 1) return undefined;
    const label = Math.min(63, left - 1);
    prefix += `${'x'.repeat(label)}.`;
    left -= label + 1;
  }
  return prefix + text;
}

const DATE_TIME: FormatSample = { sample: (v) => `${day(v)}T00:00:00Z`, lengthen: fraction };
const TIME: FormatSample = { sample: (v) => `${clock(v)}Z`, lengthen: fraction };
const EMAIL: FormatSample = {
  sample: (v) => `mock${suffix(v)}@example.com`,
  lengthen: beforeAt,
  short: (v) => `${v === 0 ? 'm' : v.toString(36)}@e.co`,
};
const URI: FormatSample = { sample: (v) => `https://example.com${v === 0 ? '' : `/${v}`}`, lengthen: path };
const HOSTNAME: FormatSample = {
  sample: (v) => (v === 0 ? 'example.com' : `mock${v}.example.com`),
  lengthen: labels,
  short: (v) => `x${suffix(v)}`,
};

/** Samples of the formats the gateway's validator checks (ajv-formats); others are free text to it. */
const FORMATS: Record<string, FormatSample> = {
  date: { sample: day },
  'date-time': DATE_TIME,
  'iso-date-time': DATE_TIME,
  time: TIME,
  'iso-time': TIME,
  duration: { sample: (v) => `P${v + 1}D`, lengthen: (text, by) => text.replace('P', `P${'0'.repeat(by)}`) },
  email: EMAIL,
  uri: URI,
  url: URI,
  'uri-reference': URI,
  'uri-template': { sample: (v) => `https://example.com/{id${suffix(v)}}`, lengthen: append },
  hostname: HOSTNAME,
  ipv4: {
    sample: (v) => (v < 256 ? `192.0.2.${v}` : `10.${(v >> 16) & 255}.${(v >> 8) & 255}.${v & 255}`),
  },
  ipv6: {
    sample: (v) =>
      v < 0xffff
        ? `2001:db8::${(v + 1).toString(16)}`
        : `2001:db8::${Math.floor(v / 0xffff).toString(16)}:${((v % 0xffff) + 1).toString(16)}`,
  },
  uuid: { sample: (v) => `00000000-0000-4000-8000-${v.toString(16).padStart(12, '0')}` },
  'json-pointer': { sample: (v) => `/mock${suffix(v)}`, lengthen: append },
  'json-pointer-uri-fragment': { sample: (v) => `#/mock${suffix(v)}`, lengthen: append },
  'relative-json-pointer': { sample: (v) => `${v}`, lengthen: (text, by) => `${text}/${'x'.repeat(by - 1)}` },
  regex: { sample: (v) => `mock${suffix(v)}`, lengthen: append },
  byte: {
    sample: (v) => Buffer.from(`mock${suffix(v)}`).toString('base64'),
    lengthen: (text, by) => (by % 4 === 0 ? 'AAAA'.repeat(by / 4) + text : undefined),
  },
};

function formatString(format: string, min: number, max: number, variant: number): string | undefined {
  if (!Object.hasOwn(FORMATS, format)) return plainString(min, max, variant);
  const spec = FORMATS[format];
  for (const text of [spec.sample(variant), spec.short?.(variant)]) {
    if (text === undefined) continue;
    const length = codePoints(text);
    if (length > max) continue;
    if (length >= min) return text;
    return spec.lengthen?.(text, min - length);
  }
  return undefined;
}

/** `mock`, numbered for a variant, padded with `x` or cut to fit (keeping the number). */
function plainString(min: number, max: number, variant: number): string {
  const tail = suffix(variant);
  const text = `mock${tail}`;
  if (text.length < min) return text + 'x'.repeat(min - text.length);
  if (text.length <= max) return text;
  return (text.slice(0, Math.max(0, max - tail.length)) + tail).slice(-max || text.length);
}

function lengthText(min: number, max: number): string {
  if (max === Infinity) return `at least ${min} characters`;
  return min === max ? `exactly ${min} characters` : `${min} to ${max} characters`;
}

/** No string is written longer than a whole sample may be. */
const MAX_STRING_LENGTH = 100_000;

export function sampleString(parts: readonly Schema[], variant: number, work: Work): string {
  const min = largest(parts, 'minLength', 0);
  const max = smallest(parts, 'maxLength', MAX_STRING_LENGTH);
  if (min > max) throw new SampleFailure(`minLength ${min} is more than maxLength ${max}`);
  // Only formats the validator checks on strings; it ignores the others, and so does this.
  const formats = stringsOf(parts, 'format').filter((format) => checkFormat(format, '') !== undefined);
  const patterns = stringsOf(parts, 'pattern');
  const fits = (text: string | undefined): text is string => {
    if (text === undefined) return false;
    const length = codePoints(text);
    if (length < min || length > max) return false;
    if (!formats.every((format) => checkFormat(format, text))) return false;
    return patterns.every((pattern) => testPattern(pattern, text, work));
  };
  const first = formats.length > 0 ? formatString(formats[0], min, max, variant) : plainString(min, max, variant);
  if (fits(first)) return first;
  const own = patterns.map((pattern) => stringForPattern(pattern, min, max, variant, work) ?? '');
  // Several patterns (allOf): one's string may match them all, or their strings joined (`^a` and `z$`: `az`).
  for (const text of [...own, own.join(''), [...own].reverse().join('')]) {
    if (fits(text)) return text;
  }
  const format = formats.length > 0 ? `format ${formats.join(' and ')}` : '';
  const pattern = patterns.length > 0 ? `pattern ${patterns.map((p) => JSON.stringify(p)).join(' and ')}` : '';
  const rules = [pattern, format].filter((rule) => rule !== '').join(' and ');
  throw new SampleFailure(`the mock finds no string of ${lengthText(min, max)}${rules ? ` matching ${rules}` : ''}`);
}

/** The bounds every part sets, the tighter one winning (an exclusive bound over an equal inclusive one). */
interface Bounds {
  low: number;
  lowOpen: boolean;
  high: number;
  highOpen: boolean;
}

function boundsOf(parts: readonly Schema[]): Bounds {
  const bounds: Bounds = { low: -Infinity, lowOpen: false, high: Infinity, highOpen: false };
  for (const part of parts) {
    const [min, above] = [numberOf(part, 'minimum'), numberOf(part, 'exclusiveMinimum')];
    const [max, below] = [numberOf(part, 'maximum'), numberOf(part, 'exclusiveMaximum')];
    if (min !== undefined && min > bounds.low) Object.assign(bounds, { low: min, lowOpen: false });
    if (above !== undefined && above >= bounds.low) Object.assign(bounds, { low: above, lowOpen: true });
    if (max !== undefined && max < bounds.high) Object.assign(bounds, { high: max, highOpen: false });
    if (below !== undefined && below <= bounds.high) Object.assign(bounds, { high: below, highOpen: true });
  }
  return bounds;
}

function decimals(value: number): number {
  const [mantissa, exponent] = String(value).split('e');
  return Math.max(0, (mantissa.split('.')[1]?.length ?? 0) - Number(exponent ?? 0));
}

/** The least common multiple of the steps (exact for decimal steps), or the largest step when that fails. */
function commonStep(steps: readonly number[]): number | undefined {
  if (steps.length <= 1) return steps[0];
  const largestStep = steps.reduce((most, step) => Math.max(most, step), 0);
  const places = steps.reduce((most, step) => Math.max(most, decimals(step)), 0);
  if (places > 15) return largestStep;
  const scale = 10 ** places;
  const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
  const lcm = steps
    .map((step) => BigInt(Math.round(step * scale)))
    .reduce((a, b) => (a === 0n || b === 0n ? 0n : (a / gcd(a, b)) * b));
  if (lcm === 0n || lcm > 2n ** 60n) return largestStep;
  return Number(lcm) / scale;
}

/**
 * The `variant`-th multiple of `step` from the lowest allowed up (without a lower
 * bound: from 1 up, then down from 0), or the next that passes `valid` (a
 * floating-point product can miss ajv's own `multipleOf` test: 3 × 0.1).
 */
function onGrid(bounds: Bounds, step: number, variant: number, valid: (value: number) => boolean): number | undefined {
  const lowest = Number.isFinite(bounds.low) ? Math.ceil(bounds.low / step) : -Infinity;
  const highest = Number.isFinite(bounds.high) ? Math.floor(bounds.high / step) : Infinity;
  const start = Number.isFinite(lowest) ? lowest : Math.min(1, highest);
  // Between two bounds, variants wrap around: another field of the value can still tell it apart.
  const count = highest - lowest + 1;
  const multiple = (i: number) => {
    if (Number.isFinite(count) && count > 0) return lowest + (i % count);
    return Number.isFinite(lowest) || start + i <= highest ? start + i : start - (i - (highest - start));
  };
  for (let i = variant; i < variant + 64; i++) {
    const raw = multiple(i) * step;
    if (valid(raw)) return raw;
    const rounded = Number(raw.toPrecision(15));
    if (valid(rounded)) return rounded;
  }
  return undefined;
}

/** The lowest allowed number (or 1), and for a variant a point further into the range. */
function continuous(bounds: Bounds, variant: number): number {
  const { low, lowOpen, high, highOpen } = bounds;
  const hasLow = Number.isFinite(low);
  const hasHigh = Number.isFinite(high);
  if (!hasLow && !hasHigh) return 1 + variant;
  if (!hasHigh) return (lowOpen ? low + 1 : low) + variant;
  if (!hasLow) {
    const top = (highOpen ? 1 < high : 1 <= high) ? 1 : highOpen ? high - 1 : high;
    return top - variant;
  }
  if (variant > 0) return low + ((high - low) * variant) / (variant + 1);
  if (!lowOpen) return low;
  return (highOpen ? low + 1 < high : low + 1 <= high) ? low + 1 : low + (high - low) / 2;
}

function rangeText({ low, lowOpen, high, highOpen }: Bounds): string {
  const sides = [
    Number.isFinite(low) ? `${lowOpen ? 'above' : 'at least'} ${low}` : '',
    Number.isFinite(high) ? `${highOpen ? 'below' : 'at most'} ${high}` : '',
  ];
  return sides.filter((side) => side !== '').join(' and ');
}

const INTEGER_FORMATS: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

export function sampleNumber(parts: readonly Schema[], integer: boolean, variant: number): number {
  const formats = stringsOf(parts, 'format');
  const ranges = formats.filter((format) => Object.hasOwn(INTEGER_FORMATS, format)).map((f) => INTEGER_FORMATS[f]);
  const whole = integer || ranges.length > 0;
  const limits = ranges.map(([minimum, maximum]) => ({ minimum, maximum }));
  const bounds = boundsOf([...parts, ...limits]);
  const steps = parts.map((part) => numberOf(part, 'multipleOf')).filter((s): s is number => s !== undefined && s > 0);
  const valid = (value: number) =>
    Number.isFinite(value) &&
    (bounds.lowOpen ? value > bounds.low : value >= bounds.low) &&
    (bounds.highOpen ? value < bounds.high : value <= bounds.high) &&
    (!whole || Number.isInteger(value)) &&
    steps.every((step) => isMultipleOf(value, step)) &&
    formats.every((format) => checkFormat(format, value) !== false);
  const step = commonStep(whole ? [1, ...steps] : steps);
  const value = step === undefined ? continuous(bounds, variant) : onGrid(bounds, step, variant, valid);
  if (value !== undefined && valid(value)) return value;
  const range = rangeText(bounds);
  const multiple = steps.length > 0 ? ` that is a multiple of ${steps.join(' and ')}` : '';
  throw new SampleFailure(`the mock finds no ${whole ? 'integer' : 'number'}${range ? ` ${range}` : ''}${multiple}`);
}
