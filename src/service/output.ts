// Where a started service's output goes (command or container): the log file in the report folder, and
// the last lines kept in memory, so an error message can end with what the service said.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

const TAIL_LINES = 40;

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

/** Where a started service's output goes: the log file (when there is one) and the last lines, for messages. */
export interface ServiceOutput {
  keep(chunk: Buffer): void;
  tail: Tail;
  /** Ends the log file once what was written is flushed. */
  close(): Promise<void>;
}

export function openOutput(logFile: string | undefined): ServiceOutput {
  let log: WriteStream | undefined;
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    log = createWriteStream(logFile);
  }
  const tail = new Tail();
  return {
    tail,
    keep(chunk) {
      log?.write(chunk);
      tail.push(chunk);
    },
    close: () => new Promise<void>((res) => (log ? log.end(res) : res())),
  };
}
