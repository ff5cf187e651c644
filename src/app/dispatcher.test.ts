/**
 * The dispatcher and task progress over the real SQLite store and use cases, on a hand-driven
 * clock (no MQTT): which vehicle reports ask for a dispatch pass, that a pass's trip goes out
 * on a fastest route with its command handed over once committed, and that a vehicle's state repeating what was already applied
 * leaves the store alone, while anything new in it — or a task changed by someone else — is
 * applied as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VdaState } from '../../protocols/index.js';
import { VDA_SAMPLES } from '../../protocols/testdata/vda5050-samples.js';
import { loadSiteLayout } from '../adapters/site-loader.js';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import { actionIdOf } from '../domain/commands.js';
import type { OutboxMessage, TaskRecord } from '../domain/records.js';
import { RouteGraph } from '../domain/route-graph.js';
import { DeviceRegistry } from './device-registry.js';
import { Dispatcher } from './dispatcher.js';
import { ExceptionService } from './exception-service.js';
import { OrderIntake } from './intake.js';
import { LineService } from './line-service.js';
import { ReleasePlanner } from './release-planner.js';
import { seedFromLayout } from './site-seed.js';
import { SourcingService } from './sourcing-service.js';
import { TaskProgressService } from './task-progress.js';
import { ManualClock, testAppContext } from './testing/app-context.js';
import { idleVehicleState } from './testing/vda-state.js';

const layout = loadSiteLayout('demo');
const WATCHDOG_MS = 15_000;
const LOW_BATTERY = 20;
const amr = layout.devices.amrs[0]!;

interface Rig {
  store: SqliteStore;
  clock: ManualClock;
  registry: DeviceRegistry;
  dispatcher: Dispatcher;
  progress: TaskProgressService;
  intake: OrderIntake;
  release: ReleasePlanner;
  /** What each pass handed to the publisher. */
  committed: OutboxMessage[][];
}

const vdaState = (over: Partial<VdaState> = {}): VdaState => idleVehicleState(amr, over);

describe('Dispatcher', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const rig = (): Rig => rigFor(dirs, stores);

  it("asks for a pass only when a vehicle's report changes what dispatch looks at", () => {
    const r = rig();
    expect(report(r, vdaState())).toBe(true); // first heard of
    r.clock.t += 1000;
    expect(report(r, vdaState())).toBe(false); // the same idle state, a second later
    expect(report(r, vdaState({ batteryState: { batteryCharge: 88, charging: false } }))).toBe(false); // drained a little
    expect(report(r, vdaState({ batteryState: { batteryCharge: LOW_BATTERY - 1, charging: false } }))).toBe(true); // below the line
    expect(report(r, vdaState({ batteryState: { batteryCharge: LOW_BATTERY - 1, charging: true } }))).toBe(true); // charging
    expect(report(r, vdaState({ batteryState: { batteryCharge: 90, charging: false } }))).toBe(true); // back above, off the charger
    const elsewhere = layout.graph.nodes.find((n) => n.id !== amr.startNode)!.id;
    expect(report(r, vdaState({ lastNodeId: elsewhere }))).toBe(true); // moved
    expect(report(r, vdaState({ lastNodeId: elsewhere, paused: true }))).toBe(true);
    expect(report(r, vdaState({ lastNodeId: elsewhere }))).toBe(true); // resumed
    expect(report(r, vdaState({ lastNodeId: elsewhere }))).toBe(false);
    // Silent past its watchdog, it was unreachable meanwhile: the same state makes it available again.
    r.clock.t += WATCHDOG_MS + 1;
    expect(report(r, vdaState({ lastNodeId: elsewhere }))).toBe(true);
    // A new factsheet may lift an exclusion or change what it can do.
    r.registry.onVdaFactsheet(amr.serialNumber, { ...VDA_SAMPLES.factsheet, manufacturer: amr.manufacturer ?? 'pickwire', serialNumber: amr.serialNumber });
    expect(report(r, vdaState({ lastNodeId: elsewhere }))).toBe(true);
    // Holding a task, nothing it reports frees it; freed, its next report asks for a pass.
    r.registry.assign(amr.serialNumber, 'T-1');
    expect(report(r, vdaState({ lastNodeId: amr.startNode }))).toBe(false);
    r.registry.assign(amr.serialNumber, undefined);
    expect(report(r, vdaState({ lastNodeId: amr.startNode }))).toBe(true);
    // Its connection breaking is a change too.
    const broken = r.registry.onVdaConnection(amr.serialNumber, { ...VDA_SAMPLES.connection, manufacturer: amr.manufacturer ?? 'pickwire', serialNumber: amr.serialNumber, connectionState: 'CONNECTIONBROKEN' }, r.clock.now());
    expect(r.dispatcher.mattersToDispatch(broken)).toBe(true);
  });

  it("sends a released line's trip in the pass that released it, on a fastest route, and hands the committed command over", async () => {
    const r = rig();
    report(r, vdaState());
    const task = await dispatchOneTrip(r);
    expect(task.state).toBe('DISPATCHED');
    expect(task.deviceId).toBe(amr.serialNumber);
    expect(r.committed).toHaveLength(1);
    const [command] = r.committed[0]!;
    expect(command?.correlation).toBe(`vda:${amr.serialNumber}:${task.id}:0`);
    expect(r.store.unsent(10).map((m) => m.seq)).toEqual([command?.seq]);
    const order = JSON.parse(command!.payload.toString()) as { nodes: { nodeId: string }[]; edges: { edgeId: string; startNodeId: string; endNodeId: string }[] };
    const nodes = order.nodes.map((n) => n.nodeId);
    expect(nodes[0]).toBe(amr.startNode);
    expect(nodes).toContain(task.plan.pickNodeId);
    expect(nodes.at(-1)).toBe(task.plan.dropNodeId);
    // Every edge joins the nodes it sits between, and the trip is as fast as a route search's.
    const graph = new RouteGraph(layout);
    expect(graph.routeAlong(nodes)).toBeDefined();
    const searched = [graph.shortestPath(amr.startNode, task.plan.pickNodeId!), graph.shortestPath(task.plan.pickNodeId!, task.plan.dropNodeId!)];
    expect(graph.routeAlong(nodes)!.travelTime).toBeCloseTo(searched.reduce((s, x) => s + x!.travelTime, 0), 9);
  });
});

