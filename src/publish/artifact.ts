// The whole report folder as one workflow artifact. Names must be unique in a workflow run (a second
// upload under a name answers 409), so the default name carries the job, the matrix leg and the attempt.

import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';

/**
 * A shard job's artifact: `loadgate-shard-<i>-of-<n>`, which the merge job's default pattern finds
 * (`-attempt-<k>` added on a re-run, as names are unique in a workflow run; the merge takes the newest).
 */
export function shardArtifactName(given: string | undefined, shard: { index: number; count: number }, attempt: string): string {
  if (given) return given;
  return `loadgate-shard-${shard.index + 1}-of-${shard.count}${attempt !== '1' ? `-attempt-${attempt.replace(/[^\w.-]+/g, '_')}` : ''}`;
}

/** `loadgate-<job>[-<step>][-<matrix hash>]-<attempt>`, unless the artifact-name input says otherwise. */
export function artifactName(given: string | undefined, job: string, step: string, matrixKey: string, attempt: string): string {
  if (given) return given;
  const safe = (s: string) => s.replace(/[^\w.-]+/g, '_');
  return ['loadgate', safe(job), ...(step ? [safe(step)] : []), ...(matrixKey ? [matrixKey] : []), safe(attempt)].join('-');
}

/** Every file under `dir`, sorted (a report folder is small and flat; service logs included). */
function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

export interface UploadedArtifact {
  id: number;
  name: string;
  size: number;
  files: number;
}

/** Uploads the folder; throws when there is nothing to upload or the artifact service refuses. */
export async function uploadReportFolder(name: string, dir: string): Promise<UploadedArtifact> {
  const files = filesUnder(dir);
  if (files.length === 0) throw new Error(`${dir} holds no files to upload`);
  const { id, size } = await new DefaultArtifactClient().uploadArtifact(name, files, dir);
  if (id === undefined) throw new Error('the artifact service returned no artifact id');
  return { id, name, size: size ?? 0, files: files.length };
}

/** A name pattern as download-artifact's: `*` any characters, `?` one; the rest literal, the whole name. */
export function namePattern(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`);
}

export interface DownloadedArtifact {
  id: number;
  name: string;
  /** The folder its files were unzipped into. */
  dir: string;
}

/**
 * Downloads this workflow run's artifacts whose names match `pattern` (every job's: shard jobs upload
 * theirs), each into a folder of its own under `root`. Returns them, and every name seen (for messages).
 */
export async function downloadMatching(pattern: string, root: string): Promise<{ downloaded: DownloadedArtifact[]; seen: string[] }> {
  const client = new DefaultArtifactClient();
  const { artifacts } = await client.listArtifacts();
  const re = namePattern(pattern);
  const downloaded: DownloadedArtifact[] = [];
  for (const a of artifacts.filter((x) => re.test(x.name)).sort((x, y) => x.id - y.id)) {
    const dir = join(root, `${a.id}`);
    mkdirSync(dir, { recursive: true });
    await client.downloadArtifact(a.id, { path: dir });
    downloaded.push({ id: a.id, name: a.name, dir });
  }
  return { downloaded, seen: artifacts.map((a) => a.name).sort() };
}
