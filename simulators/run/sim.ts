/**
 * `npm run sim`: simulation runs of a site with Pickwire's own control code in the loop. Fast
 * mode (default) runs core and devices in one process on a virtual clock over an in-memory
 * MQTT bus; `--live` over real MQTT in (optionally scaled) real time. Runs each scenario (one,
 * or one per robot count of a sweep) `--replications` times with seeds base, base+1, ..., and
 * writes report.json and report.html to `--out`. Fast runs go side by side, one process each
 * and one per core (`--jobs`); the report is the same whichever order they finish in.
 */
import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { loadSiteLayout, type SiteLayout } from '../../src/index.js';
import { summarizeScenario, writeReport, type RunKpis, type ScenarioResult, type SimReport } from '../report/index.js';
import { layoutBounds } from '../sites/bounds.js';
import { parseSimArgs, runJobs, USAGE, type SimArgs } from './cli.js';
import { createProgress, poolProgress, type RunProgress } from './progress.js';
import { runFast, type FastProgress } from './run-fast.js';
import { runLive } from './run-live.js';
import { runFastPool, type FastRunSpec } from './run-pool.js';
import { withRobots } from './robots.js';

export async function runSimulation(args: SimArgs, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ report: SimReport; files: { json: string; html: string } }> {
  const layout = loadSiteLayout(args.site);
  const orderRate = args.orderRate ?? (layout.orderFeed !== undefined ? layout.orderFeed.ordersPerMinute * 60 : 360);
  const robotCounts = args.sweep?.values ?? [args.robots ?? layout.devices.amrs.length];
  // Every replication of every scenario, in report order: scenario by scenario, seed by seed.
  const runs = robotCounts.flatMap((robots) => Array.from({ length: args.replications }, (_, k) => ({ robots, seed: args.seed + k })));
  const specs: FastRunSpec[] = runs.map(({ robots, seed }) => ({ layout, hours: args.hours, warmupHours: args.warmupHours, seed, robots, ordersPerHour: orderRate, latencyMs: args.latencyMs, progressEveryMs: 60_000 }));
  const labelOf = (i: number): string => `${layout.site.id} robots=${runs[i]?.robots} seed=${runs[i]?.seed}`;
  const logRun = (i: number, kpis: RunKpis): void =>
    log(`${labelOf(i)}: ${kpis.ordersCompleted} orders, ${kpis.ordersPerHour.toFixed(1)} orders/h, ${kpis.unitsPerHour.toFixed(1)} units/h, cycle p50 ${kpis.cycleTimeSeconds.p50.toFixed(0)} s, ${kpis.speedup.toFixed(0)}x real time`);
  const jobs = runJobs(args, runs.length, { cores: availableParallelism(), memoryBytes: totalmem() });
  const all = jobs > 1 ? await runSideBySide(layout.site.id, specs, jobs, logRun) : await runOneByOne(args, specs, labelOf, logRun);
  const scenarios: ScenarioResult[] = robotCounts.map((robots, s) => summarizeScenario(`robots=${robots}`, robots, orderRate, all.slice(s * args.replications, (s + 1) * args.replications)));
  const report: SimReport = {
    site: layout.site.id,
    mode: args.live ? 'live' : 'fast',
    hours: args.hours,
    warmupHours: args.warmupHours,
    baseSeed: args.seed,
    createdAt: new Date().toISOString(),
    scenarios,
    bounds: boundsFor(layout, robotCounts),
  };
  if (args.sweep !== undefined) report.sweep = args.sweep;
  const files = await writeReport(resolve(args.out), report);
  return { report, files };
}

/** In this process, one run after the other (live runs, or --jobs 1). */
async function runOneByOne(args: SimArgs, specs: readonly FastRunSpec[], labelOf: (i: number) => string, logRun: (i: number, k: RunKpis) => void): Promise<RunKpis[]> {
  const progress = createProgress();
  const all: RunKpis[] = [];
  for (const [i, spec] of specs.entries()) {
    const onProgress = (p: FastProgress): void => progress.update({ label: labelOf(i), ...p });
    const kpis = args.live ? await runLive({ ...spec, speed: args.speed, progressEveryMs: 5_000 * args.speed, onProgress }) : await runFast({ ...spec, onProgress });
    progress.done();
    logRun(i, kpis);
    all.push(kpis);
  }
  return all;
}

/** Up to `jobs` fast runs at a time, each in a process of its own, shown as one progress line. */
async function runSideBySide(site: string, specs: readonly FastRunSpec[], jobs: number, logRun: (i: number, k: RunKpis) => void): Promise<RunKpis[]> {
  const progress = createProgress();
  const wallStart = performance.now();
  const states: (RunProgress | undefined)[] = specs.map(() => undefined);
  let finished = 0;
  const redraw = (): void => progress.update(poolProgress(site, states, finished, (performance.now() - wallStart) / 1000));
  try {
    return await runFastPool(specs, {
      jobs,
      onProgress: (i, p) => {
        states[i] = p;
        redraw();
      },
      onDone: (i, kpis) => {
        const total = specs[i]!.hours * 3600;
        states[i] = { simSeconds: total, totalSeconds: total, ordersDone: kpis.ordersCompleted, ordersPerHour: kpis.ordersPerHour };
        finished++;
        redraw();
        // The run's own line goes below the progress line, which the next update redraws.
        progress.done();
        logRun(i, kpis);
      },
    });
  } finally {
    progress.done();
  }
}

/** The layout's analytic bounds at the largest fleet run (the loosest fleet bound). */
function boundsFor(layout: SiteLayout, robotCounts: number[]): SimReport['bounds'] {
  const most = Math.max(...robotCounts);
  return layoutBounds(withRobots(layout, most), { robots: most });
}

async function main(): Promise<void> {
  let args: SimArgs;
  try {
    args = parseSimArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { report, files } = await runSimulation(args);
  for (const s of report.scenarios) {
    const e = s.summary;
    const ci = (x: { mean: number; halfWidth95: number }, d = 1): string => `${x.mean.toFixed(d)} ± ${Number.isFinite(x.halfWidth95) ? x.halfWidth95.toFixed(d) : '-'}`;
    process.stdout.write(`${s.label}: orders/h ${ci(e.ordersPerHour)}, units/h ${ci(e.unitsPerHour)}, cycle p95 ${ci(e.cycleP95, 0)} s, on time ${ci(e.onTimeRate, 3)}\n`);
  }
  process.stdout.write(`wrote ${files.json} and ${files.html}\n`);
}

const entry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${resolve(process.argv[1])}`).href;
if (entry) {
  main().catch((err: unknown) => {
    process.stderr.write(`pickwire sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
