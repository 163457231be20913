// One ESM bundle per entry point in dist/ (src/cli.ts keeps its shebang), with every dependency inlined (the runner has no node_modules).
// Output is deterministic, so CI can check that the committed dist/ matches src/.
import commonjs from '@rollup/plugin-commonjs';
import json from '@rollup/plugin-json';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import typescript from '@rollup/plugin-typescript';
import { thirdPartyNotices } from './scripts/third-party-notices.ts';

export default {
  // dist/main.js is src/index.ts, which calls run() from src/main.ts (the entry point @github/local-action imports).
  input: { main: 'src/index.ts', post: 'src/post.ts', cli: 'src/cli.ts' },
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: '[name].js',
    sourcemap: false,
  },
  // undici's optional cache store imports node:sqlite, built into Node 24.
  external: ['node:sqlite'],
  // undici and the toolkit have optional requires and circular imports that are harmless here; a circle
  // through loadgate's own files is still reported (test/architecture.test.ts fails on it too).
  onwarn(warning, warn) {
    if (warning.code === 'THIS_IS_UNDEFINED') return;
    if (warning.code === 'CIRCULAR_DEPENDENCY' && (warning.ids ?? []).every((id) => id.includes('/node_modules/'))) return;
    warn(warning);
  },
  plugins: [
    typescript({
      tsconfig: './tsconfig.json',
      include: ['src/**/*.ts'],
      compilerOptions: { noEmit: false, outDir: 'dist', allowImportingTsExtensions: false },
    }),
    // One undici (8, loadgate's own) for everything: @actions/http-client and @actions/github each nest a
    // copy of undici 6, which made dist/ hold three (3.6 of its 8.9 MB). The toolkit's tests pass on 8
    // (test/action.test.ts: artifact upload, comments, a proxy).
    nodeResolve({ preferBuiltins: true, exportConditions: ['node'], dedupe: ['undici'] }),
    commonjs(),
    json(),
    // dist/THIRD-PARTY-NOTICES.txt: the licence of every package with code in the bundles.
    thirdPartyNotices(),
  ],
};
