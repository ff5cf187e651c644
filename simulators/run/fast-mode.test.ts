/**
 * Fast mode end to end: the real core and the simulated demo site on the virtual clock over the
 * in-memory bus. Same seed, same KPIs to the last digit; another seed, other KPIs.
 */
import { describe, expect, it } from 'vitest';
import { loadSiteLayout } from '../../src/index.js';
import type { RunKpis } from '../report/types.js';
import { parseSimArgs, parseSweep, runJobs } from './cli.js';
import { formatProgress, poolProgress } from './progress.js';
import { runFast } from './run-fast.js';
import { withRobots } from './robots.js';

/** What must replay exactly: everything but the wall clock. */
function replayable(k: RunKpis): Omit<RunKpis, 'wallSeconds' | 'speedup'> {
  const { wallSeconds: _w, speedup: _s, ...rest } = k;
  return rest;
}

describe('fast mode', () => {
  const layout = loadSiteLayout('demo');
  // 15 simulated minutes, 4 robots: long enough to complete orders, short enough for CI.
  const run = (seed: number): Promise<RunKpis> => runFast({ layout, hours: 0.25, warmupHours: 0.025, seed, robots: 4, ordersPerHour: 150 });

  it('completes orders, replays a seed exactly and differs with another seed', async () => {
    const a = await run(7);
    expect(a.ordersCompleted).toBeGreaterThan(0);
    expect(a.unitsPicked).toBeGreaterThanOrEqual(a.linesCompleted);
    expect(a.robots).toBe(4);
    expect(a.utilization.filter((u) => u.kind === 'amr')).toHaveLength(4);
    expect(a.cycleTimeSeconds.p50).toBeGreaterThan(0);
    expect(a.speedup).toBeGreaterThan(0);
    const again = await run(7);
    expect(replayable(again)).toEqual(replayable(a));
    const other = await run(8);
    expect(replayable(other)).not.toEqual(replayable(a));
  }, 240_000);
});

describe('runner flags', () => {
  it('parses a sweep, replications and defaults the warm-up to a tenth of the run', () => {
    const args = parseSimArgs(['--site', 'rmfs-large', '--hours', '8', '--seed', '3', '--replications', '5', '--sweep', 'robots=20..80:10', '--out', 'x']);
    expect(args).toMatchObject({ site: 'rmfs-large', hours: 8, warmupHours: 0.8, seed: 3, replications: 5, out: 'x', live: false });
    expect(args.sweep?.values).toEqual([20, 30, 40, 50, 60, 70, 80]);
    expect(parseSimArgs(['--live', '--speed=10', '--order-rate', '900']).speed).toBe(10);
  });

  it('refuses unknown flags and bad values with a message', () => {
    expect(() => parseSimArgs(['--robot', '5'])).toThrow(/unknown option --robot/);
    expect(() => parseSimArgs(['--hours', '-1'])).toThrow(/--hours expects a number > 0/);
    expect(() => parseSimArgs(['--hours', '1', '--warmup', '2'])).toThrow(/must be shorter/);
    expect(() => parseSweep('robots=80..20')).toThrow(/FROM <= TO/);
    expect(() => parseSweep('speed=1..2')).toThrow(/robots=FROM..TO:STEP/);
    expect(() => parseSimArgs(['--jobs', '0'])).toThrow(/--jobs expects a whole number >= 1/);
    expect(() => parseSimArgs(['--live', '--jobs', '2'])).toThrow(/--jobs applies to fast mode only/);
  });

  it('runs fast runs side by side, one per core and GiB unless --jobs says otherwise, never more than there are runs', () => {
    const GiB = 2 ** 30;
    expect(runJobs(parseSimArgs([]), 21, { cores: 2, memoryBytes: 8 * GiB })).toBe(2);
    expect(runJobs(parseSimArgs([]), 21, { cores: 16, memoryBytes: 4.5 * GiB })).toBe(4);
    expect(runJobs(parseSimArgs([]), 21, { cores: 2, memoryBytes: 0.5 * GiB })).toBe(1);
    expect(runJobs(parseSimArgs([]), 1, { cores: 2, memoryBytes: 8 * GiB })).toBe(1);
    expect(runJobs(parseSimArgs(['--jobs', '4']), 3, { cores: 2, memoryBytes: 8 * GiB })).toBe(3);
    expect(runJobs(parseSimArgs(['--jobs', '1']), 21, { cores: 8, memoryBytes: 64 * GiB })).toBe(1);
    expect(runJobs(parseSimArgs(['--live', '--jobs', '1']), 21, { cores: 8, memoryBytes: 64 * GiB })).toBe(1);
    expect(runJobs(parseSimArgs(['--live']), 21, { cores: 8, memoryBytes: 64 * GiB })).toBe(1);
  });
});

describe('progress line', () => {
  it('shows simulated time, orders done, throughput and speed', () => {
    const line = formatProgress({ label: 'demo', simSeconds: 7200, totalSeconds: 28_800, ordersDone: 812, ordersPerHour: 401.6, wallSeconds: 12 });
    expect(line).toBe('demo [#####...............]  25% 2:00:00/8:00:00 sim, 812 orders done, 402 orders/h, 600x');
  });

  it('shows runs side by side as one line: time and orders summed, throughput of the runs still going, speed of the pool', () => {
    const hour = 3600;
    const p = poolProgress(
      'rmfs-large',
      [
        { simSeconds: hour, totalSeconds: hour, ordersDone: 600, ordersPerHour: 640 },
        { simSeconds: hour / 2, totalSeconds: hour, ordersDone: 250, ordersPerHour: 500 },
        { simSeconds: hour / 4, totalSeconds: hour, ordersDone: 100, ordersPerHour: 300 },
        undefined,
      ],
      1,
      45,
    );
    expect(formatProgress(p)).toBe('rmfs-large 1/4 runs [#########...........]  44% 1:45:00/4:00:00 sim, 950 orders done, 400 orders/h, 140x');
  });
});

describe('withRobots', () => {
  const layout = loadSiteLayout('demo');
  it('takes the first N robots or clones onto free nodes, never onto a taken one', () => {
    expect(withRobots(layout, 3).devices.amrs.map((a) => a.serialNumber)).toEqual(layout.devices.amrs.slice(0, 3).map((a) => a.serialNumber));
    const more = withRobots(layout, layout.devices.amrs.length + 5);
    const starts = more.devices.amrs.map((a) => a.startNode);
    expect(new Set(starts).size).toBe(starts.length);
    const storage = new Set(layout.locations.map((l) => l.nodeId));
    expect(more.devices.amrs.slice(layout.devices.amrs.length).every((a) => !storage.has(a.startNode))).toBe(true);
    expect(() => withRobots(layout, 100_000)).toThrow(/has room for/);
  });
});
