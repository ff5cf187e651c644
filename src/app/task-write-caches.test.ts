/**
 * Task progress and the execution watchdog keep the tasks they read on every vehicle state or
 * sweep when they follow the store's task writes (as the core wires them): a vehicle's repeated
 * state then costs no read at all, a sweep reads only the tasks written since the last one —
 * and whatever is written meanwhile, by anyone, is seen exactly as without the cache.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VdaState } from '../../protocols/index.js';
import { loadSiteLayout } from '../adapters/site-loader.js';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import { actionIdOf } from '../domain/commands.js';
import type { TaskRecord } from '../domain/records.js';
import { DeviceRegistry } from './device-registry.js';
import { Dispatcher } from './dispatcher.js';
import { ExceptionService } from './exception-service.js';
import { ExecutionWatchdog } from './execution-watchdog.js';
import { OrderIntake } from './intake.js';
import { LineService } from './line-service.js';
import { ReleasePlanner } from './release-planner.js';
import { seedFromLayout } from './site-seed.js';
import { SourcingService } from './sourcing-service.js';
import { TaskProgressService } from './task-progress.js';
import { ManualClock, testAppContext } from './testing/app-context.js';
import { idleVehicleState } from './testing/vda-state.js';

const layout = loadSiteLayout('demo');
const amr = layout.devices.amrs[0]!;
const WATCHDOG_MS = 15_000;

interface Rig {
  store: SqliteStore;
  clock: ManualClock;
  registry: DeviceRegistry;
  dispatcher: Dispatcher;
  progress: TaskProgressService;
  watchdog: ExecutionWatchdog;
  intake: OrderIntake;
}

const stores: SqliteStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  vi.restoreAllMocks();
});

/** Real in-memory store seeded with the demo site, one declared vehicle, caches wired as in the core. */
function rig(tripBatchSize: number): Rig {
  const clock = new ManualClock(1_800_000_000_000);
  const store = new SqliteStore({ dataDir: ':memory:', clock });
  stores.push(store);
  seedFromLayout(store, layout);
  const ctx = testAppContext(store, clock, layout);
  const sourcing = new SourcingService(ctx, { weights: { cost: 1, distance: 1, time: 1, co2: 0.5 }, minShipmentValue: 0 });
  const exceptions = new ExceptionService(ctx);
  const lines = new LineService(ctx, sourcing, exceptions, () => undefined);
  const registry = new DeviceRegistry({ watchdogMs: WATCHDOG_MS, lowBatteryPercent: 20 });
  registry.declare(amr.serialNumber, 'amr', { manufacturer: amr.manufacturer, serialNumber: amr.serialNumber });
  const release = new ReleasePlanner(ctx, lines, { window: 100 });
  const dispatcher = new Dispatcher(ctx, registry, lines, { interfaceName: 'uagv', jobExpirySeconds: 60, tripBatchSize, lowBatteryPercent: 20 }, () => undefined, release);
  const progress = new TaskProgressService(ctx, registry, lines, () => undefined, exceptions);
  const watchdog = new ExecutionWatchdog(ctx, registry, progress, exceptions, { interfaceName: 'uagv', taskTimeoutMs: 600_000 }, () => undefined);
  progress.followTaskWrites((w) => store.watchTaskWrites(w));
  watchdog.followTaskWrites((w) => store.watchTaskWrites(w));
  return { store, clock, registry, dispatcher, progress, watchdog, intake: new OrderIntake(ctx, lines, sourcing, { maxLineQuantity: 100 }) };
}

const vdaState = (over: Partial<VdaState> = {}): VdaState => idleVehicleState(amr, over);

/** The vehicle is heard now (the registry first, as ingest does). */
const hear = (r: Rig, s: VdaState): void => void r.registry.onVdaState(amr.serialNumber, s, r.clock.now());

