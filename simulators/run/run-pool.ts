/**
 * Runs fast-mode replications side by side, one child process each, at most `jobs` at a time.
 * A fast run is one busy thread (core and simulated site share the virtual clock, so one run
 * cannot be split), but the runs of a sweep or of replications are independent: on a 2-core
 * machine two at a time finished a 4-point rmfs-large sweep in 36 s instead of 51 s.
 *
 * Each run gets a fresh process (run-child.ts) started with SIM_CHILD_FLAGS, so its KPIs do not
 * depend on which slot or which order it ran in: the same as `runFast` in a process of its own.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunKpis } from '../report/types.js';
import type { FastProgress, FastRunOptions } from './run-fast.js';

/** What a child needs to run one replication: FastRunOptions without the callbacks. */
export type FastRunSpec = Omit<FastRunOptions, 'onProgress' | 'onReady'>;

/** What a child says over IPC: progress lines, then its KPIs or why it failed. */
export type ChildMessage = { type: 'progress'; progress: FastProgress } | { type: 'done'; kpis: RunKpis } | { type: 'failed'; error: string };

/**
 * Node flags of each run's process: TypeScript through tsx, and 64 MiB semi-spaces like
 * `npm run sim` itself (package.json says them again; keep the two the same). A fast run
 * allocates a short-lived object graph per message (decoded JSON, rows, order updates): with
 * 64 MiB semi-spaces V8 scavenges far less often, and the 0.5 h rmfs-large shift ran ~8% faster
 * than with the default 16 MiB in interleaved runs (32 MiB: ~5%; 128 MiB: no better than 64).
 */
export const SIM_CHILD_FLAGS = ['--max-semi-space-size=64', '--import', 'tsx'];

const CHILD_SCRIPT = fileURLToPath(new URL('./run-child.ts', import.meta.url));
/** The project root, where `--import tsx` resolves, whatever the caller's working directory. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface PoolOptions {
  /** Runs at the same time, >= 1. */
  jobs: number;
  /** Progress of run `index` (its position in `specs`). */
  onProgress?: (index: number, progress: FastProgress) => void;
  /** Run `index` finished; called in the order runs finish. */
  onDone?: (index: number, kpis: RunKpis) => void;
}

/**
 * Runs every spec and returns their KPIs in the order of `specs`. The first run that fails
 * stops the others and rejects with its error, naming the run.
 */
export async function runFastPool(specs: readonly FastRunSpec[], opts: PoolOptions): Promise<RunKpis[]> {
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new RangeError(`run pool: jobs must be an integer >= 1, got ${opts.jobs}`);
  const results: RunKpis[] = new Array<RunKpis>(specs.length);
  const running = new Set<ChildProcess>();
  let next = 0;
  let failure: Error | undefined;

  const runOne = (index: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const spec = specs[index] as FastRunSpec;
      const name = `run ${index + 1} of ${specs.length} (robots=${spec.robots ?? spec.layout.devices.amrs.length}, seed=${spec.seed})`;
      const child = fork(CHILD_SCRIPT, [], { cwd: PROJECT_ROOT, execArgv: SIM_CHILD_FLAGS, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      running.add(child);
      let kpis: RunKpis | undefined;
      let error: string | undefined;
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'progress') opts.onProgress?.(index, m.progress);
        else if (m.type === 'done') kpis = m.kpis;
        else error = m.error;
      });
      // A process that could not start emits 'error' and may never emit 'exit'.
      child.once('error', (err) => reject(new Error(`${name} failed: ${error ?? err.message}`)));
      child.once('exit', (code, signal) => {
        running.delete(child);
        if (kpis !== undefined && code === 0) {
          results[index] = kpis;
          opts.onDone?.(index, kpis);
          resolve();
          return;
        }
        const how = signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
        reject(new Error(`${name} failed: ${error ?? `its process ${how} without a result`}`));
      });
      child.send(spec);
    });

  const worker = async (): Promise<void> => {
    while (failure === undefined && next < specs.length) {
      const index = next++;
      try {
        await runOne(index);
      } catch (err) {
        failure ??= err as Error;
        for (const c of running) c.kill('SIGTERM');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.jobs, specs.length) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}
