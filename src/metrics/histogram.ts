// HDR latency histograms in microseconds, and their lossless JSON form.
//
// hdr-histogram-js's own compressed encoding reaches zlib through eval('require("zlib")'), which
// fails inside an ESM bundle, so the JSON form is our own: the non-zero bucket counts as
// [index delta, count] pairs plus the exact min and max. Decoding restores the same counts and extremes,
// hence the same percentiles and totals as the original.

import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.JsHistogram;

/** 1 µs to 1 hour at 3 significant digits: 0.1% resolution, ~180 KB of counts per histogram. */
const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000;
const DIGITS = 3;

export function newHistogram(): Histogram {
  const h = hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: DIGITS,
    autoResize: false,
    useWebAssembly: false,
  });
  return h as Histogram;
}

/** Records a latency in µs, clamped into the trackable range (a value over an hour is an hour). */
export function recordUs(h: Histogram, us: number): void {
  h.recordValue(us < LOWEST_US ? LOWEST_US : us > HIGHEST_US ? HIGHEST_US : Math.round(us));
}

export function mergeHistograms(hs: readonly Histogram[]): Histogram {
  const out = newHistogram();
  for (const h of hs) if (h.totalCount > 0) out.add(h);
  return out;
}

export interface SerializedHistogram {
  /** Significant digits and trackable range, so a reader can rebuild the same buckets. */
  digits: number;
  lowest: number;
  highest: number;
  /** Flattened [indexDelta, count, indexDelta, count, ...] over the non-zero buckets. */
  counts: number[];
  /** The exact extremes (buckets alone only know them to 0.1%). */
  min?: number;
  max?: number;
}

export function serializeHistogram(h: Histogram): SerializedHistogram {
  const counts: number[] = [];
  if (h.totalCount > 0) {
    const last = h.countsArrayIndex(h.maxValue);
    let prev = 0;
    for (let i = 0; i <= last; i++) {
      const c = h.getCountAtIndex(i);
      if (c !== 0) {
        counts.push(i - prev, c);
        prev = i;
      }
    }
  }
  const out: SerializedHistogram = { digits: h.numberOfSignificantValueDigits, lowest: LOWEST_US, highest: HIGHEST_US, counts };
  if (h.totalCount > 0) {
    out.min = h.minNonZeroValue;
    out.max = h.maxValue;
  }
  return out;
}

export function deserializeHistogram(s: SerializedHistogram): Histogram {
  if (s.digits !== DIGITS || s.lowest !== LOWEST_US || s.highest !== HIGHEST_US) {
    throw new Error(`histogram with ${s.digits} digits over [${s.lowest}, ${s.highest}] µs is not supported`);
  }
  const h = newHistogram();
  let i = 0;
  for (let k = 0; k + 1 < s.counts.length; k += 2) {
    i += s.counts[k]!;
    // Recording the bucket's own value lands in the same bucket: the counts come back exactly.
    h.recordValueWithCount(h.valueFromIndex(i), s.counts[k + 1]!);
  }
  if (s.min !== undefined && s.max !== undefined) {
    // Plain fields in hdr-histogram-js (exact, as the lowest discernible value is 1).
    const extremes = h as unknown as { minNonZeroValue: number; maxValue: number };
    extremes.minNonZeroValue = s.min;
    extremes.maxValue = s.max;
  }
  return h;
}

/**
 * Percentile in ms (p in 0..100), or null for an empty histogram. HDR answers with the top of the
 * bucket (within 0.1%), which can exceed the largest value recorded: never report a p99 above the max.
 */
export function percentileMs(h: Histogram, p: number): number | null {
  return h.totalCount === 0 ? null : Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000;
}

export function maxMs(h: Histogram): number | null {
  return h.totalCount === 0 ? null : h.maxValue / 1000;
}

export function minMs(h: Histogram): number | null {
  return h.totalCount === 0 ? null : h.minNonZeroValue / 1000;
}

// ---- The compact form of one second's histogram (TimelinePoint.histogram) ----
//
// An hour of per-second histograms must stay small in result.json, and a merge must rebuild them
// bucket for bucket. Each non-zero bucket, in index order, is one unsigned LEB128 varint of
// (index delta << 1 | more), followed, when `more` is set, by a varint of (count - 2); the bytes are
// base64url. Most buckets of a second hold one request and lie a few buckets from the previous one: one
// byte each, 1.33 characters of base64, where the [delta, count] JSON pairs above take about 4.

/** The counts of `h` in the compact form; '' for an empty histogram. */
export function encodeCounts(h: Histogram): string {
  if (h.totalCount === 0) return '';
  const bytes: number[] = [];
  const varint = (x: number) => {
    while (x >= 0x80) {
      bytes.push((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    bytes.push(x);
  };
  // Only the span between the extremes can hold counts: a second's latencies cover a few thousand of the ~45,000 buckets.
  const last = h.countsArrayIndex(h.maxValue);
  let prev = 0;
  for (let i = h.countsArrayIndex(h.minNonZeroValue); i <= last; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    varint((i - prev) * 2 + (c > 1 ? 1 : 0));
    if (c > 1) varint(c - 2);
    prev = i;
  }
  return Buffer.from(bytes).toString('base64url');
}

/**
 * Adds counts in the compact form to `into` (a histogram of this file's buckets). Returns how many
 * values were added. Throws on text that is not the compact form.
 */
export function addEncodedCounts(into: Histogram, text: string): number {
  const bytes = Buffer.from(text, 'base64url');
  let pos = 0;
  const varint = (): number => {
    let x = 0;
    let scale = 1;
    for (;;) {
      if (pos >= bytes.length) throw new Error('histogram counts cut short');
      const b = bytes[pos++]!;
      x += (b & 0x7f) * scale;
      if (b < 0x80) return x;
      scale *= 0x80;
    }
  };
  let i = 0;
  let added = 0;
  while (pos < bytes.length) {
    const head = varint();
    i += Math.floor(head / 2);
    const c = head % 2 === 1 ? varint() + 2 : 1;
    // Recording the bucket's own value lands in the same bucket: the counts come back exactly.
    into.recordValueWithCount(into.valueFromIndex(i), c);
    added += c;
  }
  return added;
}

/**
 * Sets the exact largest value (µs) of a histogram rebuilt from counts: its buckets alone only know it to
 * 0.1%, and percentileMs never answers above it.
 */
export function setMaxUs(h: Histogram, maxUs: number): void {
  (h as unknown as { maxValue: number }).maxValue = maxUs;
}
