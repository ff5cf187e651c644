import { testOrder } from './test-orders.js';
import { describe, expect, it } from 'vitest';
import { VDA_VERSION, decodeVda, encodeVda, vdaTopic, type VdaAction, type VdaOrder, type VdaState } from '../protocols/index.js';
import { SimulatedAmr } from './amr.js';
import { ManualClock } from './clock.js';
import { trapezoidTime, trapezoidTimeTo, turnTime } from './kinematics.js';
import { generateDemoLayout } from './sites/generate-demo.js';
import { LoopbackLink } from './test-link.js';

const layout = generateDemoLayout(1);
const spec = layout.devices.amrs[0];
if (spec === undefined) throw new Error('demo layout has no AMR');
const addr = { interfaceName: 'uagv', manufacturer: spec.manufacturer, serialNumber: spec.serialNumber };

function order(orderId: string, nodeIds: string[], actions: Record<string, VdaAction[]> = {}): VdaOrder {
  return testOrder(addr, orderId, nodeIds, actions);
}

async function setup(): Promise<{ amr: SimulatedAmr; link: LoopbackLink; clock: ManualClock; states: () => VdaState[] }> {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const link = new LoopbackLink();
  const amr = await SimulatedAmr.start({ layout, spec: spec as NonNullable<typeof spec>, interfaceName: 'uagv', link, clock, initialBattery: 80 });
  return { amr, link, clock, states: () => link.on('state').map((p) => decodeVda('state', p)) };
}

/** Advances in 50 ms steps until the predicate holds; returns the virtual seconds taken. */
function runUntil(clock: ManualClock, done: () => boolean, maxSeconds = 120): number {
  const start = clock.now();
  while (!done()) {
    if (clock.now() - start > maxSeconds * 1000) throw new Error('simulated AMR did not get there');
    clock.advance(50);
  }
  return (clock.now() - start) / 1000;
}

