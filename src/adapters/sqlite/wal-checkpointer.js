// The store's WAL checkpointer, a worker thread with its own connection to the database file
// (./wal-checkpoint.ts starts it; plain JavaScript, so Node loads it without a TypeScript loader).
//
// Every `intervalMs` it copies committed WAL frames into the database (PASSIVE: it never waits
// for or blocks the core's writes). When a busy WAL has grown past `restartFrames` anyway (the
// core kept committing while it copied, so the log never got fully copied between two commits
// and could not start over), it finishes with RESTART, which briefly holds new writes back
// while it copies the last frames, so the log starts over from its beginning.
// Counters go to the shared array: [0] checkpoints that copied frames, [1] restarts, [2] errors.
import { clearInterval, setInterval } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, intervalMs, restartFrames, counters } = workerData;
const stats = new Int32Array(counters);
const db = new Database(path, { fileMustExist: true });
db.pragma('busy_timeout = 2000');
db.pragma('synchronous = FULL');

function checkpoint(mode) {
  const [result] = db.pragma(`wal_checkpoint(${mode})`);
  return result;
}

const timer = setInterval(() => {
  try {
    const passive = checkpoint('PASSIVE');
    if (passive.checkpointed > 0) Atomics.add(stats, 0, 1);
    if (passive.log > restartFrames) {
      checkpoint('RESTART');
      Atomics.add(stats, 1, 1);
    }
  } catch (err) {
    Atomics.add(stats, 2, 1);
    parentPort?.postMessage({ kind: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}, intervalMs);

parentPort?.on('message', (m) => {
  if (m?.kind !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