describe('release per pass', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("releases an order's lines together even past the limit, so that they can share a trip", async () => {
    const r = rigFor(dirs, stores);
    const three = await submitOrder(r, 3, 'c-1');
    const one = await submitOrder(r, 1, 'c-2');
    expect(r.release.runOnce(1)).toBe(3);
    expect(r.store.linesOf(three).map((l) => l.state)).toEqual(['RELEASED', 'RELEASED', 'RELEASED']);
    expect(r.store.linesOf(one).map((l) => l.state)).toEqual(['SOURCED']);
    expect(r.release.runOnce(1)).toBe(1);
    expect(r.release.runOnce(1)).toBe(0);
  });

  it('releases one line per pass while few wait, two while a queue of eight or more lasts', async () => {
    const r = rigFor(dirs, stores);
    const limits = vi.spyOn(r.release, 'runOnce');
    const passes = async (orders: number): Promise<{ limits: number[]; released: number[] }> => {
      limits.mockClear();
      for (let i = 0; i < orders; i++) await submitOrder(r, 1, `c-${orders}-${i}`);
      r.dispatcher.runOnce();
      return { limits: limits.mock.calls.map(([limit]) => limit as number), released: limits.mock.results.map((res) => res.value as number) };
    };
    // A few orders at once (one group commit's worth): one line per pass all the same.
    expect(await passes(4)).toEqual({ limits: [1, 1, 1, 1, 1], released: [1, 1, 1, 1, 0] });
    // A queue of 30: 1, then 2 per pass while 8 or more still wait, then one at a time again.
    expect(await passes(30)).toEqual({
      limits: [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1],
      released: [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0],
    });
  });
});

