// The GitHub Action's main step: wiring only (src/action/run-action.ts does the work). The explicit exit
// keeps idle keep-alive sockets from holding the step open (a cancel has 7.5 s); core.setFailed set the code.
import { runActionSafely } from './action/run-action.ts';

void runActionSafely().then(() => process.exit());