describe('SimulatedAmr', () => {
  it('drives a straight 10 m run in the time of one trapezoid profile', async () => {
    const { link, clock, states } = await setup();
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00', 'n-04-00', 'n-05-00'])));
    const seconds = runUntil(clock, () => states().some((s) => s.lastNodeId === 'n-05-00' && !s.driving));
    const expected = trapezoidTime(10, { maxSpeed: 1.5, accel: 0.5 }); // 9.67 s
    expect(Math.abs(seconds - expected) / expected).toBeLessThan(0.1);
    const last = states().at(-1);
    expect(last?.agvPosition).toMatchObject({ x: 10, y: 0 });
    expect(last?.nodeStates).toEqual([]);
    // Every intermediate node was reported as reached on the way.
    expect(new Set(states().map((s) => s.lastNodeId))).toEqual(new Set(['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00', 'n-04-00', 'n-05-00']));
    expect(link.on('visualization').length).toBeGreaterThan(10);
  });

  it('turns on the spot before driving off in a new direction', async () => {
    const { link, clock, states } = await setup();
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-00-01'])));
    const seconds = runUntil(clock, () => states().some((s) => s.lastNodeId === 'n-00-01' && !s.driving));
    const expected = turnTime(0, Math.PI / 2, 2.5) + trapezoidTime(2, { maxSpeed: 1.5, accel: 0.5 });
    expect(Math.abs(seconds - expected) / expected).toBeLessThan(0.1);
    expect(states().at(-1)?.agvPosition?.theta).toBeCloseTo(Math.PI / 2, 6);
  });

  it('lifts a tote at a node through INITIALIZING, RUNNING and FINISHED', async () => {
    const { link, clock, states } = await setup();
    const pick: VdaAction = { actionId: 'p1', actionType: 'pick', blockingType: 'HARD', actionParameters: [{ key: 'loadId', value: 'TOTE-7' }] };
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-01-00'], { 'n-01-00': [pick] })));
    const seconds = runUntil(clock, () => states().some((s) => s.actionStates.some((a) => a.actionId === 'p1' && a.actionStatus === 'FINISHED')));
    const seen = states().map((s) => s.actionStates.find((a) => a.actionId === 'p1')?.actionStatus);
    expect([...new Set(seen.filter((x) => x !== undefined))]).toEqual(['WAITING', 'INITIALIZING', 'RUNNING', 'FINISHED']);
    expect(seconds).toBeGreaterThan(trapezoidTime(2, { maxSpeed: 1.5, accel: 0.5 }) + 3 - 0.1);
    expect(states().at(-1)?.loads).toEqual([{ loadId: 'TOTE-7', loadType: 'TOTE', loadPosition: 'deck' }]);
  });

  it('stops in place on startPause and continues after stopPause', async () => {
    const { link, clock, states } = await setup();
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00'])));
    clock.advance(3000);
    const instant = (actionId: string, actionType: string): string =>
      encodeVda('instantActions', { headerId: 1, timestamp: new Date(0).toISOString(), version: VDA_VERSION, ...addr, actions: [{ actionId, actionType, blockingType: 'HARD' }] });
    link.deliver(vdaTopic(addr, 'instantActions'), instant('pause-1', 'startPause'));
    const at = states().at(-1)?.agvPosition?.x ?? -1;
    expect(states().at(-1)).toMatchObject({ paused: true, driving: false });
    clock.advance(10_000);
    expect(states().at(-1)?.agvPosition?.x).toBe(at);
    link.deliver(vdaTopic(addr, 'instantActions'), instant('resume-1', 'stopPause'));
    runUntil(clock, () => states().some((s) => s.lastNodeId === 'n-03-00' && !s.driving));
    expect(states().at(-1)?.actionStates.map((a) => a.actionStatus)).toEqual(['FINISHED', 'FINISHED']);
  });

  it('cancels an order, failing the actions it did not reach', async () => {
    const { link, clock, states } = await setup();
    const drop: VdaAction = { actionId: 'd1', actionType: 'drop', blockingType: 'HARD' };
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-01-00', 'n-02-00'], { 'n-02-00': [drop] })));
    clock.advance(2000);
    link.deliver(
      vdaTopic(addr, 'instantActions'),
      encodeVda('instantActions', { headerId: 2, timestamp: new Date(0).toISOString(), version: VDA_VERSION, ...addr, actions: [{ actionId: 'c1', actionType: 'cancelOrder', blockingType: 'HARD' }] }),
    );
    runUntil(clock, () => states().some((s) => s.actionStates.some((a) => a.actionId === 'c1' && a.actionStatus === 'FINISHED')));
    const s = states().at(-1);
    expect(s?.actionStates.find((a) => a.actionId === 'd1')?.actionStatus).toBe('FAILED');
    expect(s?.nodeStates).toEqual([]);
    expect(s?.driving).toBe(false);
  });

  it('drains the battery while driving and publishes state at least every 5 s', async () => {
    const { link, clock, states } = await setup();
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00', 'n-04-00', 'n-05-00'])));
    runUntil(clock, () => states().some((s) => s.lastNodeId === 'n-05-00' && !s.driving));
    const before = states().length;
    clock.advance(20_000);
    expect(states().length - before).toBeGreaterThanOrEqual(4);
    expect(states().at(-1)?.batteryState.batteryCharge).toBeLessThan(80);
  });
});

