// Watching the service: CPU and memory from /proc (commands) and docker stats (containers), monitor
// commands, and how samples are folded into the result's timeline.

import assert from 'node:assert/strict';
import { chmodSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { RunResult } from '../src/metrics/result.ts';
import { ConfigError, buildPlan, emptyConfig, applyOverrides } from '../src/plan/config.ts';
import { renderMarkdown } from '../src/report/markdown.ts';
import { formatSummary } from '../src/report/console.ts';
import { parseProcStat } from '../src/service/procfs.ts';
import { parseMonitorOutput } from '../src/service/monitors.ts';
import { findCgroupFiles, parseDockerStatsLine, parseSize } from '../src/service/sample-container.ts';
import { cpuPercentBetween } from '../src/service/sample-process.ts';
import { type MonitorSample, type ResourceSample, startWatching } from '../src/service/watch.ts';
import { attachWatch } from '../src/metrics/resources.ts';
import { constructedResult } from './fixtures/result.ts';
import { passingVerdict } from './fixtures/verdict.ts';
import { busyboxImage, docker, dockerSkip } from './helpers/images.ts';
import { CLI, PATH_WITH_NODE, killChildren, runNode } from './helpers/process.ts';
import { removeTempDirs, tempDir, writeFile } from './helpers/tmp.ts';

after(killChildren);
after(removeTempDirs);

describe('parsers', () => {
  it('reads /proc/<pid>/stat fields after the command name, whatever it holds', () => {
    // Fields 3.. of a real stat line; the name has spaces and a closing parenthesis.
    const rest = 'S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 3 0 100 123456789 2048 18446744073709551615';
    assert.deepEqual(parseProcStat(`4243 (my (odd) name) ${rest}`), {
      state: 'S',
      pgrp: 4242,
      ticks: 300,
      startTicks: '100',
      rssPages: 2048,
    });
    const self = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.ok(self && self.rssPages > 0 && self.pgrp > 0, JSON.stringify(self));
    assert.equal(parseProcStat('garbage'), null);
  });

  it('counts the CPU each process added, including new ones, ignoring ones that exited', () => {
    const prev = new Map([
      [1, 100],
      [2, 50],
      [3, 70],
    ]);
    const now = new Map([
      [1, 150],
      [2, 50],
      [4, 25],
    ]); // 3 exited, 4 is new
    // (50 + 0 + 25) ticks at 100 Hz over 1 s = 75% of a core.
    assert.equal(cpuPercentBetween(prev, now, 1000, 100), 75);
    assert.equal(cpuPercentBetween(prev, now, 500, 100), 150);
    assert.equal(cpuPercentBetween(prev, now, 0, 100), 0);
  });

  it('reads docker stats JSON lines, after the terminal escape docker prints', () => {
    const line =
      '\x1b[H\x1b[J{"BlockIO":"0B / 0B","CPUPerc":"187.25%","Container":"c1","ID":"23a9","MemPerc":"0.51%","MemUsage":"123.4MiB / 23.54GiB","Name":"c1","NetIO":"200B / 0B","PIDs":"7"}';
    const s = parseDockerStatsLine(line)!;
    assert.equal(s.cpuPercent, 187.25);
    assert.equal(Math.round(s.memoryBytes!), Math.round(123.4 * 1024 * 1024));
    // podman prints sizes in decimal units
    assert.equal(parseDockerStatsLine('{"CPUPerc":"--","MemUsage":"52.3MB / 2GB"}')!.memoryBytes, 52.3e6);
    assert.equal(parseDockerStatsLine('{"CPUPerc":"--","MemUsage":"--"}'), null);
    assert.equal(parseDockerStatsLine('Error response from daemon: No such container: x'), null);
    assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3);
    assert.equal(parseSize('0B'), 0);
    assert.equal(parseSize('12 parsecs'), null);
  });

  it("finds a process's cgroup files: v1 controllers, v2, and a hybrid host", () => {
    const v1Mounts = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '33 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
      '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    ].join('\n');
    const hybrid = ['4:memory:/docker/abc', '2:cpu,cpuacct:/docker/abc', '0::/docker/abc'].join('\n');
    assert.deepEqual(findCgroupFiles(hybrid, v1Mounts), {
      version: 1,
      cpu: '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage',
      memory: '/sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes',
      memoryStat: '/sys/fs/cgroup/memory/docker/abc/memory.stat',
    });
    const v2Mounts = '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';
    assert.deepEqual(findCgroupFiles('0::/system.slice/docker-abc.scope\n', v2Mounts), {
      version: 2,
      cpu: '/sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat',
      memory: '/sys/fs/cgroup/system.slice/docker-abc.scope/memory.current',
      memoryStat: '/sys/fs/cgroup/system.slice/docker-abc.scope/memory.stat',
    });
    // Mounted from a sub-tree (inside another container): paths would not line up.
    assert.equal(findCgroupFiles('0::/x', '30 23 0:26 /nested /sys/fs/cgroup rw - cgroup2 cgroup2 rw'), null);
    assert.equal(findCgroupFiles('', v2Mounts), null);
  });

  it('takes the first number a monitor prints', () => {
    assert.equal(parseMonitorOutput('3'), 3);
    assert.equal(parseMonitorOutput('  0.75\n'), 0.75);
    assert.equal(parseMonitorOutput('replicas: 4 of 5'), 4);
    assert.equal(parseMonitorOutput('-2.5e3'), -2500);
    assert.equal(parseMonitorOutput(''), null);
    assert.equal(parseMonitorOutput('none'), null);
  });
});

