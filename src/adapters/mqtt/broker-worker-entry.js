// The embedded broker's worker thread starts here, as plain JavaScript that Node loads without
// help: it registers tsx (a dependency; the whole core runs on it) in this thread and then loads
// the TypeScript worker. A worker does not inherit the parent's loader, e.g. inside vitest.
import { register } from 'tsx/esm/api';

register();
await import('./broker-worker.ts');
