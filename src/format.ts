// How numbers read wherever loadgate shows them (console, reports, PR comment, verdict sentences, outputs):
// one formatter for every room, on the ground floor, so the judge never borrows the printer.

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

export function fmtMs(ms: number | null): string {
  if (ms === null) return '-';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export function fmtNum(n: number): string {
  if (n >= 1000) return Math.round(n).toLocaleString('en-US');
  if (n >= 100) return n.toFixed(0);
  return n.toFixed(1);
}

export function fmtPct(x: number): string {
  const p = x * 100;
  return p === 0 ? '0%' : p < 0.1 ? `${p.toFixed(3)}%` : p < 10 ? `${p.toFixed(2)}%` : `${p.toFixed(1)}%`;
}

/** A duration in words: "4.0 s", "3 min 20 s", "1 h 2 min 5 s". */
export function fmtDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  const hrs = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return hrs > 0 ? `${hrs} h ${m} min ${sec} s` : `${m} min ${sec} s`;
}

/** Seconds since the start as a clock: "0:07", "1:02.5", "1:00:03" (tenths only under an hour). */
export function fmtClock(t: number): string {
  const tenths = Math.round(t * 10);
  const total = Math.floor(tenths / 10);
  const hrs = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = `${String(total % 60).padStart(2, '0')}${hrs === 0 && tenths % 10 ? `.${tenths % 10}` : ''}`;
  return hrs > 0 ? `${hrs}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Seconds since the start, short: "7s", "1m02s" (progress lines). */
export function fmtSecs(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
