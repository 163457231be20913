import type { BodyWrap, SchemaSource } from '../payload/index.ts';
import type { RegressionObjective } from './regression.ts';

// The validated, typed plan of one run. Everything downstream reads this; nothing re-parses strings.
// Times are milliseconds, rates are per second. A plan is plain data (no functions inside): it survives
// JSON as it is, so it can be printed into a result and compared between runs.

/** A stage of the closed model: move to `users` at `spawnRate` users/s, then hold, for `durationMs` in all. */
export interface UserStage {
  name: string;
  durationMs: number;
  users: number;
  spawnRate: number;
}

/** A stage of the open model: `rate` requests/s, or a linear ramp to it from the previous stage's rate. */
export interface RateStage {
  name: string;
  durationMs: number;
  rate: number;
  ramp: boolean;
}

export interface ClosedLoad {
  model: 'closed';
  stages: UserStage[];
  /** Iterations per second per user (locust's constant_throughput); 0 = no wait between requests. */
  perUserRate: number;
}

export interface OpenLoad {
  model: 'open';
  stages: RateStage[];
  /** Connection cap: at most this many requests in flight; due requests wait (and are counted as late). */
  maxInFlight: number;
  /**
   * A shard's place among the plan's arrivals (index/count, src/plan/shard.ts): its count starts at minus
   * this, so its m-th request is the whole plan's request index + m * count. Absent: 0.
   */
  arrivalOffset?: number;
}

export type LoadPlan = ClosedLoad | OpenLoad;

/**
 * HTTP statuses as inclusive ranges: [[200, 399]] is 200 to 399, [[200, 200], [404, 404]] is 200 or 404.
 * Data, so a plan can be printed and compared; `statusMatches` (http.ts) reads it, and the engine builds
 * its own matcher from it (load/requests.ts). Final answers are never 1xx, so sets start at 200 at most.
 */
export type StatusSet = Array<[low: number, high: number]>;

/** Where the engine's request bodies come from: one fixed body, or a list (a JSONL or CSV file, or generated) cycled in order. */
export type BodySource =
  | { kind: 'none' }
  | { kind: 'fixed'; body: string }
  | { kind: 'list'; bodies: string[]; origin: string; generated?: { seed: number; preset?: string } };

/**
 * Bodies to generate from a schema before the load starts (after the service is ready, when the schema
 * comes from it); they become a 'list'.
 */
export interface GeneratedBodies {
  kind: 'generate';
  /** Tried in order; the first that answers gives the schema. */
  sources: SchemaSource[];
  count: number;
  wrap: BodyWrap | 'oip';
  batch: number;
  /** Where it was configured, for messages. */
  where: string;
  /** The preset that says where the schema is (`rest-model-service, model insurance_charges_model`), for reports. */
  preset?: string;
}

/**
 * A request as the config says it. Its bodies may still be generated from a schema, with a share of
 * invalid requests and a check of the responses: src/run/bodies.ts resolves it into the EndpointPlans
 * the engine receives.
 */
export interface EndpointConfig {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: BodySource | GeneratedBodies;
  weight: number;
  /** Statuses that count as success; default 200-399. */
  okStatus: StatusSet;
  /** Deliberately invalid requests to mix in (configured share), made from the same schema. */
  invalid?: { share: number; okStatus: StatusSet };
  /** Check successful responses against the output schema the service publishes. */
  checkOutput?: boolean;
  /** The answer is a server-sent-events stream (the openai preset): see EndpointPlan.stream. */
  stream?: boolean;
  /**
   * The environment variable holding the API key, sent as "Authorization: Bearer KEY". The plan keeps
   * only the name: src/run/bodies.ts reads the key into the engine's headers, so it is in no plan,
   * fingerprint or report.
   */
  apiKeyEnv?: string;
}

/** A request as the engine receives it: its bodies resolved (none, fixed or a list). */
export interface EndpointPlan extends Omit<EndpointConfig, 'body' | 'invalid' | 'checkOutput' | 'apiKeyEnv'> {
  body: BodySource;
  /**
   * 'invalid': deliberately invalid requests that test the service's error path (an expected 4xx is a
   * success); counted apart, outside the run's totals and SLOs unless a scope names the endpoint.
   */
  role?: 'invalid';
  /** Successful response bodies must match this schema (the output schema the service publishes). */
  responseSchema?: ResponseSchema;
  /**
   * The response is a server-sent-events stream of an OpenAI-compatible server (issue 12): the HTTP
   * clients time every event and the recorder keeps TTFT, ITL, TPOT and E2E (metrics/stream-stats.ts).
   */
  stream?: boolean;
}