/** An order of `lineCount` AMR-zone items, released and dispatched by one pass; the vehicle's trip tasks. */
async function dispatchOrder(r: Rig, lineCount: number): Promise<TaskRecord[]> {
  const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
  const skus = [...new Set(layout.stock.filter((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 10).map((s) => s.sku))];
  const res = await r.intake.submit(
    { channel: 'web', customer: { id: 'c-1' }, shipTo: { name: 'A', line1: '1 Dock Road', city: 'Dortmund', postalCode: '44135', country: 'DE' }, lines: skus.slice(0, lineCount).map((sku) => ({ sku, quantity: 1 })) },
    undefined,
  );
  expect(res.statusCode).toBe(201);
  expect(r.dispatcher.runOnce()).toBeGreaterThan(0);
  return r.store.linesOf((res.body as { id: string }).id).flatMap((l) => r.store.tasksOfLine(l.id).filter((t) => t.deviceClass === 'amr' && t.deviceId === amr.serialNumber));
}

/** The trip's state with every pick and the drop at `status`. */
function tripState(lead: TaskRecord, members: readonly TaskRecord[], status: 'WAITING' | 'RUNNING'): VdaState {
  return vdaState({
    orderId: lead.id,
    actionStates: [
      ...[lead, ...members].map((t) => ({ actionId: actionIdOf.pick(t.id), actionType: 'pick', actionStatus: status })),
      { actionId: actionIdOf.drop(lead.id), actionType: 'drop', actionStatus: 'WAITING' as const },
    ],
  });
}

describe('task progress following task writes', () => {
  it('skips a repeated state without reading its task, and applies it again once the task was written', async () => {
    const r = rig(1);
    hear(r, vdaState());
    const [task] = await dispatchOrder(r, 1);
    const running = tripState(task!, [], 'WAITING');
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, running);
    expect(r.store.getTask(task!.id)?.state).toBe('RUNNING');
    const getTask = vi.spyOn(r.store, 'getTask');
    const tx = vi.spyOn(r.store, 'tx');
    for (let i = 0; i < 3; i++) r.progress.onVdaState(amr.serialNumber, amr.serialNumber, { ...running, headerId: 100 + i });
    expect(getTask).not.toHaveBeenCalled();
    expect(tx).not.toHaveBeenCalled();
    // Someone else wrote the task (here, a newer order update it now waits the echo of).
    const current = r.store.getTask(task!.id)!;
    r.store.tx(() => r.store.updateTask(task!.id, { progress: { ...current.progress, updateId: 1 }, updatedAt: current.updatedAt + 1 }));
    getTask.mockClear();
    tx.mockClear();
    const confirm = vi.spyOn(r.store, 'confirm');
    // The echo of that update is applied in full: it confirms the update.
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, { ...running, orderUpdateId: 1 });
    expect(getTask).toHaveBeenCalled();
    expect(confirm).toHaveBeenCalledTimes(1);
  });

  it('skips a batched trip’s repeated state only while neither the lead nor its other lines were written', async () => {
    const r = rig(2);
    hear(r, vdaState());
    const tasks = await dispatchOrder(r, 2);
    const lead = tasks.find((t) => (t.progress.trip?.picks.length ?? 0) >= 2);
    expect(lead).toBeDefined();
    const members = tasks.filter((t) => t.id !== lead!.id);
    expect(members).toHaveLength(1);
    const running = tripState(lead!, members, 'RUNNING');
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, running);
    expect(r.store.getTask(members[0]!.id)?.state).toBe('RUNNING');
    const tx = vi.spyOn(r.store, 'tx');
    // Once more in full (the first one wrote), then skipped.
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, running);
    expect(tx).toHaveBeenCalledTimes(1);
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, running);
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, running);
    expect(tx).toHaveBeenCalledTimes(1);
    // A line riding along was written (here: by hand back to DISPATCHED): the same state is
    // applied in full again and marks it running again.
    const member = r.store.getTask(members[0]!.id)!;
    r.store.tx(() => r.store.updateTask(member.id, { state: 'DISPATCHED', updatedAt: member.updatedAt + 1 }));
    tx.mockClear();
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, running);
    expect(tx).toHaveBeenCalledTimes(1);
    expect(r.store.getTask(member.id)?.state).toBe('RUNNING');
  });
});

describe('execution watchdog following task writes', () => {
  it('reads all held tasks once, then only those written, and still takes back a silent vehicle’s trip', async () => {
    const r = rig(1);
    hear(r, vdaState());
    const tasksInStates = vi.spyOn(r.store, 'tasksInStates');
    expect(r.watchdog.sweep()).toBe(0);
    expect(tasksInStates).toHaveBeenCalledTimes(1);
    // Dispatched after that first sweep: known to the next one through the write alone.
    const [task] = await dispatchOrder(r, 1);
    expect(r.store.getTask(task!.id)?.state).toBe('DISPATCHED');
    r.clock.advance(1000);
    hear(r, vdaState());
    // (The dispatch pass reads tasks by state too: only the sweeps' own reads count below.)
    tasksInStates.mockClear();
    expect(r.watchdog.sweep()).toBe(0);
    // The vehicle goes silent past the registry's watchdog: its trip is taken back.
    r.clock.advance(WATCHDOG_MS + 1000);
    expect(r.watchdog.sweep()).toBe(1);
    expect(r.store.getTask(task!.id)?.state).toBe('FAILED');
    // Taken back, it is no longer held: nothing more to take.
    r.clock.advance(1000);
    expect(r.watchdog.sweep()).toBe(0);
    expect(tasksInStates).not.toHaveBeenCalled();
  });
});
