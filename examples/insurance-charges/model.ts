// Insurance charges model: input/output schemas, input validation and prediction with
// the gradient-boosted trees that train.ts writes to model.json.
//
// The schemas and error messages copy what the Python rest_model_service (FastAPI +
// pydantic v1) produced for the same model, so loadgate can be pointed at either.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MODEL_NAME = 'insurance_charges_model';
export const SEXES = ['male', 'female'] as const;
export const REGIONS = ['southwest', 'southeast', 'northwest', 'northeast'] as const;
export type Sex = (typeof SEXES)[number];
export type Region = (typeof REGIONS)[number];

export interface InsuranceChargesModelInput {
  age: number;
  sex: Sex;
  bmi: number;
  children: number;
  smoker: boolean;
  region: Region;
}

export interface InsuranceChargesModelOutput {
  charges: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

// Kept as the exact text pydantic v1 printed (note "15.0"), so the metadata endpoint can
// serve it byte for byte; JSON.stringify would turn 15.0 into 15.
export const INPUT_SCHEMA_JSON =
  '{"title":"InsuranceChargesModelInput","description":"Schema for input of the model\'s predict method.",' +
  '"type":"object","properties":{' +
  '"age":{"title":"Age","description":"Age of primary beneficiary in years.","minimum":18,"maximum":65,"type":"integer"},' +
  '"sex":{"title":"Sex","description":"Gender of beneficiary.","allOf":[{"$ref":"#/definitions/SexEnum"}]},' +
  '"bmi":{"title":"Body Mass Index","description":"Body mass index of beneficiary.","minimum":15.0,"maximum":50.0,"type":"number"},' +
  '"children":{"title":"Children","description":"Number of children covered by health insurance.","minimum":0,"maximum":5,"type":"integer"},' +
  '"smoker":{"title":"Smoker","description":"Whether beneficiary is a smoker.","type":"boolean"},' +
  '"region":{"title":"Region","description":"Region where beneficiary lives.","allOf":[{"$ref":"#/definitions/RegionEnum"}]}},' +
  '"definitions":{' +
  '"SexEnum":{"title":"SexEnum","description":"Enumeration for the value of the \'sex\' input of the model.","enum":["male","female"],"type":"string"},' +
  '"RegionEnum":{"title":"RegionEnum","description":"Enumeration for the value of the \'region\' input of the model.","enum":["southwest","southeast","northwest","northeast"],"type":"string"}},' +
  '"required":["age","sex","bmi","children","smoker","region"]}';

export const OUTPUT_SCHEMA_JSON =
  '{"title":"InsuranceChargesModelOutput","type":"object","properties":{"charges":{"title":"Charges",' +
  '"description":"Individual medical costs billed by health insurance to customer in US dollars.","type":"number"}},' +
  '"required":["charges"]}';

export const inputSchema = JSON.parse(INPUT_SCHEMA_JSON) as JsonObject;
export const outputSchema = JSON.parse(OUTPUT_SCHEMA_JSON) as JsonObject;

// ---------------------------------------------------------------------------------------
// Validation

export type ValidationResult = { ok: true; value: InsuranceChargesModelInput } | { ok: false; messages: string[] };

/** One message in rest_model_service's format (its handler for pydantic errors). */
export function formatError(loc: string, type: string, msg: string): string {
  return `Field '${loc}' in type 'InsuranceChargesModelInput' has error '${type}', ${msg}.`;
}

type Rule = { kind: 'integer' | 'number'; min: number; max: number } | { kind: 'boolean' } | { kind: 'enum'; values: readonly string[] };

// Same constraints as the input schema, in its field order (errors are listed in that order).
const RULES: Record<keyof InsuranceChargesModelInput, Rule> = {
  age: { kind: 'integer', min: 18, max: 65 },
  sex: { kind: 'enum', values: SEXES },
  bmi: { kind: 'number', min: 15, max: 50 },
  children: { kind: 'integer', min: 0, max: 5 },
  smoker: { kind: 'boolean' },
  region: { kind: 'enum', values: REGIONS },
};

// Types are strict (no "30" -> 30 or 2.5 -> 2 coercion as pydantic v1 would do): a load
// test should learn that its payload is wrong rather than have it silently rounded.
function checkField(rule: Rule, value: unknown): [type: string, msg: string] | null {
  if (value === null) return ['type_error.none.not_allowed', 'none is not an allowed value'];
  switch (rule.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? null : ['type_error.bool', 'value could not be parsed to a boolean'];
    case 'enum':
      return typeof value === 'string' && rule.values.includes(value)
        ? null
        : ['type_error.enum', `value is not a valid enumeration member; permitted: ${rule.values.map((v) => `'${v}'`).join(', ')}`];
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return rule.kind === 'integer'
          ? ['type_error.integer', 'value is not a valid integer']
          : ['type_error.float', 'value is not a valid float'];
      }
      if (rule.kind === 'integer' && !Number.isInteger(value)) return ['type_error.integer', 'value is not a valid integer'];
      // pydantic prints float limits the Python way ("15.0").
      const show = (n: number) => (rule.kind === 'number' && Number.isInteger(n) ? n.toFixed(1) : String(n));
      if (value < rule.min) return ['value_error.number.not_ge', `ensure this value is greater than or equal to ${show(rule.min)}`];
      if (value > rule.max) return ['value_error.number.not_le', `ensure this value is less than or equal to ${show(rule.max)}`];
      return null;
    }
  }
}

