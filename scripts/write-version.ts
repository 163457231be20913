// Writes src/version.ts from package.json's version. Run by `npm version` (the "version" script), so a
// bump changes both in one commit; test/cli.test.ts and test/dist.test.ts fail if they ever disagree.
// Why not `import pkg from '../package.json' with { type: 'json' }` in src/version.ts: Node runs it, and
// rollup keeps only the version string, but only once rollup.config.js gives the TypeScript step
// `rootDir: '.'` (without it the step leaves src/ untransformed and the bundle fails to parse), and the
// architecture test would have to accept an import from outside src/.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

export function versionModule(v: string): string {
  return `// loadgate's version: written from package.json by \`npm version\` (scripts/write-version.ts).\nexport const VERSION = '${v}';\n`;
}

if (import.meta.main) writeFileSync(join(root, 'src', 'version.ts'), versionModule(version));
