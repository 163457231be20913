// What every kind of service (command, container, URL) gives the run: a handle with its base URL, an
// exit to watch, its last output for messages, and a stop that always works; how its exit is said, and a
// bounded wait for it.

import type { ServicePlan } from '../plan/types.ts';
import { outputTail } from './output.ts';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
}

export interface ServiceExit {
  code: number | null;
  signal: string | null;
  /** What else is known, e.g. "killed by SIGKILL" for a container's 137, or that it ran out of memory. */
  note?: string;
  /** When the exit was seen (Date.now()); what is known about it may take a moment longer to gather. */
  at?: number;
}

/**
 * What the CPU/memory sampler watches: a command's process-group leader, a container by its id (through
 * the same container CLI), nothing for a URL service.
 */
export type ServiceWatch = { kind: 'pid'; pid: number } | { kind: 'container'; cli: string; id: string } | null;

/**
 * Which image a container service ran, recorded in the result (Environment.serviceImage) so that two
 * runs can tell whether they measured the same service. `digest` is the image's repository digest
 * ("repo@sha256:...", the manifest digest a registry serves: the same on every machine that pulls it)
 * when the engine knows one, else its image id ("sha256:...", the content id of a local build: another
 * build of the same files may get another id). `digestKind` says which. Podman gives a local build a
 * manifest digest under "localhost/" too, so there it is a repo digest.
 */
export interface ServiceImage {
  /** The image as the config names it, e.g. "ghcr.io/acme/model:pr-12". */
  image: string;
  digest?: string;
  digestKind?: 'repo-digest' | 'image-id';
}

/** What was started, told as soon as it is (before readiness), e.g. so the action's post step can remove a container. */
export type StartedService =
  | { kind: 'container'; cli: string; id: string; name: string }
  | { kind: 'command'; pid: number }
  | { kind: 'url' };

export interface RunningService {
  baseUrl: string;
  /** Resolves when a started service exits on its own, or once stop() ended it (never for a URL service). */
  exited: Promise<ServiceExit>;
  /**
   * True once the service is known to have ended while `exited` has not resolved yet (a container's exit
   * is told after its exit code, OOM flag and last output are read: up to about 2 s later).
   */
  exitPending?(): boolean;
  /** Last lines the service printed (stdout and stderr), for error messages. */
  lastLines(n?: number): string[];
  /**
   * Stops and removes what was started; `graceMs` is the time it gets to shut down, cut short when `hurry`
   * aborts (a signal while it is being stopped). Safe to call twice.
   */
  stop(graceMs?: number, hurry?: AbortSignal): Promise<void>;
  pid?: number | undefined;
  /**
   * Once it answers: why what answered cannot be the service that was started (another process holds its
   * port), or null. Only a command service can tell.
   */
  answeredByStranger?(): string | null;
  watch: ServiceWatch;
  /** A container's image and its digest, asked of the engine once the container runs (never rejects). */
  image?: Promise<ServiceImage>;
  /** "container loadgate-1a2b3c4d5e (image my/model:1, id 0123456789ab)", "command (pid 1234)", or the URL. */
  describe(): string;
}

/**
 * The image a container service ran and its digest, as the engine told it once the container ran; just
 * the name when it never ran; undefined for a service that is not a container.
 */
export async function imageOf(plan: ServicePlan | undefined, running: RunningService | undefined): Promise<ServiceImage | undefined> {
  if (plan?.kind !== 'container') return undefined;
  return running?.image ? await running.image : { image: plan.image };
}

export interface StartOptions {
  /** The service's output (and a container build's) is written here. */
  logFile?: string;
  /** Aborting it cancels a build or pull in progress. */
  signal?: AbortSignal;
  onStarted?: (s: StartedService) => void;
}

export function exitMessage(e: ServiceExit, when: string, lastLines: readonly string[] = []): string {
  const how = e.signal ? `was killed by ${e.signal}` : e.code === null ? 'could not be started' : `exited with code ${e.code}`;
  return `the service ${how}${e.note ? ` (${e.note})` : ''} ${when}${outputTail(lastLines, 'its')}`;
}

/** Waits for `p`, or `ms` at most. */
export async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
  clearTimeout(timer);
}

/** Resolves when `signal` aborts (never without one). */
export function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((res) => {
    if (!signal) return;
    if (signal.aborted) return res();
    signal.addEventListener('abort', () => res(), { once: true });
  });
}
