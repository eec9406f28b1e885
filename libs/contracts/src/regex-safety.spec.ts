import { describe, expect, it } from 'vitest';
import { catastrophicPattern } from './regex-safety';

describe('catastrophicPattern', () => {
  it.each([
    // A repeated part that itself varies in length.
    '^(a+)+$',
    '(a*)*',
    '^(\\w+\\s?)*$',
    '^(a?){30}a{30}$',
    '^([a-zA-Z0-9]{2,4})+$',
    '^((a+)b?)+$',
    '^(\\d+|[a-z]+)*$',
    // Two variable parts in one iteration, or a delimiter both sides of it may take.
    '^(-[a-z]*[a-z]*)*$',
    '^([a-z]+-[a-z]+)*$',
    '^(x+x+)+y$',
    // A repeated choice whose options can match the same text.
    '^(a|a)*$',
    '^(\\w|\\d)+$',
    '^(.|\\s)*$',
    '^(a|aa)+$',
  ])('judges %s unsafe', (pattern) => {
    expect(catastrophicPattern(pattern)).toMatch(/^it repeats a (part|choice)/);
  });

  it('is right about the classic one: V8 takes exponential time on it', () => {
    // The fastest of three runs: a run the machine interrupted must not decide.
    const time = (length: number) => {
      let fastest = Infinity;
      for (let run = 0; run < 3; run++) {
        const started = performance.now();
        /^(a+)+$/u.test(`${'a'.repeat(length)}!`);
        fastest = Math.min(fastest, performance.now() - started);
      }
      return fastest;
    };
    time(16);
    // Four more characters, sixteen times the work.
    expect(time(22) / Math.max(time(18), 0.05)).toBeGreaterThan(4);
  });

  it.each([
    '^[a-z]+(-[a-z]+)*$',
    '^(\\d{1,3}\\.){3}\\d{1,3}$',
    '^(\\+\\d{1,3})?\\d{10}$',
    '^\\d{4}-\\d{2}-\\d{2}$',
    '^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$',
    "^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*)$",
    '^(([a-zA-Z0-9\\-])+\\.)+[a-z]{2,}$',
    '^([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$',
    '^(\\d{1,3}){4}$',
    '^(cat|dog)+$',
    '^(\\w|-)+$',
    '^\\p{L}+$',
    '^[\\u{1F600}-\\u{1F64F}]+$',
    '^(?=.*[A-Z])(?=.*\\d).{8,}$',
    '^(?<year>\\d{4})-(?<month>\\d{2})$',
    '^(https?|ftp)://[^\\s/$.?#].[^\\s]*$',
  ])('leaves %s alone, and V8 runs it fast on long texts built to trip it', (pattern) => {
    expect(catastrophicPattern(pattern)).toBeUndefined();
    const regExp = new RegExp(pattern, 'u');
    const started = performance.now();
    for (const unit of ['a', 'a-', 'a.', '1.', 'a:', 'ab-', 'catdog', '\u{1F600}'])
      regExp.test(`${unit.repeat(2_000)}!`);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('refuses groups nested past its depth, and judges nothing it cannot read', () => {
    expect(catastrophicPattern(`${'('.repeat(200)}a${')'.repeat(200)}`)).toMatch(/nests groups more than 128/);
    expect(catastrophicPattern(`${'('.repeat(100)}a${')'.repeat(100)}`)).toBeUndefined();
    expect(catastrophicPattern('(?i:a)')).toBeUndefined();
  });
});

/** JSON Schema patterns as clients write them (schemastore-style schemas, OpenAI structured-output examples, common validators), all safe to run. */
const REAL_PATTERNS: string[] = [
  '^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$',
  '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$',
  '^\\S+@\\S+\\.\\S+$',
  '^[\\w.+-]+@[\\w-]+\\.[\\w.-]+$',
  "^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$",
  '^https?://[^\\s/$.?#].[^\\s]*$',
  '^https?://.+$',
  '^(https?|ftp)://[^\\s/$.?#].[^\\s]*$',
  '^https?:\\/\\/(www\\.)?[-a-zA-Z0-9@:%._\\+~#=]{1,256}\\.[a-zA-Z0-9()]{1,6}\\b([-a-zA-Z0-9()@:%_\\+.~#?&//=]*)$',
  '^(?=.{1,253}$)(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\\.[A-Za-z0-9-]{1,63})*$',
  '^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z]{2,}$',
  '^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$',
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  '^(\\d{1,3}\\.){3}\\d{1,3}$',
  '^((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)$',
  '^(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$',
  '^((25[0-5]|(2[0-4]|1\\d|[1-9]|)\\d)\\.?\\b){4}$',
  '^(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}$',
  '^([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$',
  '^(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))$',
  '^[0-9a-fA-F:]+$',
  '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  '^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$',
  '^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$',
  '^\\d{4}-\\d{2}-\\d{2}$',
  '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])$',
  '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
  '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:?\\d{2})?$',
  '^([01]\\d|2[0-3]):[0-5]\\d$',
  '^([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$',
  '^(0?[1-9]|1[0-2]):[0-5]\\d\\s?(AM|PM|am|pm)$',
  '^P(?!$)(\\d+Y)?(\\d+M)?(\\d+W)?(\\d+D)?(T(?=\\d)(\\d+H)?(\\d+M)?(\\d+S)?)?$',
  '^P(?:\\d+Y)?(?:\\d+M)?(?:\\d+D)?(?:T(?:\\d+H)?(?:\\d+M)?(?:\\d+(?:\\.\\d+)?S)?)?$',
  '^-?P(\\d+Y)?(\\d+M)?(\\d+W)?(\\d+D)?(T(\\d+H)?(\\d+M)?(\\d+(\\.\\d+)?S)?)?$',
  '^v?\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$',
  '^(\\^|~|>=|<=|>|<|=)?\\d+(\\.\\d+){0,2}$',
  '^\\d+(\\.\\d+)*$',
  '^\\+[1-9]\\d{1,14}$',
  '^\\+?[1-9]\\d{1,14}$',
  '^(\\+\\d{1,3})?\\d{10}$',
  '^\\+?\\d{1,3}[-.\\s]?\\(?\\d{3}\\)?[-.\\s]?\\d{3}[-.\\s]?\\d{4}$',
  '^\\(?\\d{3}\\)?[-.\\s]?\\d{3}[-.\\s]?\\d{4}$',
  '^(\\+1\\s?)?(\\(\\d{3}\\)|\\d{3})[\\s.-]?\\d{3}[\\s.-]?\\d{4}$',
  '^(\\+44\\s?7\\d{3}|\\(?07\\d{3}\\)?)\\s?\\d{3}\\s?\\d{3}$',
  '^(?:\\+33|0)[1-9](?:[\\s.-]?\\d{2}){4}$',
  '^(\\+49|0)[1-9][0-9 ]{6,14}$',
  '^[+]?[(]?[0-9]{3}[)]?[-\\s.]?[0-9]{3}[-\\s.]?[0-9]{4,6}$',
  '^[0-9 +()-]{7,20}$',
  '^\\d{5}(-\\d{4})?$',
  '^[A-Z]{1,2}\\d[A-Z\\d]? ?\\d[A-Z]{2}$',
  '^[A-Za-z]\\d[A-Za-z][ -]?\\d[A-Za-z]\\d$',
  '^\\d{4}\\s?[A-Z]{2}$',
  '^\\d{5}$',
  '^\\d{3}-\\d{4}$',
  '^[A-Z0-9 -]{3,10}$',
  '^\\d+(\\.\\d{1,2})?$',
  '^-?\\d+(\\.\\d+)?$',
  '^\\$?\\d{1,3}(,\\d{3})*(\\.\\d{2})?$',
  '^-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?$',
  '^[A-Z]{3}$',
  '^\\d+(\\.\\d+)?\\s?(USD|EUR|GBP)$',
  '^#[0-9a-fA-F]{6}$',
  '^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$',
  '^#?([a-fA-F0-9]{6}|[a-fA-F0-9]{3})$',
  '^#([A-Fa-f0-9]{8}|[A-Fa-f0-9]{6}|[A-Fa-f0-9]{4}|[A-Fa-f0-9]{3})$',
  '^rgba?\\(\\s*\\d{1,3}\\s*,\\s*\\d{1,3}\\s*,\\s*\\d{1,3}\\s*(,\\s*(0|1|0?\\.\\d+)\\s*)?\\)$',
  '^[a-z0-9]+(?:-[a-z0-9]+)*$',
  '^[a-z0-9-]+$',
  '^[a-z][a-z0-9_]*$',
  '^[a-zA-Z_][a-zA-Z0-9_]*$',
  '^[a-zA-Z0-9_-]{1,64}$',
  '^[A-Za-z][A-Za-z0-9_.-]*$',
  '^[a-z]+(_[a-z]+)*$',
  '^[A-Z][a-zA-Z0-9]*$',
  '^[a-z][a-zA-Z0-9]*$',
  '^@[a-z0-9-~][a-z0-9-._~]*/[a-z0-9-~][a-z0-9-._~]*$',
  '^(?:@[a-z0-9-*~][a-z0-9-*._~]*/)?[a-z0-9-~][a-z0-9-._~]*$',
  '^[a-zA-Z][a-zA-Z0-9+.-]*:',
  '^\\w+(,\\w+)*$',
  '^[a-z]+(,[a-z]+)*$',
  '^\\d+(,\\d+)*$',
  '^[^,]+(,[^,]+)*$',
  '^[A-Za-z0-9+/]*={0,2}$',
  '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
  '^[A-Za-z0-9_-]+$',
  '^[A-Za-z0-9-_=]+\\.[A-Za-z0-9-_=]+\\.?[A-Za-z0-9-_.+/=]*$',
  '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$',
  '^(\\*|([0-9]|1[0-9]|2[0-9]|3[0-9]|4[0-9]|5[0-9])|\\*\\/([0-9]|1[0-9]|2[0-9]|3[0-9]|4[0-9]|5[0-9])) (\\*|([0-9]|1[0-9]|2[0-3])|\\*\\/([0-9]|1[0-9]|2[0-3])) (\\*|([1-9]|1[0-9]|2[0-9]|3[0-1])|\\*\\/([1-9]|1[0-9]|2[0-9]|3[0-1])) (\\*|([1-9]|1[0-2])|\\*\\/([1-9]|1[0-2])) (\\*|([0-6])|\\*\\/([0-6]))$',
  '^(/[^/\\0]+)+/?$',
  '^/([^/]+/)*[^/]*$',
  '^(\\/[\\w.-]+)+\\/?$',
  '^[a-zA-Z]:\\\\(?:[^\\\\/:*?"<>|\\r\\n]+\\\\)*[^\\\\/:*?"<>|\\r\\n]*$',
  '^\\.{0,2}/?([\\w.-]+/)*[\\w.-]+$',
  '^[^<>:"|?*]+$',
  '^.*\\.(jpg|jpeg|png|gif)$',
  '^[\\w,\\s-]+\\.[A-Za-z]{3}$',
  '^[a-z]{2}(-[A-Z]{2})?$',
  '^[a-z]{2,3}(?:-[A-Z][a-z]{3})?(?:-(?:[A-Z]{2}|\\d{3}))?$',
  '^[A-Z]{2}$',
  '^[A-Z]{2}\\d{2}[A-Z0-9]{1,30}$',
  '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$',
  '^\\d{3}-\\d{2}-\\d{4}$',
  '^4[0-9]{12}(?:[0-9]{3})?$',
  '^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|3[47][0-9]{13})$',
  '^\\d{13,19}$',
  '^(?=.*[a-z])(?=.*[A-Z])(?=.*\\d)(?=.*[@$!%*?&])[A-Za-z\\d@$!%*?&]{8,}$',
  '^(?=.*[A-Z])(?=.*\\d).{8,}$',
  '^.{1,100}$',
  '^\\S(.*\\S)?$',
  '^[^\\s].*[^\\s]$',
  '^\\S+$',
  '^\\s*\\S.*$',
  '^(?!\\s*$).+',
  "^[\\p{L}\\p{M}' -]+$",
  "^[\\p{L} .'-]+$",
  '^[A-Z][a-z]+( [A-Z][a-z]+)*$',
  "^[a-zA-Z]+(['\\- ][a-zA-Z]+)*$",
  '^[a-zA-Z ]+$',
  '^(\\w+\\s)*\\w+$',
  '^(\\w+ )*\\w+$',
  '^\\w+( \\w+)*$',
  '^[a-zA-Z0-9]+( [a-zA-Z0-9]+)*$',
  '^([a-z]+\\.)*[a-z]+$',
  '^[a-z]+(\\.[a-z]+)*$',
  '^([a-z][a-z0-9]*)(\\.[a-z][a-z0-9]*)*$',
  '^[a-z]+(?:[A-Z][a-z]+)*$',
  '^[a-z0-9]+(?:[._-][a-z0-9]+)*$',
  '^arn:aws:[a-z0-9-]+:[a-z0-9-]*:\\d{12}:.+$',
  '^arn:(aws|aws-cn|aws-us-gov):[^:]+:[^:]*:(\\d{12})?:.+$',
  '^[0-9a-f]{40}$',
  '^[0-9a-f]{7,40}$',
  '^sha256:[a-f0-9]{64}$',
  '^[1-9]\\d*$',
  '^(0|[1-9][0-9]*)$',
  '^\\d+[smhdw]$',
  '^\\d+(\\.\\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$',
  '^(\\d+(\\.\\d+)?|\\.\\d+)(e[+-]?\\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$',
  '^\\$\\{[a-zA-Z_][a-zA-Z0-9_]*\\}$',
  '^\\$\\{\\{\\s*[\\w.]+\\s*\\}\\}$',
  '^[A-Z_][A-Z0-9_]*$',
  '^(true|false)$',
  '^(yes|no|y|n)$',
  '^(low|medium|high)$',
  '^[a-z]+(-[a-z]+)*$',
  '^x-[a-zA-Z0-9-]+$',
  '^x-',
  '^/',
  "^[a-zA-Z0-9._~:/?#\\[\\]@!$&'()*+,;=%-]+$",
  '^(\\.[a-z0-9]+)+$',
  '^\\.?[a-zA-Z0-9]+$',
  '^[0-9]{2}/[0-9]{2}/[0-9]{4}$',
  '^(0[1-9]|1[0-2])/(0[1-9]|[12]\\d|3[01])/\\d{4}$',
  '^(0[1-9]|1[0-2])\\/?([0-9]{4}|[0-9]{2})$',
  '^[0-9]{3,4}$',
  '^\\d{1,2}(:\\d{2}){1,2}$',
  '^[A-Z0-9]{10}$',
  '^(?:97[89])?\\d{9}[\\dXx]$',
  '^[-+]?([1-8]?\\d(\\.\\d+)?|90(\\.0+)?)$',
  '^[-+]?(180(\\.0+)?|((1[0-7]\\d)|([1-9]?\\d))(\\.\\d+)?)$',
  '^-?\\d{1,3}\\.\\d+,\\s*-?\\d{1,3}\\.\\d+$',
  '^([01]?\\d|2[0-3]):([0-5]\\d)-([01]?\\d|2[0-3]):([0-5]\\d)$',
  '^[a-zA-Z0-9]([a-zA-Z0-9._-]*[a-zA-Z0-9])?$',
  '^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$',
  '^(?:[a-zA-Z0-9-]+\\.)+[a-zA-Z]{2,}$',
  '^(\\*\\.)?([a-zA-Z0-9-]+\\.)+[a-zA-Z]{2,}$',
  '^[a-z][a-z0-9+.-]*://[^\\s]+$',
  '^(ws|wss)://[^\\s]+$',
  '^mailto:[^@\\s]+@[^@\\s]+$',
  '^(\\w+:)?//\\S+$',
  '^[0-9]+(\\.[0-9]+){1,3}$',
  '^\\d+\\.\\d+(\\.\\d+)?$',
  '^[a-z0-9][a-z0-9-]*[a-z0-9]$',
  '^[a-f0-9]{32}$',
  '^[A-Z0-9]{8}-[A-Z0-9]{4}$',
  '^[0-9A-HJKMNP-TV-Z]{26}$',
  '^[a-zA-Z0-9_]{3,20}$',
  '^@?[a-zA-Z0-9_]{1,15}$',
  '^#[a-zA-Z0-9_]+$',
  '^[a-zA-Z0-9]+(,[a-zA-Z0-9]+)*,?$',
  '^[^\\s@]+@[^\\s@]+$',
  '^[^<>]*$',
  '^(?!.*\\.\\.)[a-zA-Z0-9._-]+$',
  '^[A-Za-z0-9]+(?:[ _-][A-Za-z0-9]+)*$',
  // Accepted since each iteration is taken apart one way (deterministicIterations); timed linear on
  // 20,000-character texts built for each ("a,a,…!", " , a , a…", "1d1d…!"), under 1 ms.
  '^([a-zA-Z]+,\\s?)*[a-zA-Z]+$',
  '^[0-9]{1,3}(?:,?[0-9]{3})*(?:\\.[0-9]{2})?$',
  '^[a-z]+(\\s*,\\s*[a-z]+)*$',
  '^\\s*[a-z]+(\\s*,\\s*[a-z]+)*\\s*$',
  '^(\\s*,\\s*[a-z]+)*$',
  '^([a-zA-Z0-9_-]+)(,\\s*[a-zA-Z0-9_-]+)*$',
  '^([A-Z][a-z]*\\s?)+$',
  '^(#[a-zA-Z0-9_]+\\s*)+$',
  '^(\\d+\\s*(d|h|m|s)\\s*)+$',
];

/** Patterns that take exponential time on V8 (some of them found in real schemas): all must be refused. */
const EXPONENTIAL_PATTERNS: string[] = [
  '^(https?:\\/\\/)?([\\da-z.-]+)\\.([a-z.]{2,6})([\\/\\w .-]*)*\\/?$',
  '^(@(annually|yearly|monthly|weekly|daily|hourly|reboot))|(@every (\\d+(ns|us|µs|ms|s|m|h))+)|((((\\d+,)+\\d+|(\\d+(\\/|-)\\d+)|\\d+|\\*) ?){5,7})$',
  '^([a-z0-9]+[-_]?)*[a-z0-9]+$',
  '^[a-zA-Z0-9]+([._-]?[a-zA-Z0-9]+)*$',
  '^(\\s*\\w+\\s*=\\s*\\w+\\s*;?)*$',
  '(a+)+',
  '(a|a)*',
  '(a|aa)+',
  '(\\w+\\s?)*',
  '(.*a){20}',
  '([a-z]+)*$',
  '(x+x+)+y',
  '^((a+)+)+$',
  '^(a|b|ab)*c$',
  '^(\\d*\\d*,)*$',
  '^((ab)*)+$',
];

/** Patterns from the corpus the checker still refuses although most are safe: its rule for a repeated part is conservative (see the report; to relax with a proof of each by timing). */
const SAFE_BUT_REFUSED: string[] = [
  '^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9])$',
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$',
  '^(\\S+\\s+){4}\\S+$',
  '^((\\*|[0-9,\\-\\/]+)\\s+){4}(\\*|[0-9,\\-\\/]+)$',
  '^\\p{Lu}\\p{Ll}+( \\p{Lu}\\p{Ll}+)*$',
  '^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[\\w][\\w.-]{0,127})?$',
  '^(\\d+(\\.\\d+)?(ms|s|m|h))+$',
  '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$',
  '^(ISBN[-]*(1[03])*[ ]*(: ){0,1})*(([0-9Xx][- ]*){13}|([0-9Xx][- ]*){10})$',
  '^\\d+(-\\d+)?(,\\d+(-\\d+)?)*$',
  '^[\\w-]+(=[\\w-]*)?(;[\\w-]+(=[\\w-]*)?)*$',
  '^([a-z]{2,3}(-[A-Z]{2})?)(,\\s*[a-z]{2,3}(-[A-Z]{2})?)*$',
];

describe('catastrophicPattern on patterns real clients write', () => {
  // Accepted, not timed here: a timed test flakes on a loaded machine. Each was run on
  // 10,000-character texts built to trip it when the table was made (the slowest, the quadratic
  // `^\S+@\S+\.\S+$`, took ~110 ms; the 10,000-character cap on checked texts bounds such ones).
  it.each(REAL_PATTERNS)('accepts %s', (pattern) => {
    expect(catastrophicPattern(pattern)).toBeUndefined();
  });

  it.each(EXPONENTIAL_PATTERNS)('refuses %s', (pattern) => {
    expect(catastrophicPattern(pattern)).toMatch(/^it repeats a (part|choice)/);
  });

  it.each(SAFE_BUT_REFUSED)('still refuses %s (known false refusal, to relax)', (pattern) => {
    expect(catastrophicPattern(pattern)).toBeDefined();
  });
});
