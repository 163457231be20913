// Tests that need a tool from Debian (cmark-gfm, xmllint, chromium, FastAPI) skip locally when it is
// missing, but never in CI: there .ci/run installs it, and a missing tool must fail, not pass silently.

/** The `skip` option for node:test: false (run it) when the tool is there or under CI, else the reason. */
export function skipUnless(available: boolean, what: string): false | string {
  if (available || process.env['CI']) return false;
  return `${what} is not installed (CI installs it; locally: see .ci/run)`;
}
