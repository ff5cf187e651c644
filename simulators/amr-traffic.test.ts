import { describe, expect, it } from 'vitest';
import { decodeVda, encodeVda, VDA_VERSION, vdaTopic, type VdaAction, type VdaOrder, type VdaState } from '../protocols/index.js';
import { SimulatedAmr, type AmrSpec } from './amr.js';
import { ManualClock } from './clock.js';
import { trapezoidTime } from './kinematics.js';
import { NodeOccupancy } from './node-occupancy.js';
import { generateDemoLayout } from './sites/generate-demo.js';
import { LoopbackLink } from './test-link.js';
import { testOrder } from './test-orders.js';

const layout = generateDemoLayout(1);
const [first, second] = layout.devices.amrs;
if (first === undefined || second === undefined) throw new Error('demo layout has fewer than two AMRs');
const spec1: AmrSpec = first;
const spec2: AmrSpec = second;
const addrOf = (spec: AmrSpec): { interfaceName: string; manufacturer: string; serialNumber: string } => ({ interfaceName: 'uagv', manufacturer: spec.manufacturer, serialNumber: spec.serialNumber });

const pick = (actionId: string): VdaAction => ({ actionId, actionType: 'pick', blockingType: 'HARD', actionParameters: [{ key: 'loadId', value: 'T1' }] });

/** Nodes after index `releasedUpTo` (and their edges) are horizon; `from` drops the head (an update). */
function baseOrder(spec: AmrSpec, orderId: string, updateId: number, nodeIds: string[], releasedUpTo: number, actions: Record<string, VdaAction[]> = {}, from = 0): VdaOrder {
  const o = testOrder(spec, orderId, nodeIds, actions);
  o.orderUpdateId = updateId;
  o.nodes.forEach((n, i) => (n.released = i <= releasedUpTo));
  o.edges.forEach((e, i) => (e.released = i + 1 <= releasedUpTo));
  return { ...o, nodes: o.nodes.slice(from), edges: o.edges.slice(from) };
}

async function start(clock: ManualClock, spec: AmrSpec, occupancy: NodeOccupancy): Promise<{ amr: SimulatedAmr; link: LoopbackLink; states: () => VdaState[]; send: (o: VdaOrder) => void }> {
  const link = new LoopbackLink();
  const amr = await SimulatedAmr.start({ layout, spec, interfaceName: 'uagv', link, clock, occupancy });
  return { amr, link, states: () => link.on('state').map((p) => decodeVda('state', p)), send: (o) => link.deliver(vdaTopic(addrOf(spec), 'order'), encodeVda('order', o)) };
}

function runUntil(clock: ManualClock, done: () => boolean, maxSeconds = 120): void {
  const start = clock.now();
  while (!done()) {
    if (clock.now() - start > maxSeconds * 1000) throw new Error('simulated AMR did not get there');
    clock.advance(50);
  }
}

const row0 = ['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00', 'n-04-00', 'n-05-00'];

