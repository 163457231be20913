// The GitHub Action's main step, as a module that exports `run()` (wiring only: src/action/run-action.ts
// does the work). The runner runs dist/main.js, built from src/index.ts, which calls it; GitHub's
// `@github/local-action` imports this file and calls `run()` itself, as it does for actions/typescript-action.
import { runActionSafely } from './action/run-action.ts';

/** Runs the step; never rejects (a failure sets the exit code through core.setFailed). */
export async function run(): Promise<void> {
  await runActionSafely();
}