describe('attachWatch', () => {
  const base = (): RunResult => {
    const r = constructedResult();
    return r;
  };
  const at = (r: RunResult, s: number) => Date.parse(r.startedAt) + s * 1000;

  it('puts each second the last sample taken in it, carries one forward a little, and summarizes', () => {
    const r = base();
    assert.deepEqual(
      r.timeline.map((p) => p.t),
      [1, 2, 2.6],
    );
    const resources: ResourceSample[] = [
      { atMs: at(r, -0.5), cpuPercent: 99, memoryBytes: 1 }, // before the load: not in the summary
      { atMs: at(r, 0.3), cpuPercent: 10, memoryBytes: 100e6 },
      { atMs: at(r, 0.9), cpuPercent: 30, memoryBytes: 120e6 },
      // nothing in [1, 2): the 0.9 s sample is carried forward
    ];
    const monitors: MonitorSample[] = [
      { atMs: at(r, 0.1), name: 'replicas', value: 1 },
      { atMs: at(r, 2.2), name: 'replicas', value: 3 },
    ];
    const plans = [
      { name: 'replicas', command: 'kubectl ...', everyMs: 2000, timeoutMs: 2000 },
      { name: 'queue', command: 'false', everyMs: 1000, timeoutMs: 1000 },
    ];
    const failures = new Map([['queue', { count: 3, last: 'exit 1' }]]);
    const out = attachWatch(r, { resources, monitors, monitorFailures: failures, source: 'proc', problems: [] }, plans);
    assert.deepEqual(
      out.timeline.map((p) => p.cpuPercent),
      [30, 30, 30],
    );
    assert.deepEqual(
      out.timeline.map((p) => p.memoryBytes),
      [120e6, 120e6, 120e6],
    );
    assert.deepEqual(
      out.timeline.map((p) => p.monitors),
      [{ replicas: 1 }, { replicas: 1 }, { replicas: 3 }],
    );
    assert.deepEqual(out.resources, { source: 'proc', samples: 2, peakCpuPercent: 30, meanCpuPercent: 20, peakMemoryBytes: 120e6 });
    assert.deepEqual(out.monitors![0], {
      name: 'replicas',
      command: 'kubectl ...',
      everyMs: 2000,
      samples: 2,
      failures: 0,
      first: 1,
      last: 3,
      min: 1,
      max: 3,
    });
    assert.deepEqual(out.monitors![1], { name: 'queue', command: 'false', everyMs: 1000, samples: 0, failures: 3, lastError: 'exit 1' });
    assert.equal(r.timeline[0]!.cpuPercent, undefined, 'the input is not changed');

    const text = formatSummary(out);
    assert.match(
      text,
      /Service: CPU peak 30\.0% of one core \(mean 20\.0%\), memory peak 114\.4 MiB \(2 samples from its processes in \/proc\)/,
    );
    assert.match(text, /Monitor "replicas": 1 at the start, 3 at the end \(min 1, max 3\), 2 samples/);
    assert.match(text, /Warning: monitor "queue" failed 3 of 3 times: exit 1/);
    const md = renderMarkdown(out, passingVerdict());
    assert.match(md, /Service\\: CPU peak 30\\\.0% of one core/, 'in the Markdown report, escaped');
  });

  it('leaves a second empty when the last sample is too old', () => {
    const r = base();
    const out = attachWatch(
      r,
      {
        resources: [{ atMs: at(r, -2.5), cpuPercent: 5 }],
        monitors: [],
        monitorFailures: new Map(),
        source: 'container',
        problems: ['boom'],
      },
      [],
    );
    assert.deepEqual(
      out.timeline.map((p) => p.cpuPercent),
      [5, undefined, undefined],
    );
    assert.deepEqual(out.resources, { source: 'container', samples: 0, problem: 'boom' });
    assert.equal(out.monitors, undefined);
  });
});