describe('SimulatedAmr in traffic', () => {
  it('drives on without stopping when its base is extended straight ahead while it drives', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const t0 = clock.now();
    const occupancy = new NodeOccupancy();
    const a = await start(clock, spec1, occupancy);
    a.send(baseOrder(spec1, 'o1', 0, row0, 2));
    // 1 m in (past n-00-00, short of n-01-00), the rest is released.
    clock.advance(2000);
    a.send(baseOrder(spec1, 'o1', 1, row0, 5, {}, 2));
    // Nodes ahead are occupied the moment they are released to it.
    expect(occupancy.occupantOf('n-05-00')).toBe(spec1.serialNumber);
    runUntil(clock, () => a.states().some((s) => s.lastNodeId === 'n-05-00' && !s.driving));
    const states = a.states();
    expect(states.filter((s) => !s.driving && s.lastNodeId !== 'n-00-00').map((s) => s.lastNodeId)).toEqual(['n-05-00']);
    // One 10 m profile, as if all of it had been released at once: no braking at n-02-00.
    const arrived = Date.parse(states.find((s) => s.lastNodeId === 'n-05-00')?.timestamp ?? '') - t0;
    expect(arrived).toBe(Math.ceil(trapezoidTime(10, { maxSpeed: 1.5, accel: 0.5 }) * 1000));
    expect(states.at(-1)?.agvPosition).toMatchObject({ x: 10, y: 0 });
  });

  it('drives only its base, stops at the last released node and asks for more as it nears it', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const a = await start(clock, spec1, new NodeOccupancy());
    a.send(baseOrder(spec1, 'o1', 0, row0, 2));
    runUntil(clock, () => a.states().some((s) => s.lastNodeId === 'n-02-00' && !s.driving));
    clock.advance(5000);
    const last = a.states().at(-1) as VdaState;
    expect(last).toMatchObject({ lastNodeId: 'n-02-00', driving: false, newBaseRequest: true });
    expect(last.agvPosition).toMatchObject({ x: 4, y: 0 });
    // It asked while still on the way: at n-01-00 only one released node was left ahead.
    expect(a.states().some((s) => s.lastNodeId === 'n-01-00' && s.newBaseRequest === true)).toBe(true);
    // The update releases the rest; the request is answered and it drives on.
    a.send(baseOrder(spec1, 'o1', 1, row0, 5, {}, 2));
    runUntil(clock, () => a.states().some((s) => s.lastNodeId === 'n-05-00' && !s.driving));
    expect(a.states().at(-1)).toMatchObject({ newBaseRequest: false, nodeStates: [] });
  });

  it('keeps the actions of the last base node when an update stitches onto it before it is reached', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const a = await start(clock, spec1, new NodeOccupancy());
    // The pick is on n-01-01, the last base node, round a corner: the update comes while the
    // robot stands at n-01-00 and has yet to drive there.
    const path = ['n-00-00', 'n-01-00', 'n-01-01', 'n-01-02'];
    const actions = { 'n-01-01': [pick('o1-pick')] };
    a.send(baseOrder(spec1, 'o1', 0, path, 2, actions));
    runUntil(clock, () => a.states().some((s) => s.lastNodeId === 'n-01-00'));
    a.send(baseOrder(spec1, 'o1', 1, path, 3, actions, 2));
    runUntil(clock, () => a.states().some((s) => s.lastNodeId === 'n-01-02' && !s.driving));
    expect(a.states().at(-1)?.actionStates.find((x) => x.actionId === 'o1-pick')?.actionStatus).toBe('FINISHED');
    expect(a.states().at(-1)?.loads).toHaveLength(1);
  });

  it('never enters a node another robot occupies: it waits there, not driving, and counts one conflict', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const occupancy = new NodeOccupancy();
    const a = await start(clock, spec1, occupancy);
    const b = await start(clock, spec2, occupancy);
    expect(occupancy.occupantOf(spec2.startNode)).toBe(spec2.serialNumber);
    // a is sent east along row 0 straight through b's parking spot.
    a.send(baseOrder(spec1, 'o1', 0, row0.slice(0, 3), 2));
    clock.advance(10_000);
    expect(a.states().at(-1)).toMatchObject({ lastNodeId: 'n-00-00', driving: false });
    expect(a.states().at(-1)?.errors).toMatchObject([{ errorType: 'nodeOccupied', errorLevel: 'WARNING', errorReferences: [{ referenceKey: 'nodeId', referenceValue: 'n-01-00' }] }]);
    expect(occupancy.conflicts).toBe(1);
    expect(occupancy.conflictLog[0]).toEqual({ vehicle: spec1.serialNumber, nodeId: 'n-01-00', occupiedBy: spec2.serialNumber });
    // b leaves north; once it has reached the next node, a goes on. Still one conflict.
    b.send(baseOrder(spec2, 'o2', 0, ['n-01-00', 'n-01-01'], 1));
    runUntil(clock, () => a.states().some((s) => s.lastNodeId === 'n-02-00' && !s.driving));
    expect(a.states().at(-1)?.errors).toEqual([]);
    expect(occupancy.conflicts).toBe(1);
    expect(occupancy.occupantOf('n-02-00')).toBe(spec1.serialNumber);
    expect(occupancy.occupantOf('n-01-01')).toBe(spec2.serialNumber);
    expect(occupancy.occupantOf('n-01-00')).toBeUndefined();
    expect(occupancy.occupantOf('n-00-00')).toBeUndefined();
  });

  it('left with only horizon (a bounded one, its drop not sent yet), it answers cancelOrder with noOrderToCancel; an update of its last base node alone ends the order', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const a = await start(clock, spec1, new NodeOccupancy());
    a.send(baseOrder(spec1, 'o1', 0, row0, 2, { 'n-01-00': [pick('o1-pick')] }));
    runUntil(clock, () => a.states().some((s) => s.lastNodeId === 'n-02-00' && !s.driving && s.actionStates.some((x) => x.actionId === 'o1-pick' && x.actionStatus === 'FINISHED')));
    clock.advance(2000);
    expect(a.states().at(-1)?.nodeStates.map((n) => [n.nodeId, n.released])).toEqual([['n-03-00', false], ['n-04-00', false], ['n-05-00', false]]);
    const header = { headerId: 1, timestamp: new Date(clock.now()).toISOString(), version: VDA_VERSION, manufacturer: spec1.manufacturer, serialNumber: spec1.serialNumber };
    a.link.deliver(vdaTopic(addrOf(spec1), 'instantActions'), encodeVda('instantActions', { ...header, actions: [{ actionId: 'c1', actionType: 'cancelOrder', blockingType: 'HARD' }] }));
    clock.advance(1000);
    const refused = a.states().at(-1) as VdaState;
    expect(refused.actionStates.find((x) => x.actionId === 'c1')?.actionStatus).toBe('FAILED');
    expect(refused.errors.map((e) => e.errorType)).toContain('noOrderToCancel');
    expect(refused.nodeStates).toHaveLength(3);
    // What traffic control sends instead (buildHorizonTrim): the last base node, nothing after it.
    a.send(baseOrder(spec1, 'o1', 1, row0.slice(0, 3), 2, {}, 2));
    clock.advance(1000);
    expect(a.states().at(-1)).toMatchObject({ orderId: 'o1', orderUpdateId: 1, lastNodeId: 'n-02-00', nodeStates: [], edgeStates: [], driving: false, newBaseRequest: false });
    expect(a.states().at(-1)?.errors.map((e) => e.errorType)).not.toContain('orderUpdateError');
  });
});
