// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time by function, the biggest first.
//   node bench/profile-summary.ts FILE.cpuprofile [TOP]

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ROOT } from './lib.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  function: string;
  where: string;
  selfMs: number;
  selfShare: number;
}

/** Self time per function (summed over call sites), and self time per area (loadgate, undici, node internals, V8). */
export function summarizeProfile(path: string, top = 20): { totalMs: number; functions: ProfileEntry[]; areas: Record<string, number> } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // Each sample's time is the delta to the next one.
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i]!, (selfUs.get(p.samples[i]!) ?? 0) + dt);
  }
  let totalUs = 0;
  const byFn = new Map<string, { function: string; where: string; us: number }>();
  const areas: Record<string, number> = {};
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') continue; // waiting in epoll: not CPU
    totalUs += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const e = byFn.get(key) ?? { function: functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    byFn.set(key, e);
    const area = areaOf(functionName, url);
    areas[area] = (areas[area] ?? 0) + us;
  }
  const functions = [...byFn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      function: e.function,
      where: e.where,
      selfMs: Math.round(e.us / 100) / 10,
      selfShare: Math.round((e.us / totalUs) * 1000) / 1000,
    }));
  for (const k of Object.keys(areas)) areas[k] = Math.round((areas[k]! / totalUs) * 1000) / 1000;
  return { totalMs: Math.round(totalUs / 1000), functions, areas };
}

function shortUrl(url: string): string {
  if (url.startsWith('file://')) {
    const path = url.slice('file://'.length);
    const rel = relative(ROOT, path);
    return rel.replace(/^node_modules\//, '');
  }
  return url;
}

function areaOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)') return 'program (native, outside JS)';
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.includes('/node_modules/hdr-histogram-js/')) return 'hdr-histogram-js';
  if (url.includes('/src/')) return 'loadgate src';
  if (url.startsWith('node:')) return 'node internals';
  if (!url) return 'native / builtins';
  return 'other';
}

if (import.meta.filename === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/profile-summary.ts FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  const s = summarizeProfile(file, Number(process.argv[3] ?? 20));
  console.log(`total sampled: ${s.totalMs} ms`);
  console.log('by area:', s.areas);
  for (const f of s.functions)
    console.log(`${(f.selfShare * 100).toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(1).padStart(8)} ms  ${f.function}  ${f.where}`);
}
