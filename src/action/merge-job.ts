// The merge job of a sharded load (`merge: true`): no load, no service. It lists this workflow run's
// artifacts, downloads those named like the pattern (the shard jobs upload theirs as
// loadgate-shard-<i>-of-<n>) through the toolkit's artifact client, and merges their result.json files
// as `loadgate merge` does (src/run/merge.ts): one result, every report, one verdict on the SLOs the
// shards ran with. The action then publishes it as it publishes a run (src/action/run-action.ts).
//
// A shard uploaded twice (a re-run of its job: the name carries the attempt) counts once, its newest
// artifact. A shard with no artifact at all is missing: the merge names it and the verdict fails.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DownloadedArtifact, downloadMatching } from '../publish/artifact.ts';
import { type MergeOutput, MergeError, mergeShards } from '../run/merge.ts';

export { MergeError } from '../run/merge.ts';

export interface MergeJobOutput extends MergeOutput {
  /** The artifacts merged, in the order of their shards. */
  merged: DownloadedArtifact[];
  /** What was left out, and why (an older attempt of a shard). */
  notes: string[];
}

/** Downloads the shards' artifacts matching `pattern`, merges them into `outDir`. Throws MergeError with what is wrong. */
export async function runMergeJob(pattern: string, outDir: string, opts: { allowIncomplete: boolean }): Promise<MergeJobOutput> {
  const root = mkdtempSync(join(tmpdir(), 'loadgate-merge-'));
  try {
    const { downloaded, seen } = await downloadMatching(pattern, root);
    if (downloaded.length === 0) {
      throw new MergeError(
        `no artifact of this workflow run matches "${pattern}" (${seen.length > 0 ? `it has ${seen.join(', ')}` : 'it has none'}): ` +
          'the shard jobs upload theirs (loadgate-shard-<i>-of-<n>) when the shard input is set; give this job needs: on them',
      );
    }
    const { kept, notes } = newestPerShard(downloaded);
    const out = mergeShards(
      kept.map((a) => a.dir),
      outDir,
      { allowIncomplete: opts.allowIncomplete, names: kept.map((a) => `artifact ${a.name}`) },
    );
    return { ...out, merged: kept, notes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** One artifact per shard: the newest (highest id) when a re-run uploaded it again. */
function newestPerShard(all: readonly DownloadedArtifact[]): { kept: DownloadedArtifact[]; notes: string[] } {
  const byShard = new Map<string, DownloadedArtifact>();
  const notes: string[] = [];
  for (const a of all) {
    const key = shardKey(a);
    const had = byShard.get(key);
    if (had && had.id > a.id) notes.push(`${a.name} left out: ${had.name} is a newer upload of shard ${key}`);
    else {
      if (had) notes.push(`${had.name} left out: ${a.name} is a newer upload of shard ${key}`);
      byShard.set(key, a);
    }
  }
  return { kept: [...byShard.values()], notes };
}

/** "2/4" from the result's plan record; an artifact without a loadgate result cannot be merged. */
function shardKey(a: DownloadedArtifact): string {
  let text: string;
  try {
    text = readFileSync(join(a.dir, 'result.json'), 'utf8');
  } catch {
    throw new MergeError(`artifact ${a.name} holds no result.json: it is not a loadgate shard's report folder (narrow merge-pattern)`);
  }
  let plan: { shard?: { index?: unknown; count?: unknown }; shards?: unknown } | undefined;
  try {
    plan = (JSON.parse(text) as { plan?: typeof plan }).plan;
  } catch {
    throw new MergeError(`artifact ${a.name}: its result.json is not JSON`);
  }
  // A pattern as wide as loadgate-* also finds merge jobs' own reports (an earlier attempt's).
  if (plan?.shards !== undefined)
    throw new MergeError(`artifact ${a.name} holds a merged result, not a shard's: narrow merge-pattern (default loadgate-shard-*)`);
  const shard = plan?.shard;
  if (typeof shard?.index === 'number' && typeof shard.count === 'number') return `${shard.index + 1}/${shard.count}`;
  // A whole run, or one from before results recorded their shard: the merge says what it makes of it.
  return `artifact ${a.name}`;
}
