/**
 * One live replication: the core with its embedded MQTT broker, every simulated device as its
 * own MQTT client, in real time or sped up by `speed` (both the core and the devices read the
 * same scaled clock). Slower than fast mode by design: it is the check that fast mode did not
 * paper over anything the network does.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, createLogger, loadConfig, type Clock, type Core } from '../../src/index.js';
import type { SimClock } from '../clock.js';
import { MeasuredOccupancy } from '../fast/measured-occupancy.js';
import type { RunKpis } from '../report/types.js';
import { startSimulatedSite, type SimulatedSite } from '../site-sim.js';
import { KpiCollector } from './kpi-collector.js';
import { startRunOrders } from './order-source.js';
import { actingIn, bucketFor, type FastProgress, type FastRunOptions } from './run-fast.js';
import { withRobots } from './robots.js';

export interface LiveRunOptions extends Omit<FastRunOptions, 'latencyMs' | 'startAt'> {
  /** Simulated seconds per real second; 1 is real time. */
  speed: number;
}

const SAMPLE_MS = 5_000;

/** One scaled time line for the core (Clock) and the devices (SimClock). */
function scaledClocks(speed: number): { core: Clock; sim: SimClock; startAt: number } {
  const realStart = Date.now();
  const now = (): number => realStart + (Date.now() - realStart) * speed;
  const set = (ms: number, fn: () => void): (() => void) => {
    const t = setTimeout(fn, Math.max(0, ms / speed));
    return () => clearTimeout(t);
  };
  return { core: { now, setTimer: set }, sim: { now, setTimer: (fn, ms) => set(ms, fn) }, startAt: realStart };
}

export async function runLive(opts: LiveRunOptions): Promise<RunKpis> {
  const wallStart = performance.now();
  const layout = withRobots(opts.layout, opts.robots);
  const clocks = scaledClocks(opts.speed);
  const startAt = clocks.startAt;
  const endAt = startAt + opts.hours * 3600_000;
  const warmupEndAt = startAt + opts.warmupHours * 3600_000;
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pickwire-live-'));
  const logger = createLogger({ level: opts.logLevel ?? 'error' }, process.stderr);
  let core: Core | undefined;
  let site: SimulatedSite | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const config = loadConfig({ argv: ['--data-dir', dataDir, '--mqtt-host', '127.0.0.1', '--mqtt-port', '0'], env: {} });
    core = await createCore(config, { clock: clocks.core, layout, logger });
    const occupancy = new MeasuredOccupancy(() => clocks.sim.now());
    site = await startSimulatedSite({ layout, mqttUrl: core.mqttUrl, interfaceName: config.mqttInterface, clock: clocks.sim, occupancy, seed: opts.seed });
    const kpis = new KpiCollector({ core, occupancy, now: () => clocks.sim.now(), startAt, warmupEndAt, bucketMs: bucketFor(endAt - startAt), isActing: actingIn(site) });
    const orders = startRunOrders({ layout, intake: core.intake, clock: clocks.sim, seed: opts.seed, ordersPerHour: opts.ordersPerHour, startAt, until: endAt });
    const progressEvery = opts.progressEveryMs ?? 60_000;
    let lastProgress = startAt;
    sampler = setInterval(() => {
      const now = Math.min(endAt, clocks.sim.now());
      kpis.sample(now);
      if (opts.onProgress === undefined || now - lastProgress < progressEvery) return;
      lastProgress = now;
      const p: FastProgress = { simSeconds: (now - startAt) / 1000, totalSeconds: (endAt - startAt) / 1000, ordersDone: kpis.ordersCompleted, ordersPerHour: kpis.recentOrdersPerHour(now, 3600_000), wallSeconds: (performance.now() - wallStart) / 1000 };
      opts.onProgress(p);
    }, SAMPLE_MS / opts.speed);
    await new Promise<void>((resolve) => clocks.sim.setTimer(resolve, endAt - clocks.sim.now()));
    clearInterval(sampler);
    orders.stop();
    return kpis.finish(endAt, { seed: opts.seed, robots: layout.devices.amrs.length, wallSeconds: (performance.now() - wallStart) / 1000 });
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await site?.stop();
    await core?.stop('simulation finished');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
