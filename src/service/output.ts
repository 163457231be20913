// Where a started service's output goes (command or container): the log file in the report folder, and
// the last lines, so an error message can end with what the service said. Bounded: the first HEAD_BYTES
// are written as they come, then only the last TAIL_BYTES are kept (in memory), and at the end the log
// says how much was dropped between the two. A service that logs without pause costs loadgate a copy
// into a ring per chunk, not a write, and neither memory nor the file grows past the cap.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

const TAIL_LINES = 40;
export const HEAD_BYTES = 4 << 20;
export const TAIL_BYTES = 4 << 20;

/** The last lines of output, for error messages (a ring of TAIL_LINES, blank lines skipped). */
export class Tail {
  private lines: string[] = [];
  push(chunk: Buffer | string): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(line.replace(/\r$/, ''));
      if (this.lines.length > TAIL_LINES) this.lines.shift();
    }
  }
  last(n = 15): string[] {
    return this.lines.slice(-n);
  }
}

/** "; its last output:" and the lines, indented (nothing when there are none), to end an error message. */
export function outputTail(lines: readonly string[], whose: string): string {
  return lines.length ? `; ${whose} last output:\n  ${lines.join('\n  ')}` : '';
}

/** The last lines of output, asked for when a message needs them. */
export interface LastLines {
  last(n?: number): string[];
}

/** Where a started service's output goes: the log file (when there is one) and the last lines, for messages. */
export interface ServiceOutput {
  keep(chunk: Buffer): void;
  tail: LastLines;
  /** Bytes of output not kept (between the head written and the tail kept). */
  dropped(): number;
  /** Ends the log file once what was written is flushed: the head, a note of what was dropped, the tail. */
  close(): Promise<void>;
}

export function openOutput(logFile: string | undefined, caps: { head?: number; tail?: number } = {}): ServiceOutput {
  const headCap = caps.head ?? HEAD_BYTES;
  const tailCap = caps.tail ?? TAIL_BYTES;
  let log: WriteStream | undefined;
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    log = createWriteStream(logFile);
    // A log that cannot be written (a full disk) is not the run's failure: what is kept in memory still serves messages.
    log.on('error', () => (log = undefined));
  }
  const tail = new Tail();
  let written = 0;
  // Past the head: chunks of the tail, oldest first, and their total size.
  const ring: Buffer[] = [];
  let ringBytes = 0;
  let dropped = 0;
  let tailStale = false;
  const lastLines: LastLines = {
    last(n) {
      if (tailStale) {
        // The last lines from the end of the ring, on demand (splitting every chunk would cost the load).
        tail.push(Buffer.concat(ring.slice(-4)).subarray(-16384));
        tailStale = false;
      }
      return tail.last(n);
    },
  };
  return {
    tail: lastLines,
    keep(chunk) {
      if (written < headCap) {
        const part = written + chunk.length <= headCap ? chunk : chunk.subarray(0, headCap - written);
        log?.write(part);
        written += part.length;
        tail.push(part);
        if (part.length === chunk.length) return;
        chunk = chunk.subarray(part.length);
      }
      // Kept as is: a stream's 'data' chunks are fresh buffers (no copy per chunk).
      ring.push(chunk);
      ringBytes += chunk.length;
      tailStale = true;
      while (ringBytes - ring[0]!.length >= tailCap) {
        const old = ring.shift()!;
        ringBytes -= old.length;
        dropped += old.length;
      }
    },
    dropped: () => dropped,
    close: () =>
      new Promise<void>((res) => {
        if (!log) return res();
        if (dropped > 0)
          log.write(
            `\n[loadgate: ${dropped} bytes of the service's output dropped here; the first ${headCap} and the last ${ringBytes} bytes are kept]\n`,
          );
        for (const b of ring) log.write(b);
        log.end(res);
      }),
  };
}
