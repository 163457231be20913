// Running a container CLI (docker, or podman through the same commands) to the end: its exit code and
// output, a timeout, cancellation, and the line of its stderr that says what went wrong. For the container
// service (container.ts) and its CPU and memory sampler (sample-container.ts). "Engine" is the load engine's
// word; the config's `engine:` key names this CLI (documented, so it stays).

import { spawn } from 'node:child_process';
import { ServiceError } from './running-service.ts';

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
 * The image's digest as the engine knows it: its repository digest when it came from a registry, else
 * its content id (a local build). Undefined when the engine cannot say. Recorded in the result so that
 * two runs can tell whether they measured the same service.
 */
export async function imageDigest(cli: ContainerCli, image: string): Promise<string | undefined> {
  try {
    const r = await cli.run(['image', 'inspect', '--format', '{{range .RepoDigests}}{{.}} {{end}}|{{.Id}}', image], { timeoutMs: 10_000 });
    if (r.code !== 0) return undefined;
    const [repo = '', id = ''] = r.stdout.trim().split('|');
    return repo.trim().split(' ')[0] || id.trim() || undefined;
  } catch {
    return undefined;
  }
}
