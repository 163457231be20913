// What the runner executes for the main step (bundled to dist/main.js): runs the action (src/main.ts). The
// explicit exit keeps idle keep-alive sockets from holding the step open (a cancel has 7.5 s);
// core.setFailed set the code.
import { run } from './main.ts';

void run().then(() => process.exit());