describe('monitors in the config', () => {
  const plan = (monitors: unknown) =>
    buildPlan(
      applyOverrides(emptyConfig(), [
        { path: ['service', 'url'], value: 'http://127.0.0.1:9' },
        { path: ['request'], value: { path: '/' } },
        { path: ['load'], value: { stages: [{ duration: '1s', users: 1 }] } },
        { path: ['monitors'], value: monitors, origin: 'monitors' },
      ]),
    );
  it('reads names, commands, intervals and timeouts', () => {
    const p = plan([{ name: 'replicas', command: 'echo 3', every: '10s' }, 'echo 1', { command: 'echo 2', every: '2s', timeout: '500ms' }]);
    assert.deepEqual(p.monitors, [
      { name: 'replicas', command: 'echo 3', everyMs: 10_000, timeoutMs: 10_000 },
      { name: 'monitor 2', command: 'echo 1', everyMs: 5000, timeoutMs: 5000 },
      { name: 'monitor 3', command: 'echo 2', everyMs: 2000, timeoutMs: 500 },
    ]);
    assert.deepEqual(plan(undefined).monitors, []);
  });
  it('rejects what it cannot use, naming the key', () => {
    const bad: Array<[unknown, RegExp]> = [
      [[{ name: 'x' }], /monitors\[0\]\)?: missing command/],
      [
        [
          { command: 'a', name: 'x' },
          { command: 'b', name: 'x' },
        ],
        /monitors\[1\]\.name\)?: "x" names another monitor/,
      ],
      [[{ command: 'a', every: '10ms' }], /monitors\[0\]\.every\)?: expected at least 200ms/],
      [[{ command: 'a', evrey: '1s' }], /unknown key "evrey"; known keys: name, command, every, timeout/],
      [{ command: 'a' }, /monitors\)?: expected a list/],
    ];
    for (const [v, re] of bad)
      assert.throws(
        () => plan(v),
        (e: Error) => e instanceof ConfigError && re.test(e.message),
        JSON.stringify(v),
      );
  });
});