describe('SimulatedAmr on exact motion events', () => {
  const limits = { maxSpeed: 1.5, accel: 0.5 };
  const straight = ['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00', 'n-04-00', 'n-05-00'];

  it('reaches each node at the instant the speed profile gives, however coarsely time is advanced', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const link = new LoopbackLink();
    await SimulatedAmr.start({ layout, spec: spec, interfaceName: 'uagv', link, clock, visualizationIntervalMs: 0, stateIntervalMs: 60_000 });
    const t0 = clock.now();
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', straight)));
    // One jump over the whole move: node arrivals are their own timers, not ticks of a loop.
    clock.advance(20_000);
    const states = link.on('state').map((p) => decodeVda('state', p));
    const reachedAt = (nodeId: string): number | undefined => {
      const s = states.find((x) => x.lastNodeId === nodeId);
      return s === undefined ? undefined : Date.parse(s.timestamp) - t0;
    };
    straight.slice(1).forEach((nodeId, i) => expect(reachedAt(nodeId)).toBe(Math.ceil(trapezoidTimeTo(10, limits, 2 * (i + 1)) * 1000)));
    // Intermediate nodes are reported while still driving; the last one standing still, exactly on the node.
    expect(states.find((x) => x.lastNodeId === 'n-03-00')?.driving).toBe(true);
    expect(states.at(-1)).toMatchObject({ lastNodeId: 'n-05-00', driving: false, agvPosition: { x: 10, y: 0 } });
    expect(states.find((x) => x.lastNodeId === 'n-03-00')?.agvPosition?.x).toBeCloseTo(6, 2);
    expect(link.on('visualization')).toHaveLength(0);
    // Nothing left scheduled but the heartbeat.
    expect(clock.size).toBe(1);
  });

  it('sends one state for what one instant changes: the node reached and the action started there', async () => {
    const { link, clock, states } = await setup();
    const pick: VdaAction = { actionId: 'p1', actionType: 'pick', blockingType: 'HARD' };
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-01-00'], { 'n-01-00': [pick] })));
    clock.advance(10_000);
    const arrived = states().find((s) => s.lastNodeId === 'n-01-00');
    expect(arrived).toMatchObject({ driving: false });
    expect(arrived?.actionStates.find((a) => a.actionId === 'p1')?.actionStatus).toBe('INITIALIZING');
  });

  it('keeps state coming at least every interval, driving or standing, with the pose of the moment', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const link = new LoopbackLink();
    await SimulatedAmr.start({ layout, spec, interfaceName: 'uagv', link, clock, stateIntervalMs: 2000, visualizationIntervalMs: 0 });
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', straight)));
    clock.advance(30_000);
    const states = link.on('state').map((p) => decodeVda('state', p));
    const at = states.map((x) => Date.parse(x.timestamp));
    at.slice(1).forEach((t, i) => expect(t - (at[i] as number)).toBeLessThanOrEqual(2000));
    // The beat at 2 s finds the robot between n-00-00 and n-01-00 (1 m in after 2 s at 0.5 m/s^2).
    const beat = states.find((x, i) => (at[i] as number) - (at[0] as number) === 2000);
    expect(beat).toMatchObject({ lastNodeId: 'n-00-00', driving: true });
    expect(beat?.agvPosition?.x).toBeCloseTo(1, 6);
  });
});

describe('SimulatedAmr at a pick station', () => {
  it("waits at a station with a pickTime while the operator picks the units the trip brought", async () => {
    const station = layout.stations.find((s) => s.kind === 'pack' && s.nodeId !== undefined);
    const node = station?.nodeId;
    if (node === undefined) throw new Error('demo layout has no pack station');
    const withPickTime = { ...layout, stations: layout.stations.map((s) => (s === station ? { ...s, pickTime: 10 } : s)) };
    const elapsed = async (site: typeof layout): Promise<number> => {
      const clock = new ManualClock(Date.UTC(2025, 0, 1));
      const link = new LoopbackLink();
      const at = { ...spec, startNode: node };
      await SimulatedAmr.start({ layout: site, spec: at, interfaceName: 'uagv', link, clock });
      const pick: VdaAction = { actionId: 'p1', actionType: 'pick', blockingType: 'HARD', actionParameters: [{ key: 'quantity', value: 3 }] };
      const drop: VdaAction = { actionId: 'd1', actionType: 'drop', blockingType: 'HARD' };
      // Pick and drop on the station node itself: no travel, only the actions.
      link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', [node], { [node]: [pick, drop] })));
      const states = (): VdaState[] => link.on('state').map((p) => decodeVda('state', p));
      return runUntil(clock, () => states().some((s) => s.actionStates.some((a) => a.actionId === 'd1' && a.actionStatus === 'FINISHED')));
    };
    const plain = await elapsed(layout);
    const picking = await elapsed(withPickTime);
    // Lift and set-down (3 s each) either way; with a pickTime of 10 s the 3 units add 30 s.
    expect(plain).toBeGreaterThan(6 - 0.2);
    expect(plain).toBeLessThan(6 + 0.5);
    expect(picking - plain).toBeGreaterThan(30 - 0.2);
    expect(picking - plain).toBeLessThan(30 + 0.2);
  });
});
