// The pattern generator (src/payload/regex.ts): strings that match a schema's `pattern`, checked with the
// platform's own RegExp, hundreds per pattern.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mulberry32 } from '../src/payload/random.ts';
import { compilePattern } from '../src/payload/regex.ts';

describe('pattern generator', () => {
  const patterns = [
    '^[A-Z]{2}-\\d{3}$',
    '^\\d{5}(-\\d{4})?$',
    '^(foo|bar|baz)_[a-z0-9]{2,6}$',
    '^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$',
    '^\\+?[0-9 ()-]{7,15}$',
    '^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}$',
    '^(?:[01]\\d|2[0-3]):[0-5]\\d$',
    '^(?<year>\\d{4})-(?<month>0[1-9]|1[0-2])$',
    '^\\w+\\.\\w+$',
    '^[\\u00e0-\\u00ff]{3}$',
    '^a.c$',
    '^x*y+z?$',
    '[0-9]{3}',
    '^[-+]?\\d*\\.?\\d+$',
    '^[^,;]{4,8}$',
    '^\\S+ \\S+$',
    '^[\\d\\s]{3}$',
  ];
  for (const p of patterns) {
    it(`generates matches for /${p}/`, () => {
      const g = compilePattern(p);
      const re = new RegExp(p, 'u');
      const rand = mulberry32(1);
      for (let i = 0; i < 300; i++) {
        const s = g.generate(rand, 0, 1000);
        assert.ok(s !== null && re.test(s), `${JSON.stringify(s)} should match ${p}`);
      }
    });
  }

  it('pads an unanchored pattern to reach a minimum length', () => {
    const s = compilePattern('[0-9]{3}').generate(mulberry32(2), 10, 12);
    assert.ok(s !== null && s.length >= 10 && s.length <= 12 && /[0-9]{3}/.test(s));
  });
});
