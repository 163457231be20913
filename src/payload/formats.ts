// Strings for JSON Schema's `format`s (and OpenAPI's and pydantic's): an email, a date-time, a uuid, an
// IPv4 network... made with faker and the generator's seeded random numbers, so the same seed gives the
// same strings. The generator checks each against the format (validate.ts) and the schema's lengths and
// patterns; unknown formats are annotations, left to the plain string generator.

import type { Faker } from '@faker-js/faker';
import { dateSpanFor } from './hints.ts';
import { randomInt } from './random.ts';

/**
 * A maker of strings in `format`, or null for a format that is not ours to make. `norm` is the property's
 * normalized name: a date named like a birth date lies further back.
 */
export function formatMaker(format: string, norm: string, f: Faker, r: () => number): (() => string) | null {
  const int = (lo: number, hi: number) => randomInt(r, lo, hi);
  const two = (x: number) => String(x).padStart(2, '0');
  const when = () => {
    const { from, span } = dateSpanFor(norm);
    return new Date(from + Math.floor(r() * span));
  };
  switch (format) {
    case 'email':
    case 'idn-email':
      return () => f.internet.email().toLowerCase();
    case 'date-time':
    case 'iso-date-time':
      return () => `${when().toISOString().slice(0, 19)}Z`;
    case 'date':
      return () => when().toISOString().slice(0, 10);
    case 'time':
    case 'iso-time':
      return () => `${two(int(0, 23))}:${two(int(0, 59))}:${two(int(0, 59))}Z`;
    case 'uuid':
      return () => f.string.uuid();
    case 'uri':
    case 'url':
    case 'iri':
    case 'uri-template':
      return () => f.internet.url();
    case 'uri-reference':
    case 'iri-reference':
      return () => `/${f.lorem.slug(2)}`;
    case 'hostname':
    case 'idn-hostname':
      return () => f.internet.domainName();
    case 'ipv4':
    case 'ipvanyaddress':
      return () => f.internet.ipv4();
    case 'ipv6':
      return () => f.internet.ipv6();
    case 'ipvanyinterface':
    case 'ipv4interface':
      return () => `${f.internet.ipv4()}/${int(8, 32)}`;
    case 'ipvanynetwork':
    case 'ipv4network':
      return () => `10.${int(0, 255)}.${int(0, 255)}.0/24`;
    case 'duration':
      return () => `P${int(0, 30)}DT${int(0, 23)}H${int(0, 59)}M`;
    case 'byte':
      return () => Buffer.from(f.lorem.words(3)).toString('base64');
    case 'password':
      return () => f.internet.password({ length: int(10, 16) });
    case 'json-pointer':
      return () => `/${f.lorem.word()}/${int(0, 9)}`;
    case 'regex':
      return () => `^${f.lorem.word()}[0-9]+$`;
    case 'color':
      return () => f.color.rgb();
    default:
      return null; // unknown formats are annotations: a plain string
  }
}
