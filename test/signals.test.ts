// Signals at every phase of a run against a command service: SIGINT, SIGTERM, SIGHUP, and a second SIGINT,
// while the service starts, while readiness is polled, during the load, and while the service is being
// stopped. Each: exit 130, every report written (saying what happened), nothing of the service left running.
// The service takes 2 s to shut down on SIGTERM, so a phase that waits for it shows in the time.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, NODE, REPO, type Started, eventually, groupAlive, killChildren, startNode } from './helpers/process.ts';
import { removeTempDirs, tempDir } from './helpers/tmp.ts';

const SERVER = join(REPO, 'test', 'helpers', 'server.ts');
const started: Started[] = [];
after(() => {
  for (const cli of started) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.kill('SIGKILL');
    const m = /Started the service \(pid (\d+)\)/.exec(cli.stdout);
    if (m && groupAlive(Number(m[1]))) process.kill(-Number(m[1]), 'SIGKILL');
  }
});
after(killChildren);
after(removeTempDirs);

type Phase = 'starting' | 'readiness' | 'load' | 'stopping';

/** The run's arguments and how to tell the phase has come, for each phase. */
function phaseRun(phase: Phase, out: string): { args: string[]; reached: (cli: Started) => Promise<unknown> } {
  const slowStop = '--sigterm-delay-ms 2000';
  const base = ['--path', '/p', '--users', '1', '--pacing', '10/s', '--progress-interval', '200ms', '--out', out];
  switch (phase) {
    case 'starting':
      // Node takes a few hundred ms to boot the service: it is started, not yet answering.
      return {
        args: ['run', '--command', `${NODE} ${SERVER} --port {port} ${slowStop}`, '--duration', '30s', ...base],
        reached: (c) => c.waitFor(/^Started the service/m),
      };
    case 'readiness':
      return {
        args: [
          'run',
          '--command',
          `${NODE} ${SERVER} --port {port} --ready-path /ready --ready-status 503 ${slowStop}`,
          '--ready-path',
          '/ready',
          '--duration',
          '30s',
          ...base,
        ],
        reached: async (c) => {
          await c.waitFor(/^Started the service/m);
          await eventually(
            () => existsSync(join(out, 'service.log')) && /listening on/.test(readFileSync(join(out, 'service.log'), 'utf8')),
            5000,
          );
        },
      };
    case 'load':
      return {
        args: ['run', '--command', `${NODE} ${SERVER} --port {port} ${slowStop}`, '--duration', '30s', ...base],
        reached: (c) => c.waitFor(/^\[\d+s\/30s\] /m),
      };
    case 'stopping':
      return {
        args: ['run', '--command', `${NODE} ${SERVER} --port {port} ${slowStop}`, '--duration', '1s', ...base],
        reached: () =>
          eventually(
            () => existsSync(join(out, 'service.log')) && /got SIGTERM/.test(readFileSync(join(out, 'service.log'), 'utf8')),
            10_000,
          ),
      };
  }
}

/** The status result.json must say after a signal in this phase. */
const STATUS: Record<Phase, string> = { starting: 'not-started', readiness: 'not-started', load: 'interrupted', stopping: 'completed' };

describe('signals at every phase of a run (command service)', () => {
  for (const phase of ['starting', 'readiness', 'load', 'stopping'] as const) {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGINT twice'] as const) {
      it(`${signal} while ${phase}: exit 130, every report, nothing left running`, async () => {
        const out = tempDir();
        const run = phaseRun(phase, out);
        const cli = startNode([CLI, ...run.args], { timeoutMs: 20_000 });
        started.push(cli);
        await run.reached(cli);
        const sig = signal === 'SIGINT twice' ? 'SIGINT' : signal;
        let sentAt = performance.now();
        cli.kill(sig);
        if (signal === 'SIGINT twice') {
          await cli.waitFor(/SIGINT: stopping the load/);
          await new Promise((res) => setTimeout(res, 300));
          sentAt = performance.now();
          cli.kill('SIGINT');
        }
        const r = await cli.exited;
        const took = performance.now() - sentAt;
        assert.equal(r.code, 130, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /^\s+at |internal error/m, r.stderr);
        // A signal while stopping, or a second one, does not wait out the service's 2 s shutdown; the
        // first signal in the other phases gives it its grace period (at most 3 s).
        const bound = signal === 'SIGINT twice' || phase === 'stopping' ? 1500 : 4500;
        assert.ok(took < bound, `took ${Math.round(took)} ms after the signal (bound ${bound} ms)`);
        for (const f of ['result.json', 'junit.xml', 'report.md', 'report.html', 'loadgate_stats.csv'])
          assert.ok(existsSync(join(out, f)), `${f} written`);
        const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { status: string; reason?: string };
        assert.equal(result.status, STATUS[phase], JSON.stringify(result.reason));
        const m = /Started the service \(pid (\d+)\)/.exec(r.stdout);
        assert.ok(m, r.stdout);
        assert.ok(await eventually(() => !groupAlive(Number(m[1])), 3000), `the service's process group ${m[1]} still runs`);
      });
    }
  }
});