describe('watching real services', () => {
  it('samples a command service from /proc and runs monitors during a CLI run', async () => {
    const dir = tempDir();
    const counter = writeFile(dir, 'counter', '0');
    // A service that burns about half a core (a busy loop in one child, as a real server's worker
    // process would), so the sampled CPU is clearly above idle.
    const server = writeFile(
      dir,
      'server.mjs',
      `import { createServer } from 'node:http';
       import { spawn } from 'node:child_process';
       spawn(process.execPath, ['-e', 'setInterval(() => { const t = Date.now(); while (Date.now() - t < 5); }, 10)'], { stdio: 'inherit' });
       const buf = Buffer.alloc(64 << 20, 1); // 64 MiB resident
       createServer((req, res) => res.end(String(buf[0]))).listen(Number(process.argv[2]), '127.0.0.1');`,
    );
    const cfg = writeFile(
      dir,
      'loadgate.yml',
      `service:
  command: node ${server} {port}
request: { path: / }
load:
  pacing: 10/s
  stages: [{ duration: 4s, users: 2 }]
monitors:
  - { name: counter, command: "cat ${counter}", every: 500ms }
  - { name: broken, command: "echo nothing here", every: 1s }
output: ${dir}/out
`,
    );
    // The counter goes up while the load runs.
    let n = 0;
    const bump = setInterval(() => writeFile(dir, 'counter', String(++n)), 700);
    const r = await runNode([CLI, 'run', '--config', cfg], { timeoutMs: 30_000, env: { ...process.env, PATH: PATH_WITH_NODE } });
    clearInterval(bump);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const result = JSON.parse(readFileSync(`${dir}/out/result.json`, 'utf8')) as RunResult;
    assert.equal(result.resources?.source, 'proc');
    assert.ok((result.resources?.samples ?? 0) >= 3, JSON.stringify(result.resources));
    // Half a core from the busy child: clearly more than an idle server (well under 5%).
    assert.ok(result.resources!.peakCpuPercent! > 25, JSON.stringify(result.resources));
    assert.ok(result.resources!.peakMemoryBytes! > 64 << 20, JSON.stringify(result.resources));
    const withCpu = result.timeline.filter((p) => p.cpuPercent !== undefined);
    assert.ok(withCpu.length >= result.timeline.length - 2, `${withCpu.length} of ${result.timeline.length} seconds have CPU`);
    const counts = result.timeline.map((p) => p.monitors?.['counter']).filter((x) => x !== undefined);
    assert.ok(counts.length >= 3 && counts.at(-1)! > counts[0]!, `the counter rose: ${counts.join(', ')}`);
    const broken = result.monitors!.find((m) => m.name === 'broken')!;
    assert.ok(broken.failures >= 2 && broken.samples === 0, JSON.stringify(broken));
    assert.match(r.stdout, /Warning: monitor "broken" failed \d+ of \d+ times: printed no number: "nothing here"/);
    assert.match(r.stdout, /Service: CPU peak \d+/);
    const html = readFileSync(`${dir}/out/report.html`, 'utf8');
    assert.ok(html.includes('id="chart-resources"') && html.includes('id="chart-monitors"'));
  });

  it('samples a container from its cgroup', { skip: dockerSkip() }, async () => {
    const name = `loadgate-test-watch-${process.pid}`;
    const id = docker(['run', '-d', '--init', '--name', name, busyboxImage(), 'sh', '-c', 'while :; do :; done']).trim();
    try {
      const w = startWatching({ kind: 'container', cli: 'docker', id }, []);
      const until = Date.now() + 15_000;
      while (w.resources.length < 3 && Date.now() < until) await new Promise((res) => setTimeout(res, 200));
      await w.stop();
      assert.equal(w.containerVia, 'cgroup');
      assert.ok(w.resources.length >= 3, `samples: ${JSON.stringify(w.resources)} ${w.problems.join('; ')}`);
      // A shell spinning on one core: most of a core, once the first (empty) sample is past.
      const peak = Math.max(...w.resources.map((s) => s.cpuPercent ?? 0));
      assert.ok(peak > 50, JSON.stringify(w.resources));
      assert.ok(w.resources.every((s) => (s.memoryBytes ?? 0) > 0));
    } finally {
      docker(['rm', '-f', id]);
    }
  });

  // A remote engine (DOCKER_HOST, a VM) answers with its own kernel's PID for the container: none here
  // (0), or one that some unrelated local process has (this test's own).
  for (const [what, pid] of [
    ['no PID on this host', '0'],
    ["another process's PID on this host", String(process.pid)],
  ] as const) {
    it(`asks the engine (docker stats) when the container's cgroup is not on this host: ${what}`, { skip: dockerSkip() }, async () => {
      const name = `loadgate-test-watch-stats-${process.pid}`;
      const id = docker(['run', '-d', '--init', '--name', name, busyboxImage(), 'sh', '-c', 'while :; do :; done']).trim();
      const dir = tempDir();
      const engine = writeFile(dir, 'engine', `#!/bin/sh\nif [ "$1" = inspect ]; then echo ${pid}; exit 0; fi\nexec docker "$@"\n`);
      chmodSync(engine, 0o755);
      try {
        const w = startWatching({ kind: 'container', cli: engine, id }, []);
        const until = Date.now() + 15_000;
        while (w.resources.length < 2 && Date.now() < until) await new Promise((res) => setTimeout(res, 200));
        await w.stop();
        assert.equal(w.containerVia, 'engine stats');
        assert.ok(w.resources.length >= 2, `samples: ${JSON.stringify(w.resources)} ${w.problems.join('; ')}`);
        assert.ok(Math.max(...w.resources.map((s) => s.cpuPercent ?? 0)) > 50, JSON.stringify(w.resources));
      } finally {
        docker(['rm', '-f', id]);
      }
    });
  }

  it('says once why a container cannot be sampled, and goes on', { skip: dockerSkip() }, async () => {
    const w = startWatching({ kind: 'container', cli: 'docker', id: 'loadgate-test-no-such-container' }, []);
    await new Promise((res) => setTimeout(res, 1500));
    await w.stop();
    assert.equal(w.resources.length, 0);
    assert.equal(w.problems.length, 1, w.problems.join('\n'));
    assert.match(w.problems[0]!, /cannot sample the container's CPU and memory: .*No such (container|object)/i);
  });
});
