/**
 * Device physics and faults on a virtual clock: AS/RS port queues, breakdowns, slowdowns, jams,
 * disconnects, the arm's seeded pick times, and the utilization every device reports.
 */
import { describe, expect, it } from 'vitest';
import { WCS_VERSION, decodeVda, decodeWcs, encodeVda, encodeWcs, vdaTopic, wcsTopic, type VdaState, type WcsJobState } from '../protocols/index.js';
import { SimulatedAmr } from './amr.js';
import { SimulatedArm } from './arm.js';
import { SimulatedAsrs } from './asrs.js';
import { ManualClock } from './clock.js';
import { SimulatedConveyor } from './conveyor.js';
import { craneMoveTime, DEFAULT_CRANE, PORT_POINT } from './kinematics.js';
import { PortBuffers } from './port-buffers.js';
import { createRng } from './random.js';
import { generateDemoLayout } from './sites/generate-demo.js';
import { LoopbackLink } from './test-link.js';
import { testOrder } from './test-orders.js';

const layout = generateDemoLayout(1);
const site = layout.site.id;
const asrsSpec = layout.devices.asrs[0]!;
const armSpec = layout.devices.arms[0]!;
const conveyorSpec = layout.devices.conveyors[0]!;
const port = asrsSpec.ports[0]!.id;

function job(deviceId: string, jobId: string, type: string, params: Record<string, string>): Uint8Array {
  return encodeWcs('job', {
    header: { headerId: 1, timestamp: new Date(0).toISOString(), version: WCS_VERSION, site, deviceId },
    jobId,
    jobUpdateId: 0,
    actions: [{ actionId: `${jobId}-a`, actionType: type, blockingType: 'HARD', actionParameters: Object.entries(params).map(([key, value]) => ({ key, value })) }],
  });
}
const states = (link: LoopbackLink): WcsJobState[] => link.on('jobState').map((p) => decodeWcs('jobState', p));
const statusOf = (link: LoopbackLink, jobId: string): string | undefined => states(link).filter((s) => s.jobId === jobId).at(-1)?.actionStates[0]?.actionStatus;
/** Advances in `step` ms until the job's action is FINISHED or FAILED; returns the clock time. */
function until(clock: ManualClock, link: LoopbackLink, jobId: string, step = 10, maxMs = 600_000): number {
  const start = clock.now();
  while (statusOf(link, jobId) !== 'FINISHED' && statusOf(link, jobId) !== 'FAILED') {
    if (clock.now() - start > maxMs) throw new Error(`${jobId} never ended`);
    clock.advance(step);
  }
  return clock.now();
}

const asrsLocs = layout.locations.filter((l) => l.asrsId === asrsSpec.id).sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
const crane = { ...DEFAULT_CRANE, levelHeight: asrsSpec.levelHeight };
const rp = (l: (typeof asrsLocs)[number]): { position: number; level: number } => ({ position: l.position ?? 0, level: l.level ?? 0 });

