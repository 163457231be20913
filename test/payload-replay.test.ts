// CSV replay (src/payload/replay.ts): cells typed by the schema, bad cells and rows named by line and column,
// and RFC 4180 quoting.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputSchema } from '../examples/insurance-charges/model.ts';
import { bodiesFromCsv, parseCsv } from '../src/payload/replay.ts';

describe('CSV replay', () => {
  it('types cells by the schema ($ref enums included) and leaves empty cells out', () => {
    const csv = 'age,sex,bmi,children,smoker,region\n42,female,31.5,2,true,northwest\r\n19,male,22,0,no,southeast\n';
    assert.deepEqual(bodiesFromCsv(csv, { schema: inputSchema }), [
      { age: 42, sex: 'female', bmi: 31.5, children: 2, smoker: true, region: 'northwest' },
      { age: 19, sex: 'male', bmi: 22, children: 0, smoker: false, region: 'southeast' },
    ]);
  });

  it('names the line and column of a bad cell, and of a row that breaks the schema', () => {
    assert.throws(
      () => bodiesFromCsv('age,sex\n42,male\n4x,female\n', { schema: inputSchema, check: false, origin: 'r.csv' }),
      /^Error: r\.csv:3: column "age": "4x" is not an integer$/,
    );
    assert.throws(
      () => bodiesFromCsv('age,sex,bmi,children,smoker,region\n70,male,30,1,true,north\n', { schema: inputSchema, origin: 'r.csv' }),
      /^Error: r\.csv:2: the row does not match the schema: \/age: 70 is above maximum 65$/,
    );
    assert.throws(() => bodiesFromCsv('a,b\n1\n', { origin: 'r.csv' }), /r\.csv:2: 1 fields, but the header has 2/);
    assert.throws(() => bodiesFromCsv('a,b\n"1,2\n', { origin: 'r.csv' }), /r\.csv:2: a quoted field is not closed/);
    assert.throws(() => bodiesFromCsv('a,a\n1,2\n', { origin: 'r.csv' }), /column name "a" appears twice/);
  });

  it('without a schema, parses JSON-looking cells; quoted fields keep commas, quotes and newlines', () => {
    const csv = 'n,f,b,z,arr,obj,s,q\n1,2.5,true,null,"[1,2]","{""k"":1}",hello,"line1\nline2, ""quoted"""\n-3,1e3,false,,[],{},"007",x\n';
    assert.deepEqual(bodiesFromCsv(csv), [
      { n: 1, f: 2.5, b: true, z: null, arr: [1, 2], obj: { k: 1 }, s: 'hello', q: 'line1\nline2, "quoted"' },
      { n: -3, f: 1000, b: false, arr: [], obj: {}, s: '007', q: 'x' },
    ]);
    assert.deepEqual(
      parseCsv('a\n"x\ny"\nz\n').map((r) => r.line),
      [1, 2, 4],
    );
  });
});
