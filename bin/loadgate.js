#!/usr/bin/env node
// The `loadgate` command as installed from npm: checks the Node version first, then runs the bundled CLI
// (dist/cli.js, which has everything it needs inlined: the package has no dependencies). Plain JavaScript
// that any Node since 14 can parse, so an older Node gets a sentence saying what to do instead of a crash
// inside the bundle (under Node 20: ERR_UNKNOWN_BUILTIN_MODULE node:sqlite, from undici 8).

const NEEDED = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= NEEDED)) {
  process.stderr.write(
    `loadgate: needs Node.js ${NEEDED} or newer, and this is Node ${process.versions.node} (${process.execPath}).\n` +
      `Install Node ${NEEDED} (https://nodejs.org, or "nvm install ${NEEDED}"), or run loadgate with it for this once:\n` +
      `  npx -p node@${NEEDED} -p loadgate loadgate --help\n`,
  );
  process.exit(2);
}
import('../dist/cli.js').catch((e) => {
  process.stderr.write(`loadgate: internal error: ${e?.stack || e}\n`);
  process.exit(3);
});
