// JSON Schema fixtures and an independent validator for them (ajv with ajv-formats, draft-07 and 2020-12):
// the tests check generated and replayed bodies with it rather than with loadgate's own validate.ts.

import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const Ajv = AjvModule.default;
const Ajv2020 = Ajv2020Module.default;
const addFormats = addFormatsModule.default;

export const FIXTURES = new URL('../fixtures/schemas/', import.meta.url);
export const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));

export type Validate = ((v: unknown) => boolean) & { errors?: unknown };

export function draft7(schema: unknown): Validate {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema as object) as Validate;
}
export function draft2020(schema: unknown): Validate {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema as object) as Validate;
}

/** A draft-07 validator for the schema at `ref` ("#/definitions/Input") inside `doc` (an OpenAPI document, say). */
export function draft7At(doc: unknown, ref: string, opts: { formats: boolean } = { formats: true }): Validate {
  const ajv = new Ajv({ strict: false, allErrors: true });
  if (opts.formats) addFormats(ajv);
  ajv.addSchema(doc as object, 'doc');
  return ajv.compile({ $ref: `doc${ref}` }) as Validate;
}
