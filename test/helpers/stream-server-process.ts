// The stream test server (stream-server.ts) in a process of its own, so that its timed writes (and the
// spin before each) never share an event loop with the client that measures them: what the client sees
// is then what a separate service would show it. Its records come back over IPC; their times are on the
// child's performance.now() clock, so compare durations (TTFT, gaps), not instants, with the parent's.
//
//   const s = await startStreamServerProcess({ firstTokenMs: 300, intervalMs: 40, tokens: 16 });
//   ... load s.url ...
//   const records = await s.records();
//   await s.close();
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StreamRecord, StreamServerOptions } from './stream-server.ts';

export interface StreamServerProcess {
  url: string;
  pid: number;
  /** What the server did so far, one record per request. */
  records(): Promise<StreamRecord[]>;
  close(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('./stream-server-main.ts', import.meta.url));

export async function startStreamServerProcess(opts: StreamServerOptions): Promise<StreamServerProcess> {
  const child = fork(MAIN, [JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the stream server process exited with ${code} before listening`)));
  });
  let asked = 0;
  return {
    url,
    pid: child.pid!,
    records: () =>
      new Promise<StreamRecord[]>((resolve) => {
        const id = ++asked;
        const on = (m: unknown) => {
          const r = m as { id?: number; records?: StreamRecord[] };
          if (r.id !== id) return;
          child.off('message', on);
          resolve(r.records!);
        };
        child.on('message', on);
        child.send({ records: id });
      }),
    close: async () => {
      if (child.exitCode !== null) return;
      child.send({ close: true });
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
