// Request bodies from schemas: discovery (where the schema is), generation (random valid values),
// presets (model servers' conventions), pre-generation into the engine's body list, CSV replay.

export { createGenerator, generateBodies, renderBodies } from './generate.ts';
export { SchemaError, checkSupported } from './schema-check.ts';
export type { GenerateOptions, GeneratorOptions, ValueGenerator } from './generate.ts';
export { DiscoveryError, discoverFirst, discoverSchema, getJson, mlflowSignatureSchema, operationSchema } from './discover.ts';
export type { DiscoverContext, Discovered, SchemaSource } from './discover.ts';
export { BODY_WRAPS, PRESETS, applyPreset, findPreset, wrapInstances } from './presets.ts';
export type { BodyWrap, Preset, PresetEndpoint, PresetName } from './presets.ts';
export { DEFAULT_CORPUS_SIZE, buildCorpus } from './corpus.ts';
export type { Corpus, CorpusOptions, CorpusStats } from './corpus.ts';
export { OIP_DATATYPES, createOipGenerator, parseOipMetadata } from './oip.ts';
export type { OipBodyOptions, OipDatatype, OipInferRequest, OipModelMetadata, OipTensorMetadata } from './oip.ts';
export { bodiesFromCsv, parseCsv, readCsvBodies } from './replay.ts';
export type { CsvReplayOptions } from './replay.ts';
export { checkValue } from './validate.ts';
