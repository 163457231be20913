// The GitHub Action's post step: removes the service container if main left it running (src/action/cleanup.ts).
import { cleanupAction } from './action/cleanup.ts';

void cleanupAction().then(
  () => process.exit(),
  () => process.exit(),
);