/** A JSON Schema a response is checked against, and the document its $refs resolve in. */
export interface ResponseSchema {
  schema: unknown;
  root: unknown;
}

/** What happens when a started service exits during the load: stop the run early, or keep counting the errors. */
export type OnExit = 'stop' | 'continue';

/** Whether a missing image may be pulled: only when absent (default), before every run, or never. */
export type PullPolicy = 'missing' | 'always' | 'never';

/** A container run from an image (optionally built first) through a docker-compatible CLI. */
export interface ContainerPlan {
  kind: 'container';
  /** The CLI: docker, or podman (its docker-compatible CLI). */
  cli: string;
  /** The image to run, and the tag a build: gives what it builds. */
  image: string;
  /** The port the service listens on inside the container; published on 127.0.0.1 at a free host port. */
  port: number;
  env: Record<string, string>;
  /** Absolute paths of env files (docker's --env-file format), in order. */
  envFiles: string[];
  /** Extra `docker run` arguments, before the image. */
  args: string[];
  /** Replaces the image's CMD (the arguments after the image), when given. */
  cmd?: string[];
  /** Replaces the image's ENTRYPOINT, when given. */
  entrypoint?: string;
  /** CPU limit in cores (0.2 = Kubernetes' 200m). */
  cpus?: number;
  /** Memory limit in bytes. */
  memoryBytes?: number;
  /** Build the image first (classic builder) and tag it `image`. Absolute paths. */
  build?: { context: string; dockerfile?: string; args: Record<string, string> };
  pull: PullPolicy;
  onExit: OnExit;
  /** http://127.0.0.1:{port}, the host port filled in once the container runs. */
  baseUrl: string;
}

export type ServicePlan =
  | {
      kind: 'command';
      command: string;
      cwd: string;
      env: Record<string, string>;
      /** Port the command listens on; 0 = pick a free one and substitute it for `{port}`. */
      port: number;
      baseUrl: string;
      /** If it dies mid-run: stop the load (default), or go on counting the errors. */
      onExit: OnExit;
    }
  | ContainerPlan
  | { kind: 'url'; baseUrl: string };

export interface ReadinessPlan {
  path: string;
  timeoutMs: number;
  /** Statuses that mean ready. */
  okStatus: StatusSet;
}

/** A command sampled every `everyMs` while the load runs; it prints a number (e.g. ready replicas). */
export interface MonitorPlan {
  name: string;
  command: string;
  everyMs: number;
  /** A run of the command taking longer is killed and counted as a failed sample. */
  timeoutMs: number;
}

export interface Plan {
  service: ServicePlan;
  readiness: ReadinessPlan;
  /** As the config says them: bodies to generate are resolved when the run starts. */
  endpoints: EndpointConfig[];
  load: LoadPlan;
  /** Commands sampled while the load runs, charted with the rest. */
  monitors: MonitorPlan[];
  /** The objectives the run is judged on (none: the run only measures). */
  slos: Slo[];
  /** The first this many ms are warm-up, left out of SLOs unless a line includes it. */
  warmupMs: number;
  timeoutMs: number;
  outputDir: string;
  seed: number;
  /** Progress line every this many ms. */
  progressIntervalMs: number;
  /** The config file the plan came from, if any (reports point back at it). */
  configPath?: string;
  /** Relative files named in the config resolve against this. */
  baseDir: string;
  /** This plan is shard `index` (0-based) of `count` of a whole plan: src/plan/shard.ts splits it, and says the fields. */
  shard?: { index: number; count: number; planSeed: number; fingerprint: string };
  /**
   * start-at: the load begins at this instant (epoch ms), once the service is ready, so that shards on
   * several machines load the service together. Not in the fingerprint: a merge checks it apart.
   */
  startAt?: number;
  /** allow-incomplete: a merge of this plan's shards judges what was measured when a shard is missing, late or failed. */
  allowIncomplete?: boolean;
  /**
   * Run the load as this many shards (2 or more), each a child process of this machine, sharing the one
   * service this process starts, merged into one result (src/run/workers.ts). Absent: one process.
   */
  workers?: number;
  /** Rounds against a baseline (baseline:, compare:; src/plan/compare.ts): absent for a single run. */
  compare?: ComparePlan;
  /**
   * Per-request objectives of the goodput and attainment SLOs (issue 12): the recorder counts, for each
   * set, the successful requests that met every objective in it (Stats.good[set.id]).
   */
  requestObjectives?: RequestObjectiveSet[];
}

/** What one request is judged by: its whole latency, or a streamed answer's TTFT, TPOT, E2E, or largest ITL. */
export type RequestMetric = 'latency' | 'ttft' | 'itl' | 'tpot' | 'e2e';

