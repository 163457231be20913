// Running a container CLI (docker, or podman through the same commands) to the end: its exit code and
// output, a timeout, cancellation, and the line of its stderr that says what went wrong. For the container
// service (container.ts) and its CPU and memory sampler (sample-container.ts). "Engine" is the load engine's
// word; the config's `engine:` key names this CLI (documented, so it stays).

import { spawn } from 'node:child_process';
import { ServiceError, type ServiceImage } from './running-service.ts';

export interface ContainerCli {
  /** Runs the CLI to the end; rejects only when the CLI itself cannot be started. */
  run(
    args: string[],
    o?: {
      timeoutMs?: number;
      signal?: AbortSignal | undefined;
      killSignal?: NodeJS.Signals;
      env?: NodeJS.ProcessEnv;
      output?: (b: Buffer) => void;
    },
  ): Promise<CliResult>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function containerCli(command: string): ContainerCli {
  return {
    run(args, o = {}) {
      return new Promise((res, rej) => {
        const child = spawn(command, args, {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: o.env ?? process.env,
          ...(o.signal ? { signal: o.signal, killSignal: o.killSignal ?? 'SIGTERM' } : {}),
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => {
          out.push(b);
          o.output?.(b);
        });
        child.stderr.on('data', (b: Buffer) => {
          err.push(b);
          o.output?.(b);
        });
        const timer = o.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), o.timeoutMs) : undefined;
        child.on('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          if (e.code === 'ENOENT')
            rej(
              new ServiceError(
                `cannot run the container engine "${command}": not found on PATH (engine: names it; docker and podman work)`,
              ),
            );
          else if (e.name === 'AbortError') res({ code: null, stdout: '', stderr: 'stopped' });
          else rej(new ServiceError(`cannot run ${command}: ${e.message}`));
        });
        child.on('close', (code) => {
          clearTimeout(timer);
          res({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
        });
      });
    },
  };
}

export function codeOf(r: CliResult): string {
  return r.code === null ? ' (timed out or stopped)' : ` (exit ${r.code})`;
}

/** The line of the CLI's stderr that says what went wrong: not its "Run 'docker run --help'" hint, nor a warning. */
export function lastLine(s: string): string {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^(Run|See) '.*--help'/.test(l));
  const errors = lines.filter((l) => !/^WARNING\b/i.test(l));
  return (errors.length ? errors : lines).pop()?.replace(/^docker: /, '') ?? '';
}

/**
 * What `image` is, asked of the engine once the container runs: the container's own image id first
 * (what it actually runs, even if the tag moved since), then that image's repo digests. A digest the
 * engine cannot give is left out; never throws.
 */
export async function inspectImage(cli: ContainerCli, image: string, containerId?: string): Promise<ServiceImage> {
  const ask = async (args: string[]) => {
    try {
      const r = await cli.run(args, { timeoutMs: 15_000 });
      return r.code === 0 ? r.stdout.trim() : undefined;
    } catch {
      return undefined;
    }
  };
  const running = containerId ? await ask(['inspect', '--format', '{{.Image}}', containerId]) : undefined;
  const out = await ask(['image', 'inspect', '--format', '{{json .RepoDigests}}|{{.Id}}', running || image]);
  if (!out) return { image };
  return { image, ...pickDigest(image, out) };
}

/** The digest from `image inspect`'s "RepoDigests as JSON|Id": the repo digest of the image's own repository if it has one. */
export function pickDigest(image: string, inspected: string): Pick<ServiceImage, 'digest' | 'digestKind'> {
  const bar = inspected.lastIndexOf('|');
  let repoDigests: string[] = [];
  try {
    const parsed: unknown = JSON.parse(inspected.slice(0, bar));
    if (Array.isArray(parsed)) repoDigests = parsed.filter((d): d is string => typeof d === 'string' && d.includes('@'));
  } catch {}
  // The same content pushed to several repositories has one digest per repository: prefer the one named.
  const repo = repositoryOf(image);
  const own = repoDigests.find((d) => d.slice(0, d.indexOf('@')) === repo || d.slice(0, d.indexOf('@')).endsWith(`/${repo}`));
  const repoDigest = own ?? repoDigests[0];
  if (repoDigest) return { digest: repoDigest, digestKind: 'repo-digest' };
  const id = inspected.slice(bar + 1).trim();
  // Podman prints the id without its algorithm.
  if (/^[0-9a-f]{64}$/.test(id)) return { digest: `sha256:${id}`, digestKind: 'image-id' };
  if (/^sha256:[0-9a-f]{64}$/.test(id)) return { digest: id, digestKind: 'image-id' };
  return {};
}

/** "ghcr.io/acme/model:pr-12" -> "ghcr.io/acme/model"; "model@sha256:..." -> "model"; a registry port stays. */
function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0]!;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}