describe('AS/RS port queue', () => {
  it('a retrieval waits in front of a full port until the belt takes a bin, then sets its bin down', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const ports = new PortBuffers(1, clock);
    const asrs = await SimulatedAsrs.start(asrsSpec, layout, { site, link, clock }, { ports });
    const [a, b] = [asrsLocs[0]!, asrsLocs[1]!];
    const topic = wcsTopic({ site, deviceClass: 'asrs', deviceId: asrsSpec.id }, 'job');
    link.deliver(topic, job(asrsSpec.id, 'r1', 'retrieve', { binId: 'B1', locationId: a.id, portId: port }));
    link.deliver(topic, job(asrsSpec.id, 'r2', 'retrieve', { binId: 'B2', locationId: b.id, portId: port }));
    const t1 = until(clock, link, 'r1');
    // Hand-computed: travel there, 2 s load, travel back, 2 s unload.
    expect(t1).toBe(Math.ceil(((craneMoveTime(PORT_POINT, rp(a), crane) + 2 + craneMoveTime(rp(a), PORT_POINT, crane) + 2) * 1000) / 10) * 10);
    expect(ports.bins(port, 'outbound')).toEqual(['B1']);
    // r2 reaches the port but the one-bin queue is full: it stays RUNNING, blocked.
    clock.advance(120_000);
    expect(statusOf(link, 'r2')).toBe('RUNNING');
    const u = asrs.utilization();
    expect(u.blockedMs).toBeGreaterThan(60_000);
    expect(u.busyMs).toBeGreaterThan(0);
    const takenAt = clock.now();
    ports.take(port, 'outbound', 'B1');
    expect(until(clock, link, 'r2')).toBe(takenAt + 2000);
    expect(ports.bins(port, 'outbound')).toEqual(['B2']);
    expect(ports.blockedWaits(port)).toBe(1);
    expect(ports.utilization(port)?.blockedMs).toBeGreaterThan(60_000);
    await asrs.stop();
  });

  it('a breakdown stops the crane for its repair time and reports it, then the job completes', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const asrs = await SimulatedAsrs.start(asrsSpec, layout, { site, link, clock });
    const far = asrsLocs.at(-1)!;
    link.deliver(wcsTopic({ site, deviceClass: 'asrs', deviceId: asrsSpec.id }, 'job'), job(asrsSpec.id, 'r1', 'retrieve', { binId: 'B9', locationId: far.id, portId: port }));
    clock.advance(3000);
    asrs.injectFault({ kind: 'breakdown', durationMs: 20_000 });
    const during = states(link).at(-1);
    expect(during?.errors.map((e) => [e.errorType, e.errorLevel])).toEqual([['breakdown', 'WARNING']]);
    expect(during?.actionStates[0]?.actionStatus).toBe('PAUSED');
    clock.advance(1000);
    expect(decodeWcs('telemetry', link.on('telemetry').at(-1)!).deviceState).toBe('FAULT');
    const done = until(clock, link, 'r1');
    const nominal = (craneMoveTime(PORT_POINT, rp(far), crane) * 2 + 4) * 1000;
    expect(done).toBe(Math.ceil((nominal + 20_000) / 10) * 10);
    expect(states(link).at(-1)?.errors).toEqual([]);
    expect(asrs.utilization().faultMs).toBe(20_000);
    await asrs.stop();
  });
});

describe('arm station', () => {
  const pick = (qty: number): Record<string, string> => ({ sku: 'SKU-0001', quantity: String(qty), sourceLoadId: 'BIN-1', targetLoadId: 'T-1' });
  const armTopic = wcsTopic({ site, deviceClass: 'arm', deviceId: armSpec.id }, 'job');

  it('a slowdown to half speed doubles what is left of a pick', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const arm = await SimulatedArm.start(armSpec, { site, link, clock });
    link.deliver(armTopic, job(armSpec.id, 'k1', 'pick', pick(2)));
    clock.advance(2000);
    arm.injectFault({ kind: 'slowdown', durationMs: 60_000, factor: 0.5 });
    // 2 x 3 s nominal: 2 s done, 4 s left at half speed = 8 s.
    expect(until(clock, link, 'k1')).toBe(10_000);
    await arm.stop();
  });

  it('with a seed, pick times vary around pickTime and replay exactly; a mispick fails after the move', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const clock = new ManualClock(0);
      const link = new LoopbackLink();
      const arm = await SimulatedArm.start(armSpec, { site, link, clock }, { rng: createRng(seed), mispickRate: 0 });
      const ends: number[] = [];
      for (let i = 0; i < 5; i++) {
        link.deliver(armTopic, job(armSpec.id, `k${i}`, 'pick', pick(1)));
        ends.push(until(clock, link, `k${i}`, 1));
      }
      await arm.stop();
      return ends;
    };
    const a = await run(1);
    expect(await run(1)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
    const durations = a.map((t, i) => t - (i === 0 ? 0 : (a[i - 1] as number)));
    expect(new Set(durations).size).toBeGreaterThan(1);

    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const arm = await SimulatedArm.start(armSpec, { site, link, clock }, { rng: createRng(3), mispickRate: 1 });
    link.deliver(armTopic, job(armSpec.id, 'm1', 'pick', pick(2)));
    const failedAt = until(clock, link, 'm1', 1);
    expect(failedAt).toBeGreaterThan(0);
    expect(states(link).at(-1)?.actionStates[0]?.resultDescription).toMatch(/^mispick: /);
    expect(arm.mispicksCaught).toBe(1);
    expect(arm.unitsPicked).toBe(0);
    await arm.stop();
  });

  it('a disconnect publishes the last will, ignores what is sent meanwhile, then comes back ONLINE', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const arm = await SimulatedArm.start(armSpec, { site, link, clock });
    expect(arm.faultKinds).toContain('disconnect');
    const connection = (): string[] => link.on('connection').map((p) => decodeWcs('connection', p).connectionState);
    expect(connection()).toEqual(['ONLINE']);
    arm.injectFault({ kind: 'disconnect', durationMs: 5000 });
    expect(connection()).toEqual(['ONLINE', 'CONNECTIONBROKEN']);
    link.deliver(armTopic, job(armSpec.id, 'lost', 'pick', pick(1)));
    clock.advance(5000);
    expect(connection()).toEqual(['ONLINE', 'CONNECTIONBROKEN', 'ONLINE']);
    expect(states(link).some((s) => s.jobId === 'lost')).toBe(false);
    // Heard again: the core's resend is accepted.
    link.deliver(armTopic, job(armSpec.id, 'lost', 'pick', pick(1)));
    expect(until(clock, link, 'lost')).toBe(5000 + 3000);
    await arm.stop();
  });
});

