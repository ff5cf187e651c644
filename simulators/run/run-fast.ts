/**
 * One fast-mode replication (DESIGN §5): the real core (same use cases, same SQLite store code,
 * same codecs) and the simulated site in one process, on a virtual clock, talking over the
 * in-memory bus. Time jumps from event to event, so an 8-hour shift takes seconds to minutes.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, createLogger, loadConfig, MemoryBus, MemoryTransport, type Core, type SiteLayout } from '../../src/index.js';
import { runUntil, settle } from '../fast/event-loop.js';
import { MeasuredOccupancy } from '../fast/measured-occupancy.js';
import { memoryLinkFactory } from '../fast/memory-link.js';
import { VirtualClock } from '../fast/virtual-clock.js';
import type { RunKpis } from '../report/types.js';
import { startSimulatedSite, type SimulatedSite } from '../site-sim.js';
import { KpiCollector } from './kpi-collector.js';
import { startRunOrders } from './order-source.js';
import { withRobots } from './robots.js';

export interface FastRunOptions {
  layout: SiteLayout;
  hours: number;
  warmupHours: number;
  seed: number;
  /** AMRs to run (see withRobots); the layout's own when absent. */
  robots?: number;
  ordersPerHour: number;
  /** One-way bus latency, ms; 1 by default. */
  latencyMs?: number;
  /** Simulated start (ms since the epoch); fixed so runs replay: Monday 2026-01-05 06:00 UTC. */
  startAt?: number;
  /** Called every `progressEveryMs` of simulated time. */
  onProgress?: (p: FastProgress) => void;
  progressEveryMs?: number;
  logLevel?: 'silent' | 'error' | 'warn' | 'info';
  /** Called once core and site are up, just before simulated time starts to run (benchmarks time the run apart from start-up). */
  onReady?: () => void;
  /** AMR motion tick and reporting periods; FAST_AMR_TIMING by default. */
  amrTiming?: { stateIntervalMs?: number; visualizationIntervalMs?: number };
}

export interface FastProgress {
  simSeconds: number;
  totalSeconds: number;
  ordersDone: number;
  ordersPerHour: number;
  wallSeconds: number;
}

/** Coarse AMR timing: node progress is still event-driven, periodic chatter is rare (state stays inside the core's 15 s watchdog). */
export const FAST_AMR_TIMING = { stateIntervalMs: 10_000, visualizationIntervalMs: 60_000 };
/** Nobody watches ETAs or device telemetry during a fast run: refresh them rarely. */
const FAST_DISPLAY_TICKS = { etaMs: 60_000, telemetryMs: 10_000 };
const SAMPLE_MS = 5_000;
export const DEFAULT_START = Date.UTC(2026, 0, 5, 6, 0, 0);

export async function runFast(opts: FastRunOptions): Promise<RunKpis> {
  const wallStart = performance.now();
  const layout = withRobots(opts.layout, opts.robots);
  const startAt = opts.startAt ?? DEFAULT_START;
  const endAt = startAt + opts.hours * 3600_000;
  const warmupEndAt = startAt + opts.warmupHours * 3600_000;
  const clock = new VirtualClock(startAt);
  const bus = new MemoryBus({ clock: clock.core, latencyMs: opts.latencyMs ?? 1 });
  // The data dir only holds what start-up writes (the admin token); the store is SQLite in memory
  // (inMemoryStore below: same store code and schema, no WAL writes), since nothing must survive.
  const dataDir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pickwire-sim-'));
  const logger = createLogger({ level: opts.logLevel ?? 'error' }, process.stderr);
  let core: Core | undefined;
  let site: SimulatedSite | undefined;
  try {
    // Confirmed commands are kept a minute, not the live default hour: nobody reads them in a
    // fast run, and an hour of order payloads (~340 MB on rmfs-large) slowed every write by
    // ~15% from the first prune on; the journal still has every command.
    const config = loadConfig({ argv: ['--data-dir', dataDir, '--outbox-retention-minutes', '1'], env: {} });
    core = await pump(clock, createCore(config, { clock: clock.core, transport: new MemoryTransport({ bus, clientId: `pickwire-core-${layout.site.id}` }), layout, logger, displayTicks: FAST_DISPLAY_TICKS, deterministic: true, inMemoryStore: true }));
    const occupancy = new MeasuredOccupancy(() => clock.now());
    site = await pump(
      clock,
      startSimulatedSite({ layout, linkFactory: memoryLinkFactory(bus), interfaceName: config.mqttInterface, clock: clock.sim, occupancy, seed: opts.seed, amrTiming: { ...FAST_AMR_TIMING, ...opts.amrTiming } }),
    );
    const kpis = new KpiCollector({ core, occupancy, now: () => clock.now(), startAt, warmupEndAt, bucketMs: bucketFor(endAt - startAt), isActing: actingIn(site) });
    const orders = startRunOrders({ layout, intake: core.intake, clock: clock.sim, seed: opts.seed, ordersPerHour: opts.ordersPerHour, startAt, until: endAt });
    const progressEvery = opts.progressEveryMs ?? 60_000;
    opts.onReady?.();
    await runUntil(clock, endAt, {
      everyMs: SAMPLE_MS,
      onTick: (now) => {
        kpis.sample(now);
        if (opts.onProgress !== undefined && (now - startAt) % progressEvery < SAMPLE_MS) {
          opts.onProgress({
            simSeconds: (now - startAt) / 1000,
            totalSeconds: (endAt - startAt) / 1000,
            ordersDone: kpis.ordersCompleted,
            ordersPerHour: kpis.recentOrdersPerHour(now, 3600_000),
            wallSeconds: (performance.now() - wallStart) / 1000,
          });
        }
      },
    });
    orders.stop();
    const result = kpis.finish(endAt, { seed: opts.seed, robots: layout.devices.amrs.length, wallSeconds: (performance.now() - wallStart) / 1000 });
    return result;
  } finally {
    // Stopping flushes the outbox and waits for devices' goodbyes, in simulated time.
    if (site !== undefined) await pump(clock, site.stop());
    if (core !== undefined) await pump(clock, core.stop('simulation finished'));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** About 48 throughput buckets per run, whole minutes, at least one minute. */
export function bucketFor(runMs: number): number {
  return Math.max(60_000, Math.round(runMs / 48 / 60_000) * 60_000);
}

/** Whether a simulated robot is running a node action right now (from its own VDA state). */
export function actingIn(site: SimulatedSite): (serialNumber: string) => boolean {
  const bySerial = new Map(site.devices.amrs.map((a) => [a.serialNumber, a]));
  return (serialNumber) => bySerial.get(serialNumber)?.vehicle.state.actionStates.some((a) => a.actionStatus === 'RUNNING' || a.actionStatus === 'INITIALIZING') === true;
}

/**
 * Awaits work that needs simulated time to pass (start-up handshakes, a graceful stop): fires
 * events, or lets 100 ms pass when none is due, until the work is done.
 */
export async function pump<T>(clock: VirtualClock, work: Promise<T>): Promise<T> {
  let done = false;
  const tracked = work.finally(() => {
    done = true;
  });
  tracked.catch(() => undefined);
  for (let i = 0; !done && i < 100_000; i++) {
    await settle();
    if (done) break;
    const next = clock.peek();
    const to = next !== undefined && next <= clock.now() + 100 ? next : clock.now() + 100;
    if (!clock.fireNext(to)) clock.advanceTo(to);
  }
  return tracked;
}
