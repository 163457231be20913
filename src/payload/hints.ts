// Realistic values by property name: the faker tables. A string property named like an email gets an
// email, a number named `age` lies in 18..90, a date named `birthDate` in 1940-2005. Hints only
// narrow what the schema allows, never widen it (the generator checks every value), so a table entry can
// be added here without reading the generator: the first matching pattern wins.

import type { Faker } from '@faker-js/faker';

/** Producers of realistic strings, tried in order until one fits the schema's lengths and patterns. */
export type StringHint = Array<(f: Faker, r: () => number) => string>;
const normalized = new Map<string, string>();
/** A property name as the hint tables match it: lower case, letters and digits only (cached). */
export const normalize = (name: string): string => {
  let n = normalized.get(name);
  if (n === undefined) {
    n = name.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (normalized.size < 10_000) normalized.set(name, n);
  }
  return n;
};
const sentence = (f: Faker, words: number) => f.lorem.sentence(words);

/** By normalized property name, first match wins: keep the specific patterns above the general ones. */
export const STRING_HINTS: Array<[RegExp, StringHint]> = [
  [/^(first|given|fore)name/, [(f) => f.person.firstName()]],
  [/(last|family|sur)name$/, [(f) => f.person.lastName()]],
  [/username|login|handle|nickname/, [(f) => f.internet.username()]],
  [
    /^(full)?name$|^(customer|person|user|patient|contact|owner|author|client|display)name$/,
    [(f) => f.person.fullName(), (f) => f.person.firstName()],
  ],
  [/email|mail/, [(f) => f.internet.email()]],
  [/phone|mobile|tel$|telephone/, [(f) => f.phone.number({ style: 'international' }), (f) => f.phone.number()]],
  [/city|town/, [(f) => f.location.city()]],
  [/countrycode/, [(f) => f.location.countryCode(), (f) => f.location.countryCode('alpha-3')]],
  [/country|nation/, [(f) => f.location.country(), (f) => f.location.countryCode(), (f) => f.location.countryCode('alpha-3')]],
  [/statecode/, [(f) => f.location.state({ abbreviated: true })]],
  [/^(state|province|county)$/, [(f) => f.location.state(), (f) => f.location.state({ abbreviated: true })]],
  [/zip|postal|postcode/, [(f) => f.location.zipCode(), (f) => f.location.zipCode('#####')]],
  [/street|address/, [(f) => f.location.streetAddress()]],
  [/company|organi[sz]ation|employer|business/, [(f) => f.company.name()]],
  [/job|occupation|profession/, [(f) => f.person.jobTitle()]],
  [/url|website|homepage|link/, [(f) => f.internet.url()]],
  [/domain|hostname/, [(f) => f.internet.domainName()]],
  [/^ip(v4)?(address)?$|ipaddress/, [(f) => f.internet.ipv4()]],
  [/colou?r/, [(f) => f.color.human(), (f) => f.color.rgb()]],
  [/currency/, [(f) => f.finance.currencyCode()]],
  [/uuid|guid/, [(f) => f.string.uuid()]],
  [/product|item/, [(f) => f.commerce.productName()]],
  [/department|category/, [(f) => f.commerce.department()]],
  [/gender|^sex$/, [(f) => f.person.sex()]],
  [/title|subject|headline|caption/, [(f) => sentence(f, 4).replace(/\.$/, '')]],
  [
    /description|text|comment|review|message|content|body|summary|note|feedback|query|prompt|question|sentence|document|input/,
    [(f, r) => (r() < 0.7 ? f.lorem.sentence() : f.lorem.sentences(2))],
  ],
  [/word|tag|keyword|label|token/, [(f) => f.lorem.word()]],
  [/name$/, [(f) => f.person.fullName(), (f) => f.person.firstName()]],
];

/** [lo, hi, decimals for a "number"] by normalized property name, first match wins. */
export const NUMBER_HINTS: Array<[RegExp, number, number, number]> = [
  [/^age$|ageyears|^age[^a-z]?/, 18, 90, 0],
  [/year/, 1950, 2030, 0],
  [/month/, 1, 12, 0],
  [/^day$|dayofmonth/, 1, 28, 0],
  [/hour/, 0, 23, 0],
  [/minute|second/, 0, 59, 0],
  [/children|kids|dependents|count$|quantity|qty|^num|^n[a-z]/, 0, 10, 0],
  [/price|cost|amount|charge|fee|total|balance|payment|revenue|spend/, 1, 1000, 2],
  [/salary|income|wage|earnings/, 20000, 200000, 2],
  [/bmi/, 16, 40, 1],
  [/weight|mass/, 40, 120, 1],
  [/height/, 150, 200, 1],
  [/temp/, -10, 40, 1],
  [/^lat(itude)?$/, -90, 90, 6],
  [/^(lon|lng|long|longitude)$/, -180, 180, 6],
  [/percent|pct/, 0, 100, 1],
  [/prob|ratio|fraction|confidence|share|rate$/, 0, 1, 3],
  [/rating|stars/, 1, 5, 1],
  [/score/, 0, 100, 1],
  [/duration|seconds|millis|ms$/, 1, 600, 1],
  [/id$/, 1, 100000, 0],
];

/** An array's item name from the array's ("addresses" -> "address"), so items get the hint of one. */
export function singular(name: string | undefined): string | undefined {
  if (!name) return name;
  if (/(ss|x|ch|sh)es$/.test(name)) return name.slice(0, -2);
  if (/ies$/.test(name)) return `${name.slice(0, -3)}y`;
  if (/[^s]s$/.test(name)) return name.slice(0, -1);
  return name;
}

const DATE_FROM = Date.UTC(2015, 0, 1);
const DATE_SPAN = Date.UTC(2027, 0, 1) - DATE_FROM;
const BIRTH_FROM = Date.UTC(1940, 0, 1);
const BIRTH_SPAN = Date.UTC(2006, 0, 1) - BIRTH_FROM;

/** Where a date by this (normalized) name lies, ms since the epoch: a birth date 1940-2005, others 2015-2026. */
export function dateSpanFor(norm: string): { from: number; span: number } {
  const birth = /birth|dob|born/.test(norm);
  return birth ? { from: BIRTH_FROM, span: BIRTH_SPAN } : { from: DATE_FROM, span: DATE_SPAN };
}
