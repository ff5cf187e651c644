/**
 * Fast-mode simulation speed: simulated seconds per wall second for a shift of `rmfs-large`
 * (issue 5 target: >= 500x for 8 hours on the 2-core reference machine). Also reports the
 * figure per CPU second of this process, which is what a loaded shared machine still measures
 * fairly, and both again for the run alone, without the start-up (core, store and site) that a
 * short shift cannot amortize — the figures an 8-hour shift tends to.
 *
 * The shift is half an hour by default so that `npm run bench` stays a few minutes long; the
 * issue's figure is `PICKWIRE_BENCH_SIM_HOURS=8 npm run bench -- sim`, which adds its rows to
 * BENCHMARKS.md beside the default ones (a full `npm run bench` rewrites the file without them).
 * Run directly, this file measures in its own process:
 * `node --max-semi-space-size=64 --import tsx bench/sim-speed.ts --hours 8`.
 * `--site NAME` / `PICKWIRE_BENCH_SIM_SITE` picks another site (default rmfs-large, falling back
 * to demo when it is not bundled).
 *
 * `benchSimSpeed` measures in a fresh Node process started with SIM_CHILD_FLAGS, the flags
 * `npm run sim` and each of its parallel runs run with: the figure is that of a simulation run,
 * not of a heap that the benchmarks before it in `npm run bench` have filled and shaped.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadSiteLayout, resolveSitePath } from '../src/index.js';
import { runFast } from '../simulators/run/run-fast.js';
import { SIM_CHILD_FLAGS } from '../simulators/run/run-pool.js';
import type { BenchResult } from './result.js';

export const DEFAULT_BENCH_SIM_HOURS = 0.5;

export interface SimSpeedOptions {
  hours?: number;
  site?: string;
}

/** `--hours 8 --site demo` (or `--hours=8`) from a command line, falling back to the environment. */
export function simSpeedOptions(argv: readonly string[], env: NodeJS.ProcessEnv): SimSpeedOptions {
  const flag = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = argv[i] as string;
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
  };
  const hoursText = flag('hours') ?? env.PICKWIRE_BENCH_SIM_HOURS;
  const hours = hoursText === undefined ? DEFAULT_BENCH_SIM_HOURS : Number(hoursText);
  if (!Number.isFinite(hours) || hours <= 0) throw new RangeError(`sim bench: hours must be a number > 0, got "${hoursText ?? ''}"`);
  const opts: SimSpeedOptions = { hours };
  const site = flag('site') ?? env.PICKWIRE_BENCH_SIM_SITE;
  if (site !== undefined) opts.site = site;
  return opts;
}

const cpuSecondsSince = (from: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
};

/** Runs the measurement in a child process with SIM_CHILD_FLAGS and returns its results. */
export async function benchSimSpeed(opts: SimSpeedOptions = simSpeedOptions([], process.env)): Promise<BenchResult[]> {
  const args = [...SIM_CHILD_FLAGS, fileURLToPath(import.meta.url), '--hours', String(opts.hours ?? DEFAULT_BENCH_SIM_HOURS), ...(opts.site === undefined ? [] : ['--site', opts.site])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`sim bench: the measuring process exited with ${String(code)}`);
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as BenchResult);
}

/** The measurement itself, in this process: one fast-mode run of the shift. */
export async function measureSimSpeed(opts: SimSpeedOptions): Promise<BenchResult[]> {
  const hours = opts.hours ?? DEFAULT_BENCH_SIM_HOURS;
  const wanted = opts.site ?? 'rmfs-large';
  const site = existsSync(resolveSitePath(wanted)) ? wanted : 'demo';
  const layout = loadSiteLayout(site);
  const rate = layout.orderFeed !== undefined ? layout.orderFeed.ordersPerMinute * 60 : 360;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  let ready: { cpu: NodeJS.CpuUsage; wall: number } | undefined;
  const kpis = await runFast({ layout, hours, warmupHours: hours / 10, seed: 1, ordersPerHour: rate, onReady: () => (ready = { cpu: process.cpuUsage(), wall: performance.now() }) });
  const cpuSeconds = cpuSecondsSince(cpu0);
  const wallSeconds = (performance.now() - wall0) / 1000;
  // The run alone: from the first simulated event on (the short graceful stop at the end stays in).
  const runCpu = ready === undefined ? cpuSeconds : cpuSecondsSince(ready.cpu);
  const runWall = ready === undefined ? wallSeconds : (performance.now() - ready.wall) / 1000;
  const simSeconds = hours * 3600;
  // The shift in the name: an 8-hour run (`PICKWIRE_BENCH_SIM_HOURS=8 npm run bench -- sim`)
  // adds its rows to BENCHMARKS.md beside the default run's instead of replacing them.
  const shift = `${site}, ${hours} h shift`;
  const what = `${site}, ${hours} h shift, ${layout.devices.amrs.length} AMRs, ${rate} orders/h offered, ${kpis.ordersCompleted} orders done after warm-up`;
  return [
    { name: `sim fast mode (${shift}): simulated s per wall s`, value: simSeconds / wallSeconds, unit: 'x', note: `${what}; ${wallSeconds.toFixed(1)} s wall including start-up (target >= 500x for 8 h)` },
    { name: `sim fast mode (${shift}): simulated s per CPU s`, value: simSeconds / cpuSeconds, unit: 'x', note: `${what}; ${cpuSeconds.toFixed(1)} CPU s including start-up` },
    { name: `sim fast mode (${shift}): simulated s per wall s, run only`, value: simSeconds / runWall, unit: 'x', note: `${what}; ${runWall.toFixed(1)} s wall without the ${(wallSeconds - runWall).toFixed(1)} s start-up` },
    { name: `sim fast mode (${shift}): simulated s per CPU s, run only`, value: simSeconds / runCpu, unit: 'x', note: `${what}; ${runCpu.toFixed(1)} CPU s without the ${(cpuSeconds - runCpu).toFixed(1)} CPU s start-up` },
  ];
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  for (const r of await measureSimSpeed(simSpeedOptions(process.argv.slice(2), process.env))) console.log(JSON.stringify(r));
}
