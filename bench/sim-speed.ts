/**
 * Fast-mode simulation speed: simulated seconds per wall second for a shift of `rmfs-large`
 * (issue 5 target: >= 500x for 8 hours on the 2-core reference machine). Also reports the
 * figure per CPU second of this process, which is what a loaded shared machine still measures
 * fairly, and the start-up time (core, store and site) that a short run cannot amortize.
 *
 * `PICKWIRE_BENCH_SIM_HOURS` shortens the shift (default 8); `PICKWIRE_BENCH_SIM_SITE` picks
 * another site (default rmfs-large, falling back to demo when it is not bundled).
 */
import { existsSync } from 'node:fs';
import { loadSiteLayout, resolveSitePath } from '../src/index.js';
import { runFast } from '../simulators/run/run-fast.js';
import type { BenchResult } from './result.js';

export async function benchSimSpeed(): Promise<BenchResult[]> {
  const hours = Number(process.env.PICKWIRE_BENCH_SIM_HOURS ?? 8);
  const wanted = process.env.PICKWIRE_BENCH_SIM_SITE ?? 'rmfs-large';
  const site = existsSync(resolveSitePath(wanted)) ? wanted : 'demo';
  const layout = loadSiteLayout(site);
  const rate = layout.orderFeed !== undefined ? layout.orderFeed.ordersPerMinute * 60 : 360;
  const cpu0 = process.cpuUsage();
  const kpis = await runFast({ layout, hours, warmupHours: hours / 10, seed: 1, ordersPerHour: rate });
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const simSeconds = hours * 3600;
  const what = `${site}, ${hours} h shift, ${layout.devices.amrs.length} AMRs, ${rate} orders/h offered, ${kpis.ordersCompleted} orders done after warm-up`;
  return [
    { name: 'sim fast mode: simulated s per wall s', value: kpis.speedup, unit: 'x', note: `${what}; ${kpis.wallSeconds.toFixed(1)} s wall (target >= 500x)` },
    { name: 'sim fast mode: simulated s per CPU s', value: simSeconds / cpuSeconds, unit: 'x', note: `${what}; ${cpuSeconds.toFixed(1)} CPU s including start-up` },
  ];
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  for (const r of await benchSimSpeed()) console.log(JSON.stringify(r));
}
