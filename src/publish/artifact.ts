// The whole report folder as one workflow artifact. Names must be unique in a workflow run (a second
// upload under a name answers 409), so the default name carries the job, the matrix leg and the attempt.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';

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
