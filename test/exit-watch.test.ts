// src/service/exit-watch.ts: a service that dies during the load stops it (on-exit: stop) or is only
// reported (on-exit: continue), and the result's record of the service. A stand-in service whose exit
// the test decides; real commands and containers dying are covered in gate.test.ts and container.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServicePlan } from '../src/plan/types.ts';
import type { RunningService, ServiceExit } from '../src/service/running-service.ts';
import { watchExitDuringLoad } from '../src/service/exit-watch.ts';

function standIn(opts: { pending?: () => boolean } = {}): { svc: RunningService; exit: (e: ServiceExit) => void } {
  let exit!: (e: ServiceExit) => void;
  const exited = new Promise<ServiceExit>((res) => (exit = res));
  const svc: RunningService = {
    baseUrl: 'http://127.0.0.1:1',
    exited,
    lastLines: () => ['Traceback (most recent call last):', 'MemoryError'],
    stop: async () => {},
    watch: null,
    describe: () => 'command (pid 1234)',
    ...(opts.pending ? { exitPending: opts.pending } : {}),
  };
  return { svc, exit };
}

const command = (onExit: 'stop' | 'continue'): ServicePlan => ({
  kind: 'command',
  command: 'x',
  cwd: '/',
  env: {},
  port: 0,
  baseUrl: 'http://127.0.0.1:1',
  onExit,
});
const tick = () => new Promise((res) => setImmediate(res));

describe('a service that exits during the load', () => {
  it('on-exit: stop stops the load with how it died and its last output, and the record says when', async () => {
    const { svc, exit } = standIn();
    const stops: string[] = [];
    const logs: string[] = [];
    const watch = watchExitDuringLoad(command('stop'), svc, {
      stop: (why) => stops.push(why),
      log: (l) => logs.push(l),
      logName: 'service.log',
    });
    const startedAt = new Date(Date.now() - 2000).toISOString();
    exit({ code: 3, signal: null, at: Date.parse(startedAt) + 1500 });
    await tick();
    assert.deepEqual(stops, [
      'the service exited with code 3 during the run; its last output:\n  Traceback (most recent call last):\n  MemoryError',
    ]);
    assert.deepEqual(logs, []);
    watch.loadEnded();
    assert.deepEqual(await watch.record(startedAt), {
      kind: 'command',
      description: 'command (pid 1234)',
      onExit: 'stop',
      exit: { atMs: 1500, code: 3, signal: null, summary: 'the service exited with code 3 during the run' },
    });
  });

  it('on-exit: continue only says so, naming the log file, and the load goes on', async () => {
    const { svc, exit } = standIn();
    const stops: string[] = [];
    const logs: string[] = [];
    const watch = watchExitDuringLoad(command('continue'), svc, {
      stop: (why) => stops.push(why),
      log: (l) => logs.push(l),
      logName: 'service.log',
    });
    exit({ code: null, signal: 'SIGKILL', note: 'out of memory' });
    await tick();
    assert.deepEqual(stops, []);
    assert.deepEqual(logs, [
      'The service was killed by SIGKILL (out of memory) during the run; on-exit: continue, so the load goes on (see service.log)',
    ]);
    const record = await watch.record(new Date().toISOString());
    assert.equal(record.onExit, 'continue');
    assert.equal(record.exit?.note, 'out of memory');
  });

  it('an exit after the load ended is not a death during the load', async () => {
    const { svc, exit } = standIn();
    const stops: string[] = [];
    const watch = watchExitDuringLoad(command('stop'), svc, { stop: (why) => stops.push(why), log: () => {}, logName: 'service.log' });
    watch.loadEnded();
    exit({ code: 0, signal: null });
    await tick();
    assert.deepEqual(stops, []);
    assert.deepEqual(await watch.record(new Date().toISOString()), { kind: 'command', description: 'command (pid 1234)', onExit: 'stop' });
  });

  it('an exit still being read when the load ends is waited for, so the record says how it died', async () => {
    const { svc, exit } = standIn({ pending: () => true });
    const watch = watchExitDuringLoad(command('stop'), svc, { stop: () => {}, log: () => {}, logName: 'service.log' });
    watch.loadEnded();
    setTimeout(() => exit({ code: 137, signal: null, note: 'killed by SIGKILL' }), 50);
    const record = await watch.record(new Date().toISOString());
    assert.equal(record.exit?.code, 137);
    assert.equal(record.exit?.summary, 'the service exited with code 137 (killed by SIGKILL) during the run');
  });

  it('a URL service has no on-exit in its record', async () => {
    const svc = { ...standIn().svc, describe: () => 'http://127.0.0.1:1' };
    const watch = watchExitDuringLoad({ kind: 'url', baseUrl: 'http://127.0.0.1:1' }, svc, {
      stop: () => {},
      log: () => {},
      logName: 'service.log',
    });
    watch.loadEnded();
    assert.deepEqual(await watch.record(new Date().toISOString()), { kind: 'url', description: 'http://127.0.0.1:1' });
  });
});
