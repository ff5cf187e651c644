/**
 * One fast-mode replication in a child process of the run pool (run-pool.ts): receives a
 * FastRunSpec over IPC, runs it, and answers with progress lines and then its KPIs or its
 * error. One run per process, so every run starts from the same fresh process whichever job
 * slot it lands in.
 */
import { runFast } from './run-fast.js';
import type { ChildMessage, FastRunSpec } from './run-pool.js';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) {
      reject(new Error('run-child.ts runs as a child of the run pool (no IPC channel)'));
      return;
    }
    process.send(message, undefined, {}, (err) => (err ? reject(err) : resolve()));
  });
}

let answered = false;

if (process.send === undefined) {
  process.stderr.write('run-child.ts runs one replication for the run pool (simulators/run/run-pool.ts); start runs with npm run sim\n');
  process.exitCode = 2;
} else {
  // The runner is gone (killed, or its terminal closed): nobody will read this run's KPIs, so
  // stop rather than simulate on for minutes as an orphan.
  process.once('disconnect', () => {
    if (!answered) process.exit(3);
  });
  process.once('message', (spec: FastRunSpec) => {
    runFast({ ...spec, onProgress: (progress) => void send({ type: 'progress', progress }).catch(() => undefined) })
      .then((kpis) => send({ type: 'done', kpis }))
      .catch((err: unknown) => send({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) }).then(() => (process.exitCode = 1)))
      .finally(() => {
        answered = true;
        // Nothing else keeps the process alive: it exits once the last message is out.
        if (process.connected) process.disconnect();
      });
  });
}
