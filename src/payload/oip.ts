// Open Inference Protocol (KServe V2, Triton, MLServer): request bodies from a model's metadata.
//
// `GET /v2/models/{name}` describes each input tensor by name, datatype and shape (-1 = any size).
// A body for `POST /v2/models/{name}/infer` is
//   {"inputs": [{"name", "shape", "datatype", "data"}]}
// with concrete shapes (every -1 replaced by a small size) and `data` flattened in row-major order,
// exactly as long as the product of the shape. Within one body the same dimension index gets the
// same size across inputs (the batch dimension is usually shared, and servers check it).

import { faker as englishFaker } from '@faker-js/faker/locale/en';
import type { Faker } from '@faker-js/faker';
import { mulberry32, randomInt } from './random.ts';

export interface OipTensorMetadata {
  name: string;
  datatype: OipDatatype;
  shape: number[];
}

export interface OipModelMetadata {
  name: string;
  versions?: string[];
  platform?: string;
  inputs: OipTensorMetadata[];
  outputs?: OipTensorMetadata[];
}

/** Datatypes of the protocol, with the value range generated for each. */
export const OIP_DATATYPES = {
  BOOL: null,
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 1_000_000],
  UINT64: [0, 1_000_000],
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-1_000_000, 1_000_000],
  INT64: [-1_000_000, 1_000_000],
  FP16: [-1, 1],
  FP32: [-1, 1],
  FP64: [-1, 1],
  BYTES: null,
} as const;
export type OipDatatype = keyof typeof OIP_DATATYPES;

/** Checks a metadata document and returns it typed; errors say what is wrong and where it came from. */
export function parseOipMetadata(doc: unknown, origin: string): OipModelMetadata {
  const fail = (msg: string): never => {
    throw new Error(`${origin}: not Open Inference Protocol model metadata: ${msg}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('expected a JSON object');
  const d = doc as Record<string, unknown>;
  if (typeof d['name'] !== 'string') fail('"name" is missing');
  const tensors = (key: 'inputs' | 'outputs'): OipTensorMetadata[] => {
    const list = d[key];
    if (list === undefined && key === 'outputs') return [];
    if (!Array.isArray(list)) return fail(`"${key}" must be a list of tensors`);
    return list.map((t, i) => {
      const at = `${key}[${i}]`;
      if (typeof t !== 'object' || t === null) return fail(`${at} is not an object`);
      const { name, datatype, shape } = t as Record<string, unknown>;
      if (typeof name !== 'string' || name === '') fail(`${at}.name is missing`);
      if (typeof datatype !== 'string' || !Object.hasOwn(OIP_DATATYPES, datatype)) {
        fail(`${at}.datatype ${JSON.stringify(datatype)} is not one of ${Object.keys(OIP_DATATYPES).join(', ')}`);
      }
      if (!Array.isArray(shape) || shape.some((x) => !Number.isInteger(x) || (x as number) < -1)) {
        fail(`${at}.shape must be a list of sizes (-1 = any), got ${JSON.stringify(shape)}`);
      }
      return { name: name as string, datatype: datatype as OipDatatype, shape: shape as number[] };
    });
  };
  const inputs = tensors('inputs');
  if (inputs.length === 0) fail('"inputs" is empty');
  const out: OipModelMetadata = { name: d['name'] as string, inputs, outputs: tensors('outputs') };
  if (Array.isArray(d['versions'])) out.versions = d['versions'].map(String);
  if (typeof d['platform'] === 'string') out.platform = d['platform'];
  return out;
}

export interface OipBodyOptions {
  seed: number;
  /** Sizes drawn for -1 dimensions (default 1..4). */
  dynamicMin?: number;
  dynamicMax?: number;
  /** Upper bound on elements per tensor (default 65536): a body stays a reasonable size. */
  maxElements?: number;
}

export interface OipInferRequest {
  inputs: Array<{ name: string; shape: number[]; datatype: OipDatatype; data: unknown[] }>;
}

/** A seeded source of valid `/infer` bodies for the model's inputs. */
export function createOipGenerator(meta: OipModelMetadata, opts: OipBodyOptions): { next(): OipInferRequest } {
  const rand = mulberry32(opts.seed ^ 0x1b873593);
  const FakerClass = englishFaker.constructor as typeof Faker;
  const faker = new FakerClass({ locale: englishFaker.rawDefinitions });
  faker.seed(opts.seed >>> 0);
  const dmin = Math.max(1, opts.dynamicMin ?? 1);
  const dmax = Math.max(dmin, opts.dynamicMax ?? 4);
  const maxElements = opts.maxElements ?? 65536;
  const int = (lo: number, hi: number) => randomInt(rand, lo, hi);
  for (const t of meta.inputs) {
    const fixed = t.shape.reduce((a, d) => a * (d === -1 ? dmin : d), 1);
    if (fixed > maxElements) {
      throw new Error(
        `input "${t.name}" has shape ${JSON.stringify(t.shape)}: ${fixed} elements, above the limit of ${maxElements} per tensor`,
      );
    }
  }
  const value = (dt: OipDatatype): unknown => {
    if (dt === 'BOOL') return rand() < 0.5;
    if (dt === 'BYTES') return faker.lorem.words({ min: 1, max: 4 });
    const [lo, hi] = OIP_DATATYPES[dt];
    if (dt.startsWith('FP')) return Number((lo + rand() * (hi - lo)).toFixed(dt === 'FP16' ? 3 : 5));
    return int(lo, hi);
  };
  return {
    next() {
      const sizes = new Map<number, number>();
      const inputs = meta.inputs.map((t) => {
        const shape = t.shape.map((d, i) => {
          if (d !== -1) return d;
          if (!sizes.has(i)) sizes.set(i, int(dmin, dmax));
          return sizes.get(i)!;
        });
        let count = shape.reduce((a, b) => a * b, 1);
        if (count > maxElements) {
          // Shrink the dynamic dimensions back to their minimum rather than send a huge tensor.
          for (let i = 0; i < shape.length; i++) if (t.shape[i] === -1) shape[i] = dmin;
          count = shape.reduce((a, b) => a * b, 1);
        }
        const data: unknown[] = new Array(count);
        for (let k = 0; k < count; k++) data[k] = value(t.datatype);
        return { name: t.name, shape, datatype: t.datatype, data };
      });
      return { inputs };
    },
  };
}