describe('TaskProgressService.onVdaState', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('leaves the store alone for a state that repeats what was applied, and applies anything new', async () => {
    const r = rigFor(dirs, stores);
    report(r, vdaState());
    const task = await dispatchOneTrip(r);
    const pick = actionIdOf.pick(task.id);
    const drop = actionIdOf.drop(task.id);
    const running = vdaState({ orderId: task.id, actionStates: [{ actionId: pick, actionType: 'pick', actionStatus: 'WAITING' }, { actionId: drop, actionType: 'drop', actionStatus: 'WAITING' }] });
    const tx = vi.spyOn(r.store, 'tx');
    const confirm = vi.spyOn(r.store, 'confirm');
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, running);
    expect(r.store.getTask(task.id)?.state).toBe('RUNNING');
    expect(tx).toHaveBeenCalledTimes(1);
    // The echo, again and again (a vehicle reports about once a second; position aside, unchanged).
    tx.mockClear();
    confirm.mockClear();
    for (let i = 0; i < 5; i++) r.progress.onVdaState(amr.serialNumber, amr.serialNumber, { ...running, headerId: 100 + i, agvPosition: { x: i, y: 0, theta: 0, mapId: 'm', positionInitialized: true } });
    expect(tx).not.toHaveBeenCalled();
    expect(confirm).not.toHaveBeenCalled();
    // Something new: the pick finished. Applied at once, and only once.
    const picked = { ...running, actionStates: [{ actionId: pick, actionType: 'pick', actionStatus: 'FINISHED' as const }, { actionId: drop, actionType: 'drop', actionStatus: 'WAITING' as const }] };
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, picked);
    expect(tx).toHaveBeenCalledTimes(1);
    expect(r.store.getTask(task.id)?.progress.applied).toEqual([pick]);
    expect(r.store.getLine(task.lineId)?.snapshot.context.picked).toBe(task.plan.quantity);
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, picked);
    expect(tx).toHaveBeenCalledTimes(1);
    expect(r.store.getLine(task.lineId)?.snapshot.context.picked).toBe(task.plan.quantity);
    // The drop finished: the task ends. That state is applied once more (on an ended task it
    // confirms the command it echoes), then left alone.
    const dropped = { ...picked, actionStates: [picked.actionStates[0]!, { actionId: drop, actionType: 'drop', actionStatus: 'FINISHED' as const }] };
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, dropped);
    expect(r.store.getTask(task.id)?.state).toBe('FINISHED');
    confirm.mockClear();
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, dropped);
    expect(confirm).toHaveBeenCalledTimes(1);
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, dropped);
    expect(confirm).toHaveBeenCalledTimes(1);
    // Someone else touched the task meanwhile: the same state is looked at again.
    const current = r.store.getTask(task.id)!;
    r.store.tx(() => r.store.updateTask(task.id, { updatedAt: current.updatedAt + 1 }));
    r.progress.onVdaState(amr.serialNumber, amr.serialNumber, dropped);
    expect(confirm).toHaveBeenCalledTimes(2);
  });
});

/** Real store seeded with the demo site, use cases wired as the core does, one declared vehicle. */
function rigFor(dirs: string[], stores: SqliteStore[]): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'pw-progress-'));
  dirs.push(dir);
  const clock = new ManualClock(1_800_000_000_000);
  const store = new SqliteStore({ dataDir: dir, clock });
  stores.push(store);
  seedFromLayout(store, layout);
  const ctx = testAppContext(store, clock, layout);
  const sourcing = new SourcingService(ctx, { weights: { cost: 1, distance: 1, time: 1, co2: 0.5 }, minShipmentValue: 0 });
  const exceptions = new ExceptionService(ctx);
  const lines = new LineService(ctx, sourcing, exceptions, () => undefined);
  // One vehicle only: its trips are the only ones on the floor.
  const registry = new DeviceRegistry({ watchdogMs: WATCHDOG_MS, lowBatteryPercent: LOW_BATTERY });
  registry.declare(amr.serialNumber, 'amr', { manufacturer: amr.manufacturer, serialNumber: amr.serialNumber });
  const committed: OutboxMessage[][] = [];
  const release = new ReleasePlanner(ctx, lines, { window: 100 });
  const dispatcher = new Dispatcher(ctx, registry, lines, { interfaceName: 'uagv', jobExpirySeconds: 60, tripBatchSize: 1, lowBatteryPercent: LOW_BATTERY }, (c) => committed.push([...c]), release);
  const progress = new TaskProgressService(ctx, registry, lines, () => undefined, exceptions);
  return { store, clock, registry, dispatcher, progress, intake: new OrderIntake(ctx, lines, sourcing, { maxLineQuantity: 100 }), release, committed };
}

/** The vehicle reports `s` now; returns whether that asked for a dispatch pass. */
const report = (r: Rig, s: VdaState): boolean => r.dispatcher.mattersToDispatch(r.registry.onVdaState(amr.serialNumber, s, r.clock.now()));

/** An order of AMR-zone items, one unit of each of `lineCount` SKUs; its id. */
async function submitOrder(r: Rig, lineCount = 1, customer = 'c-1'): Promise<string> {
  const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
  const skus = layout.stock.filter((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 10).map((s) => s.sku);
  const res = await r.intake.submit(
    { channel: 'web', customer: { id: customer }, shipTo: { name: 'A', line1: '1 Dock Road', city: 'Dortmund', postalCode: '44135', country: 'DE' }, lines: [...new Set(skus)].slice(0, lineCount).map((sku) => ({ sku, quantity: 1 })) },
    undefined,
  );
  expect(res.statusCode).toBe(201);
  return (res.body as { id: string }).id;
}

/** A one-line order of an AMR-zone item, released and dispatched by one pass; its trip task. */
async function dispatchOneTrip(r: Rig): Promise<TaskRecord> {
  const [line] = r.store.linesOf(await submitOrder(r));
  expect(r.dispatcher.runOnce()).toBe(1);
  const tasks = r.store.tasksOfLine(line!.id).filter((t) => t.deviceClass === 'amr');
  expect(tasks).toHaveLength(1);
  return tasks[0]!;
}
