/**
 * Checkpoints the store's write-ahead log on a worker thread (./wal-checkpointer.js) instead of
 * inside whichever commit crosses SQLite's automatic threshold. That automatic checkpoint ran on
 * the core's event loop, with its fsync of the database file: under intake load one commit in
 * ten took over 5 ms and the worst over 50 ms, and a dispatch pass it landed in was late by as
 * much. Durability is unchanged: commits are durable in the WAL (synchronous=FULL or an fsync
 * of the WAL before any reply); checkpointing only moves them into the database file later.
 *
 * If the thread fails, the main connection checkpoints automatically again, as before.
 */
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export interface WalCheckpointOptions {
  /** How often the thread copies committed frames. */
  intervalMs?: number;
  /** WAL frames (pages) after which it forces the log to start over; SQLite's own threshold is 1000. */
  restartFrames?: number;
  /** The thread failed: automatic checkpoints are back on the main connection. */
  onError?: (err: Error) => void;
}

/** SQLite's default `wal_autocheckpoint`, restored if the thread stops working. */
const AUTOCHECKPOINT_PAGES = 1000;

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly counters = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  private stopped = false;

  constructor(
    private readonly db: Database.Database,
    path: string,
    opts: WalCheckpointOptions = {},
  ) {
    this.worker = new Worker(new URL('./wal-checkpointer.js', import.meta.url), {
      workerData: { path, intervalMs: opts.intervalMs ?? 100, restartFrames: opts.restartFrames ?? 4 * AUTOCHECKPOINT_PAGES, counters: this.counters },
    });
    // The store's owner closes it; a checkpointer alone must not keep the process alive.
    this.worker.unref();
    db.pragma('wal_autocheckpoint = 0');
    const fallBack = (err: Error): void => {
      if (this.stopped) return;
      this.stopped = true;
      if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      opts.onError?.(err);
    };
    this.worker.on('error', fallBack);
    this.worker.on('exit', (code) => fallBack(new Error(`WAL checkpoint thread exited (code ${code})`)));
    this.worker.on('message', (m: { kind: string; message?: string }) => {
      // A failed checkpoint is retried at the next interval; only a failing thread falls back.
      if (m.kind === 'error') opts.onError?.(new Error(`WAL checkpoint failed: ${m.message ?? ''}`));
    });
  }

  /** Checkpoints that copied frames, forced restarts of the log, failed attempts. */
  get stats(): { checkpoints: number; restarts: number; errors: number } {
    const c = new Int32Array(this.counters);
    return { checkpoints: Atomics.load(c, 0), restarts: Atomics.load(c, 1), errors: Atomics.load(c, 2) };
  }

  /** Before the main connection closes (which checkpoints the rest itself). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker.postMessage({ kind: 'stop' });
  }
}