/** Checks a parsed JSON body; returns the typed input or every problem found (like pydantic). */
export function validateInput(body: unknown): ValidationResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, messages: [formatError('body', 'type_error.dict', 'value is not a valid dict')] };
  }
  const record = body as Record<string, unknown>;
  const messages: string[] = [];
  for (const [field, rule] of Object.entries(RULES)) {
    // hasOwn: a key inherited from Object.prototype must not count as present.
    const problem = Object.hasOwn(record, field)
      ? checkField(rule, record[field])
      : (['value_error.missing', 'field required'] as [string, string]);
    if (problem) messages.push(formatError(field, problem[0], problem[1]));
  }
  if (messages.length > 0) return { ok: false, messages };
  // Only the known fields are kept; extra keys are ignored, as pydantic does by default.
  const { age, sex, bmi, children, smoker, region } = record as unknown as InsuranceChargesModelInput;
  return { ok: true, value: { age, sex, bmi, children, smoker, region } };
}

// ---------------------------------------------------------------------------------------
// Model

/** A leaf value, or [feature index, threshold, left subtree (x <= threshold), right subtree]. */
export type TreeNode = number | [feature: number, threshold: number, left: TreeNode, right: TreeNode];

export interface ModelFile {
  format: 'gbrt-v1';
  features: string[];
  base_value: number;
  training: JsonObject;
  trees: TreeNode[];
}

export interface Model {
  file: ModelFile;
  encode: (input: InsuranceChargesModelInput) => Float64Array;
}

export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('./model.json', import.meta.url));

/**
 * Turns an input into the feature vector named by `features`: "name" is the field as a
 * number (booleans as 0/1), "name=value" is a one-hot column. train.ts uses this same
 * function, so training and serving cannot encode differently.
 */
export function makeEncoder(features: readonly string[]): (input: InsuranceChargesModelInput) => Float64Array {
  const columns = features.map((name) => {
    const [field, value] = name.split('=') as [string, string | undefined];
    if (!Object.hasOwn(RULES, field)) throw new Error(`unknown feature ${JSON.stringify(name)}`);
    return { field: field as keyof InsuranceChargesModelInput, value };
  });
  return (input) => {
    const x = new Float64Array(columns.length);
    for (let i = 0; i < columns.length; i++) {
      const { field, value } = columns[i]!;
      x[i] = value === undefined ? Number(input[field]) : input[field] === value ? 1 : 0;
    }
    return x;
  };
}

function checkTree(node: unknown, nFeatures: number): boolean {
  if (typeof node === 'number') return Number.isFinite(node);
  if (!Array.isArray(node) || node.length !== 4) return false;
  const [f, t, left, right] = node as unknown[];
  return (
    Number.isInteger(f) &&
    (f as number) >= 0 &&
    (f as number) < nFeatures &&
    typeof t === 'number' &&
    checkTree(left, nFeatures) &&
    checkTree(right, nFeatures)
  );
}

/** Reads and checks a model file; a corrupt file fails here rather than as NaN predictions. */
export function loadModel(path: string = DEFAULT_MODEL_PATH): Model {
  const file = JSON.parse(readFileSync(path, 'utf8')) as ModelFile;
  if (
    file.format !== 'gbrt-v1' ||
    !Array.isArray(file.features) ||
    typeof file.base_value !== 'number' ||
    !Array.isArray(file.trees) ||
    !file.trees.every((t) => checkTree(t, file.features.length))
  ) {
    throw new Error(`${path}: not a gbrt-v1 model file`);
  }
  return { file, encode: makeEncoder(file.features) };
}

/** Raw ensemble output: base value plus one leaf per tree (learning rate already applied). */
export function evaluate(model: Model, input: InsuranceChargesModelInput): number {
  const x = model.encode(input);
  let sum = model.file.base_value;
  for (const tree of model.file.trees) {
    let node = tree;
    while (typeof node !== 'number') node = x[node[0]]! <= node[1] ? node[2] : node[3];
    sum += node;
  }
  return sum;
}

let defaultModel: Model | undefined;

/** Predicted charges in US dollars, rounded to cents. Loads model.json on first use. */
export function predict(input: InsuranceChargesModelInput, model?: Model): number {
  model ??= defaultModel ??= loadModel();
  return Math.round(evaluate(model, input) * 100) / 100;
}
