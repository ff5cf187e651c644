/**
 * `npm run sim`: simulation runs of a site with Pickwire's own control code in the loop. Fast
 * mode (default) runs core and devices in one process on a virtual clock over an in-memory
 * MQTT bus; `--live` over real MQTT in (optionally scaled) real time. Runs each scenario (one,
 * or one per robot count of a sweep) `--replications` times with seeds base, base+1, ..., and
 * writes report.json and report.html to `--out`.
 */
import { resolve } from 'node:path';
import { loadSiteLayout, type SiteLayout } from '../../src/index.js';
import { summarizeScenario, writeReport, type RunKpis, type ScenarioResult, type SimReport } from '../report/index.js';
import { layoutBounds } from '../sites/bounds.js';
import { parseSimArgs, USAGE, type SimArgs } from './cli.js';
import { createProgress } from './progress.js';
import { runFast } from './run-fast.js';
import { runLive } from './run-live.js';
import { withRobots } from './robots.js';

export async function runSimulation(args: SimArgs, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ report: SimReport; files: { json: string; html: string } }> {
  const layout = loadSiteLayout(args.site);
  const orderRate = args.orderRate ?? (layout.orderFeed !== undefined ? layout.orderFeed.ordersPerMinute * 60 : 360);
  const robotCounts = args.sweep?.values ?? [args.robots ?? layout.devices.amrs.length];
  const progress = createProgress();
  const scenarios: ScenarioResult[] = [];
  for (const robots of robotCounts) {
    const reps: RunKpis[] = [];
    for (let k = 0; k < args.replications; k++) {
      const seed = args.seed + k;
      const label = `${layout.site.id} robots=${robots} seed=${seed}`;
      const common = {
        layout,
        hours: args.hours,
        warmupHours: args.warmupHours,
        seed,
        robots,
        ordersPerHour: orderRate,
        progressEveryMs: args.live ? 5_000 * args.speed : 60_000,
        onProgress: (p: { simSeconds: number; totalSeconds: number; ordersDone: number; ordersPerHour: number; wallSeconds: number }) => progress.update({ label, ...p }),
      };
      const kpis = args.live ? await runLive({ ...common, speed: args.speed }) : await runFast({ ...common, latencyMs: args.latencyMs });
      progress.done();
      log(`${label}: ${kpis.ordersCompleted} orders, ${kpis.ordersPerHour.toFixed(1)} orders/h, ${kpis.unitsPerHour.toFixed(1)} units/h, cycle p50 ${kpis.cycleTimeSeconds.p50.toFixed(0)} s, ${kpis.speedup.toFixed(0)}x real time`);
      reps.push(kpis);
    }
    scenarios.push(summarizeScenario(`robots=${robots}`, robots, orderRate, reps));
  }
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