describe('conveyor faults', () => {
  const topic = wcsTopic({ site, deviceClass: 'conveyor', deviceId: conveyorSpec.id }, 'job');
  const [s0, s2] = [conveyorSpec.stops[0]!, conveyorSpec.stops[2]!];

  it('a jam stops the belt for its duration; a slowdown stretches the rest of the trip', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const conveyor = await SimulatedConveyor.start(conveyorSpec, { site, link, clock });
    link.deliver(topic, job(conveyorSpec.id, 't1', 'transport', { loadId: 'L1', from: s0.id, to: s2.id }));
    const metres = s2.at - s0.at;
    clock.advance(2000);
    conveyor.injectFault({ kind: 'jam', durationMs: 7000 });
    clock.advance(1000);
    expect(decodeWcs('telemetry', link.on('telemetry').at(-1)!).deviceState).toBe('FAULT');
    clock.advance(6000);
    // 2 s moved, 7 s jammed; now half speed for the rest.
    conveyor.injectFault({ kind: 'slowdown', durationMs: 600_000, factor: 0.5 });
    const end = until(clock, link, 't1');
    expect(end).toBe(9000 + (metres - 2) * 2000);
    const u = conveyor.utilization();
    expect(u.faultMs).toBe(7000);
    expect(u.busyMs).toBe(end - 7000);
    await conveyor.stop();
  });

  it('a tote for a full AS/RS port goes round the loop until the port has room', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const ports = new PortBuffers(1, clock);
    ports.declare([port]);
    ports.put(port, 'inbound', 'ALREADY-THERE');
    const conveyor = await SimulatedConveyor.start(conveyorSpec, { site, link, clock }, { ports });
    const from = conveyorSpec.stops.find((s) => s.id !== port)!;
    link.deliver(topic, job(conveyorSpec.id, 't2', 'transport', { loadId: 'L2', from: from.id, to: port }));
    // From 4 m round to 0 m (40 m loop) is 36 s, then a lap every 40 s: 36, 76, 116, 156 s.
    clock.advance(120_000);
    expect(statusOf(link, 't2')).toBe('RUNNING');
    expect(conveyor.belt.recirculations).toBe(3);
    ports.take(port, 'inbound', 'ALREADY-THERE');
    expect(until(clock, link, 't2', 1)).toBe(156_000);
    expect(ports.bins(port, 'inbound')).toEqual(['L2']);
    await conveyor.stop();
  });
});

