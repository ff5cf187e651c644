/**
 * Cancels reach the simulated devices: wcs `cancelJob` drops a queued job or stops a running one
 * (reported FAILED `canceled`), and a VDA `cancelOrder` leaves the vehicle idle and free for the
 * next order.
 */
import { testOrder } from './test-orders.js';
import { describe, expect, it } from 'vitest';
import { VDA_VERSION, WCS_VERSION, decodeVda, decodeWcs, encodeVda, encodeWcs, vdaTopic, wcsTopic, type VdaAction, type VdaOrder, type WcsJobState } from '../protocols/index.js';
import { SimulatedAmr } from './amr.js';
import { SimulatedArm } from './arm.js';
import { SimulatedAsrs } from './asrs.js';
import { ManualClock } from './clock.js';
import { generateDemoLayout } from './sites/generate-demo.js';
import { LoopbackLink } from './test-link.js';
import { CANCELED_RESULT } from './wcs-runner.js';

const layout = generateDemoLayout(1);
const site = layout.site.id;
const header = { headerId: 1, timestamp: new Date(0).toISOString(), version: WCS_VERSION, site };

function job(deviceId: string, jobId: string, type: string, params: Record<string, string>): Uint8Array {
  return encodeWcs('job', {
    header: { ...header, deviceId },
    jobId,
    jobUpdateId: 0,
    actions: [{ actionId: `${jobId}-a1`, actionType: type, blockingType: 'HARD', actionParameters: Object.entries(params).map(([key, value]) => ({ key, value })) }],
  });
}

function cancelJob(deviceId: string, jobId: string): Uint8Array {
  return encodeWcs('instantActions', {
    header: { ...header, deviceId },
    actions: [{ actionId: `cancel-${jobId}`, actionType: 'cancelJob', blockingType: 'HARD', actionParameters: [{ key: 'jobId', value: jobId }] }],
  });
}

const states = (link: LoopbackLink): WcsJobState[] => link.on('jobState').map((p) => decodeWcs('jobState', p));
const lastOf = (link: LoopbackLink, jobId: string): WcsJobState | undefined => states(link).filter((s) => s.jobId === jobId).at(-1);

function asrsSetup(): { spec: NonNullable<(typeof layout.devices.asrs)[number]>; locs: (typeof layout.locations)[number][] } {
  const spec = layout.devices.asrs[0];
  if (spec === undefined) throw new Error('no asrs');
  const locs = layout.locations.filter((l) => l.asrsId === spec.id);
  if (locs.length < 2) throw new Error('too few asrs locations');
  return { spec, locs };
}

describe('wcs cancelJob in the simulated devices', () => {
  it('stops a running AS/RS job where it is and starts the next queued one', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const { spec, locs } = asrsSetup();
    const asrs = await SimulatedAsrs.start(spec, layout, { site, link, clock });
    const jobTopic = wcsTopic({ site, deviceClass: 'asrs', deviceId: spec.id }, 'job');
    const port = spec.ports[0]?.id ?? '';
    const [a, b] = locs as [(typeof locs)[number], (typeof locs)[number]];
    link.deliver(jobTopic, job(spec.id, 'j1', 'retrieve', { binId: a.binId ?? '', locationId: a.id, portId: port }));
    link.deliver(jobTopic, job(spec.id, 'j2', 'retrieve', { binId: b.binId ?? '', locationId: b.id, portId: port }));
    clock.advance(500);
    expect(lastOf(link, 'j1')?.actionStates[0]?.actionStatus).toBe('RUNNING');
    link.deliver(wcsTopic({ site, deviceClass: 'asrs', deviceId: spec.id }, 'instantActions'), cancelJob(spec.id, 'j1'));
    expect(lastOf(link, 'j1')?.actionStates[0]).toMatchObject({ actionStatus: 'FAILED', resultDescription: CANCELED_RESULT });
    // The machine is free again: the queued job starts at once and finishes normally.
    expect(lastOf(link, 'j2')?.actionStates[0]?.actionStatus).toBe('RUNNING');
    for (let i = 0; i < 600 && lastOf(link, 'j2')?.actionStates[0]?.actionStatus !== 'FINISHED'; i++) clock.advance(100);
    expect(lastOf(link, 'j2')?.actionStates[0]?.actionStatus).toBe('FINISHED');
    // The canceled retrieve never completed: only the second bin stands on the port.
    clock.advance(1000);
    const telemetry = decodeWcs('telemetry', link.on('telemetry').at(-1) ?? new Uint8Array());
    expect(telemetry.loads.map((l) => l.loadId)).toEqual([b.binId]);
    expect(asrs.runner.canceled).toBe(1);
    expect(asrs.runner.completed).toBe(1);
    // Canceled stays canceled: time passing does not revive it.
    expect(lastOf(link, 'j1')?.actionStates[0]?.actionStatus).toBe('FAILED');
    await asrs.stop();
  });

  it('drops a queued job without running it, and a cancel that came before its job', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const spec = layout.devices.arms[0];
    if (spec === undefined) throw new Error('no arm');
    const arm = await SimulatedArm.start(spec, { site, link, clock });
    const jobTopic = wcsTopic({ site, deviceClass: 'arm', deviceId: spec.id }, 'job');
    const instant = wcsTopic({ site, deviceClass: 'arm', deviceId: spec.id }, 'instantActions');
    const pick = { sku: 'SKU-0001', quantity: '2', sourceLoadId: 'BIN-1', targetLoadId: 'T-1' };
    link.deliver(jobTopic, job(spec.id, 'k1', 'pick', pick));
    link.deliver(jobTopic, job(spec.id, 'k2', 'pick', pick));
    link.deliver(instant, cancelJob(spec.id, 'k2'));
    expect(lastOf(link, 'k2')?.actionStates[0]).toMatchObject({ actionStatus: 'FAILED', resultDescription: CANCELED_RESULT });
    expect(arm.runner.queueLength).toBe(0);
    // A cancel for a job not seen yet: the job fails as soon as it arrives and never runs.
    link.deliver(instant, cancelJob(spec.id, 'k3'));
    link.deliver(jobTopic, job(spec.id, 'k3', 'pick', pick));
    expect(lastOf(link, 'k3')?.actionStates[0]).toMatchObject({ actionStatus: 'FAILED', resultDescription: CANCELED_RESULT });
    clock.advance(60_000);
    expect(lastOf(link, 'k1')?.actionStates[0]?.actionStatus).toBe('FINISHED');
    expect(arm.unitsPicked).toBe(2);
    // A repeated cancel of a finished job changes nothing.
    link.deliver(instant, cancelJob(spec.id, 'k1'));
    expect(lastOf(link, 'k1')?.actionStates[0]?.actionStatus).toBe('FINISHED');
    expect(arm.runner.canceled).toBe(2);
    await arm.stop();
  });
});