/** One per-request objective: the request's metric below `belowMs` (at most, when inclusive). */
export interface RequestObjective {
  metric: RequestMetric;
  belowMs: number;
  inclusive: boolean;
}

/**
 * The objectives one goodput or attainment SLO judges each request by. `id` is their canonical text,
 * e.g. "ttft < 300ms, tpot < 50ms", and keys Stats.good. A metric a request does not have (a TPOT for
 * a one-token or non-streamed answer, a TTFT for a response that is not a stream) counts as met.
 */
export interface RequestObjectiveSet {
  id: string;
  objectives: RequestObjective[];
}

/**
 * The run in rounds: against a second service in the same job, against a stored result (history), the
 * baseline against itself (calibration), or the candidate alone (rounds recorded for a later comparison).
 */
export interface ComparePlan {
  against: 'baseline' | 'history' | 'calibration' | 'none';
  /** The service to compare with (for calibration, the one run twice). */
  baseline?: { service: ServicePlan; readiness: ReadinessPlan };
  /** history: the stored result.json with rounds. Absolute. */
  resultFile?: string;
  /** Measured rounds per side to start with, and at most (more are added while inconclusive). */
  rounds: number;
  maxRounds: number;
  /** Stop adding rounds after this long (ms since the first measured round). */
  maxTimeMs: number;
  warmupRounds: number;
  /** Each round's load: the plan's stages scaled to this length. */
  roundLoad: LoadPlan;
  roundMs: number;
  /** The warm-up inside each round, scaled with the stages (left out of the round's values). */
  roundWarmupMs: number;
  /** random: each pair AB or BA by the seed; alternate: AB, BA, AB, ... */
  order: 'random' | 'alternate';
  /** interleaved: one side at a time; parallel: both take the same load at once (duet). */
  mode: 'interleaved' | 'parallel';
  /** The minimum effect for ratio metrics without an objective line (0.05 = 5%), and for the error rate (a fraction). */
  minEffect: number;
  minEffectErrorRate: number;
  failOnInconclusive: boolean;
  objectives: RegressionObjective[];
}

// SLOs as data: parsed from lines in slo.ts, judged in src/verdict/.

export type Comparison = '<' | '<=' | '>' | '>=' | '==' | '!=';

export type SloMetric =
  | { kind: 'latency'; stat: 'percentile'; percentile: number }
  | { kind: 'latency'; stat: 'mean' | 'max' | 'min' }
  /** Failed requests / requests, as a fraction (0.001 = 0.1%). */
  | { kind: 'error-rate' }
  /** Failed requests, a count. */
  | { kind: 'errors' }
  /** Requests per second: mean over the scope, or the highest / lowest whole second. */
  | { kind: 'throughput'; stat: 'mean' | 'peak' | 'min' }
  /**
   * A streamed answer's time to first token, inter-token latency (every gap between content events),
   * time per output token or end-to-end time, in ms: a percentile, the mean, max or min over the scope.
   */
  | { kind: 'stream'; of: StreamMetric; stat: 'percentile'; percentile: number }
  | { kind: 'stream'; of: StreamMetric; stat: 'mean' | 'max' | 'min' }
  /** Output tokens per second over the scope (content events, "chunks", when no server sent usage). */
  | { kind: 'output-tps' }
  /** Requests per second that met every per-request objective in the set (DistServe's goodput). */
  | { kind: 'goodput'; objectives: RequestObjectiveSet }
  /** The share of the scope's requests that met every per-request objective in the set, a fraction. */
  | { kind: 'attainment'; objectives: RequestObjectiveSet };

/** The metrics of a streamed answer an SLO can judge (issue 12). */
export type StreamMetric = 'ttft' | 'itl' | 'tpot' | 'e2e';

export interface Slo {
  /** The line as written. */
  text: string;
  metric: SloMetric;
  op: Comparison;
  /**
   * In the metric's unit: ms for latency and stream metrics, a fraction for error-rate and attainment, a
   * count for errors, req/s for throughput and goodput, tokens/s for output-tps.
   */
  threshold: number;
  /** Resolved stage index, when scoped to a stage. */
  stage?: number;
  /** Resolved endpoint index, when scoped to an endpoint. */
  endpoint?: number;
  /** Leave the warm-up out (default true when the run has a warm-up). */
  excludeWarmup: boolean;
  /** Stop the run as soon as this SLO fails on the data so far (k6's abortOnFail)... */
  abortOnFail: boolean;
  /** ...but not before this many ms into the run. */
  abortAfterMs?: number;
  /** Where it was declared, for annotations: a config file and line, or an input name and line. */
  source?: { file: string; line: number };
}