describe('AMR utilization and faults', () => {
  const spec = layout.devices.amrs[0]!;
  const addr = { interfaceName: 'uagv', manufacturer: spec.manufacturer, serialNumber: spec.serialNumber };
  const run = (clock: ManualClock, done: () => boolean, max = 120_000): number => {
    const start = clock.now();
    while (!done()) {
      if (clock.now() - start > max) throw new Error('never got there');
      clock.advance(50);
    }
    return clock.now();
  };

  it('counts the time it stands at the end of its base waiting for more as blocked', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const amr = await SimulatedAmr.start({ layout, spec, interfaceName: 'uagv', link, clock });
    // Away from the chargers on n-00-00..n-03-00, where a robot with no released path would charge.
    const order = testOrder(addr, 'o1', ['n-00-00', 'n-00-01', 'n-00-02']);
    // Only the first hop is released: the rest is horizon, held back by traffic control.
    order.nodes[2]!.released = false;
    order.edges[1]!.released = false;
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order));
    const states = (): VdaState[] => link.on('state').map((p) => decodeVda('state', p));
    const arrived = run(clock, () => states().some((s) => s.lastNodeId === 'n-00-01' && !s.driving));
    clock.advance(30_000);
    const u = amr.utilization();
    expect(u.blockedMs).toBeGreaterThanOrEqual(30_000);
    expect(u.busyMs).toBeGreaterThan(0);
    expect(u.busyMs + u.idleMs + u.blockedMs + u.chargingMs + u.faultMs).toBe(clock.now());
    expect(amr.blockedMs).toBe(u.blockedMs);
    expect(arrived).toBeGreaterThan(0);
    await amr.stop();
  });

  it('a breakdown stops it where it is with a FATAL error for the repair time; it then finishes the order', async () => {
    const nodes = ['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00', 'n-04-00', 'n-05-00'];
    const drive = async (breakdown: boolean): Promise<number> => {
      const clock = new ManualClock(0);
      const link = new LoopbackLink();
      const amr = await SimulatedAmr.start({ layout, spec, interfaceName: 'uagv', link, clock });
      link.deliver(vdaTopic(addr, 'order'), encodeVda('order', testOrder(addr, 'o1', nodes)));
      const states = (): VdaState[] => link.on('state').map((p) => decodeVda('state', p));
      if (breakdown) {
        clock.advance(3000);
        amr.injectFault({ kind: 'breakdown', durationMs: 15_000 });
        const s = states().at(-1);
        expect(s?.driving).toBe(false);
        expect(s?.errors.map((e) => [e.errorType, e.errorLevel])).toEqual([['breakdown', 'FATAL']]);
        const x = s?.agvPosition?.x;
        clock.advance(10_000);
        expect(states().at(-1)?.agvPosition?.x).toBe(x);
      }
      const t = run(clock, () => states().some((s) => s.lastNodeId === 'n-05-00' && !s.driving));
      expect(states().at(-1)?.errors).toEqual([]);
      if (breakdown) expect(amr.utilization().faultMs).toBe(15_000);
      await amr.stop();
      return t;
    };
    const plain = await drive(false);
    const broken = await drive(true);
    // The repair time plus braking and re-accelerating from a standstill mid-run.
    expect(broken - plain).toBeGreaterThanOrEqual(15_000);
    expect(broken - plain).toBeLessThan(15_000 + 4000);
  });
});

describe('AS/RS and conveyor sharing the port queues', () => {
  it('the belt takes retrieved bins off the port, brings them back to its inbound queue, and the store takes them from there', async () => {
    const clock = new ManualClock(0);
    const ports = new PortBuffers(2, clock);
    const asrsLink = new LoopbackLink();
    const beltLink = new LoopbackLink();
    const asrs = await SimulatedAsrs.start(asrsSpec, layout, { site, link: asrsLink, clock }, { ports });
    const conveyor = await SimulatedConveyor.start(conveyorSpec, { site, link: beltLink, clock }, { ports });
    const asrsTopic = wcsTopic({ site, deviceClass: 'asrs', deviceId: asrsSpec.id }, 'job');
    const beltTopic = wcsTopic({ site, deviceClass: 'conveyor', deviceId: conveyorSpec.id }, 'job');
    const loc = asrsLocs[0]!;
    asrsLink.deliver(asrsTopic, job(asrsSpec.id, 'r', 'retrieve', { binId: 'B1', locationId: loc.id, portId: port }));
    until(clock, asrsLink, 'r');
    expect(ports.bins(port, 'outbound')).toEqual(['B1']);
    beltLink.deliver(beltTopic, job(conveyorSpec.id, 'out', 'transport', { loadId: 'B1', from: port, to: 'arm-st-1' }));
    clock.advance(10);
    expect(ports.bins(port, 'outbound')).toEqual([]);
    until(clock, beltLink, 'out');
    beltLink.deliver(beltTopic, job(conveyorSpec.id, 'back', 'transport', { loadId: 'B1', from: 'arm-st-1', to: port }));
    until(clock, beltLink, 'back');
    expect(ports.bins(port, 'inbound')).toEqual(['B1']);
    asrsLink.deliver(asrsTopic, job(asrsSpec.id, 's', 'store', { binId: 'B1', locationId: loc.id, portId: port }));
    until(clock, asrsLink, 's');
    expect(ports.bins(port, 'inbound')).toEqual([]);
    expect(ports.utilization(port)?.busyMs).toBeGreaterThan(0);
    await asrs.stop();
    await conveyor.stop();
  });
});