describe('VDA cancelOrder in the simulated AMR', () => {
  const spec = layout.devices.amrs[0];
  if (spec === undefined) throw new Error('demo layout has no AMR');
  const addr = { interfaceName: 'uagv', manufacturer: spec.manufacturer, serialNumber: spec.serialNumber };
  const order = (orderId: string, nodeIds: string[], actions: Record<string, VdaAction[]>): VdaOrder => testOrder(addr, orderId, nodeIds, actions);


  it('fails the actions it did not reach, becomes idle and takes the next order', async () => {
    const clock = new ManualClock(Date.UTC(2025, 0, 1));
    const link = new LoopbackLink();
    await SimulatedAmr.start({ layout, spec, interfaceName: 'uagv', link, clock, initialBattery: 80 });
    const vdaStates = (): ReturnType<typeof decodeVda<'state'>>[] => link.on('state').map((p) => decodeVda('state', p));
    const pick: VdaAction = { actionId: 'o1-pick', actionType: 'pick', blockingType: 'HARD', actionParameters: [{ key: 'loadId', value: 'TOTE-1' }] };
    const drop: VdaAction = { actionId: 'o1-drop', actionType: 'drop', blockingType: 'HARD', actionParameters: [{ key: 'loadId', value: 'TOTE-1' }] };
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o1', ['n-00-00', 'n-01-00', 'n-02-00', 'n-03-00'], { 'n-02-00': [pick], 'n-03-00': [drop] })));
    clock.advance(1500);
    expect(vdaStates().at(-1)?.driving).toBe(true);
    link.deliver(
      vdaTopic(addr, 'instantActions'),
      encodeVda('instantActions', { headerId: 2, timestamp: new Date(0).toISOString(), version: VDA_VERSION, ...addr, actions: [{ actionId: 'c1', actionType: 'cancelOrder', blockingType: 'HARD' }] }),
    );
    for (let i = 0; i < 100 && !vdaStates().some((s) => s.actionStates.some((a) => a.actionId === 'c1' && a.actionStatus === 'FINISHED')); i++) clock.advance(50);
    const s = vdaStates().at(-1);
    expect(s?.actionStates.filter((a) => a.actionId.startsWith('o1-')).map((a) => a.actionStatus)).toEqual(['FAILED', 'FAILED']);
    // Idle as the core judges it: no path left, nothing unfinished, standing still.
    expect(s?.nodeStates).toEqual([]);
    expect(s?.edgeStates).toEqual([]);
    expect(s?.actionStates.every((a) => a.actionStatus === 'FINISHED' || a.actionStatus === 'FAILED')).toBe(true);
    clock.advance(2000);
    expect(vdaStates().at(-1)?.driving).toBe(false);
    const stoppedAt = vdaStates().at(-1)?.lastNodeId ?? '';
    expect(['n-00-00', 'n-01-00']).toContain(stoppedAt);
    // A new order from where it stopped is accepted and driven to the end.
    link.deliver(vdaTopic(addr, 'order'), encodeVda('order', order('o2', [stoppedAt, 'n-02-00'], {})));
    for (let i = 0; i < 1000 && !vdaStates().some((x) => x.orderId === 'o2' && x.lastNodeId === 'n-02-00' && !x.driving); i++) clock.advance(50);
    const last = vdaStates().at(-1);
    expect(last).toMatchObject({ orderId: 'o2', lastNodeId: 'n-02-00', driving: false });
    expect(last?.errors ?? []).toEqual([]);
  });
});
