/**
 * The run pool: fast runs side by side in child processes give the KPIs the same runs give one
 * after the other in this process, in the order asked whatever order they finish in; a run that
 * fails stops the pool with an error naming it.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSiteLayout } from '../../src/index.js';
import type { RunKpis } from '../report/types.js';
import { runFast } from './run-fast.js';
import { runFastPool, SIM_CHILD_FLAGS, type FastRunSpec } from './run-pool.js';

/** What must replay exactly: everything but the wall clock. */
function replayable(k: RunKpis): Omit<RunKpis, 'wallSeconds' | 'speedup'> {
  const { wallSeconds: _w, speedup: _s, ...rest } = k;
  return rest;
}

describe('run pool', () => {
  const layout = loadSiteLayout('demo');
  // Short runs with different fleets: they take different times, and a slot runs more than one.
  const spec = (seed: number, robots: number): FastRunSpec => ({ layout, hours: 0.1, warmupHours: 0.01, seed, robots, ordersPerHour: 150 });

  it('returns, in the order asked, the KPIs each run has in a process of its own', async () => {
    const specs = [spec(3, 4), spec(4, 2), spec(5, 3)];
    const finished: number[] = [];
    const progressOf = new Set<number>();
    const side = await runFastPool(specs, { jobs: 2, onDone: (i) => finished.push(i), onProgress: (i, p) => (p.totalSeconds === 360 ? progressOf.add(i) : undefined) });
    expect(finished.sort()).toEqual([0, 1, 2]);
    expect([...progressOf].sort()).toEqual([0, 1, 2]);
    expect(side.map((k) => [k.seed, k.robots])).toEqual([
      [3, 4],
      [4, 2],
      [5, 3],
    ]);
    for (const [i, s] of specs.entries()) expect(replayable(side[i] as RunKpis)).toEqual(replayable(await runFast(s)));
  }, 240_000);

  it('stops at a run that fails and names it', async () => {
    await expect(runFastPool([spec(1, 100_000)], { jobs: 2 })).rejects.toThrow(/run 1 of 1 \(robots=100000, seed=1\) failed: .*has room for/s);
  }, 60_000);

  it('stops a run whose runner is gone instead of simulating on as an orphan', async () => {
    const child = fork(fileURLToPath(new URL('./run-child.ts', import.meta.url)), [], { execArgv: SIM_CHILD_FLAGS, serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const progressed = new Promise<void>((resolve) => child.once('message', () => resolve()));
    // Long enough to still be running when the runner goes: 8 simulated hours, progress every simulated minute.
    child.send({ ...spec(1, 4), hours: 8, warmupHours: 0.5, progressEveryMs: 60_000 } satisfies FastRunSpec);
    await progressed;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.disconnect();
    expect(await exited).toBe(3);
  }, 60_000);

  it('refuses a job count below one', async () => {
    await expect(runFastPool([spec(1, 2)], { jobs: 0 })).rejects.toThrow(/jobs must be an integer >= 1/);
  });
});
