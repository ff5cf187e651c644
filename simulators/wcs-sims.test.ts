import { describe, expect, it } from 'vitest';
import { WCS_VERSION, decodeWcs, encodeWcs, wcsTopic, type WcsAction, type WcsJobState } from '../protocols/index.js';
import { SimulatedArm } from './arm.js';
import { SimulatedAsrs } from './asrs.js';
import { ManualClock } from './clock.js';
import { SimulatedConveyor } from './conveyor.js';
import { DEFAULT_CRANE, PORT_POINT, retrieveTime } from './kinematics.js';
import { generateDemoLayout } from './sites/generate-demo.js';
import { LoopbackLink } from './test-link.js';

const layout = generateDemoLayout(1);
const site = layout.site.id;

function job(deviceClass: 'asrs' | 'conveyor' | 'arm', deviceId: string, jobId: string, actions: { type: string; params: Record<string, string> }[]): Uint8Array {
  const wcsActions: WcsAction[] = actions.map((a, i) => ({
    actionId: `${jobId}-a${i}`,
    actionType: a.type,
    blockingType: 'HARD',
    actionParameters: Object.entries(a.params).map(([key, value]) => ({ key, value })),
  }));
  return encodeWcs('job', { header: { headerId: 1, timestamp: new Date(0).toISOString(), version: WCS_VERSION, site, deviceId }, jobId, jobUpdateId: 0, actions: wcsActions });
}

const states = (link: LoopbackLink): WcsJobState[] => link.on('jobState').map((p) => decodeWcs('jobState', p));
const finishedAt = (link: LoopbackLink, clock: ManualClock, actionId: string, stepMs = 100, maxMs = 600_000): number => {
  const start = clock.now();
  const done = (): WcsJobState | undefined => states(link).find((s) => s.actionStates.some((a) => a.actionId === actionId && (a.actionStatus === 'FINISHED' || a.actionStatus === 'FAILED')));
  while (done() === undefined) {
    if (clock.now() - start > maxMs) throw new Error(`${actionId} never finished`);
    clock.advance(stepMs);
  }
  return clock.now() - start;
};

describe('simulated AS/RS', () => {
  it('retrieves a bin to a port in the kinematic cycle time, FIFO', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const spec = layout.devices.asrs[0];
    if (spec === undefined) throw new Error('no asrs');
    const asrs = await SimulatedAsrs.start(spec, layout, { site, link, clock });
    const far = layout.locations.filter((l) => l.zone === 'asrs').sort((a, b) => (b.position ?? 0) - (a.position ?? 0))[0];
    if (far === undefined) throw new Error('no asrs location');
    const topic = wcsTopic({ site, deviceClass: 'asrs', deviceId: spec.id }, 'job');
    link.deliver(topic, job('asrs', spec.id, 'j1', [{ type: 'retrieve', params: { binId: far.binId ?? '', locationId: far.id, portId: 'asrs-1-p1' } }]));
    link.deliver(topic, job('asrs', spec.id, 'j2', [{ type: 'retrieve', params: { binId: 'X', locationId: 'nowhere', portId: 'asrs-1-p1' } }]));
    const ms = finishedAt(link, clock, 'j1-a0', 10);
    const expected = retrieveTime(PORT_POINT, { position: far.position ?? 0, level: far.level ?? 0 }, { ...DEFAULT_CRANE, levelHeight: spec.levelHeight }) * 1000;
    expect(Math.abs(ms - expected)).toBeLessThanOrEqual(10);
    const seen = [...new Set(states(link).filter((s) => s.jobId === 'j1').map((s) => s.actionStates[0]?.actionStatus))];
    expect(seen).toEqual(['WAITING', 'INITIALIZING', 'RUNNING', 'FINISHED']);
    // The second job waited for the first (one machine) and then failed on its bad location.
    finishedAt(link, clock, 'j2-a0');
    const j2 = states(link).filter((s) => s.jobId === 'j2').at(-1);
    expect(j2?.actionStates[0]).toMatchObject({ actionStatus: 'FAILED', resultDescription: 'unknown locationId nowhere' });
    clock.advance(1000);
    const telemetry = decodeWcs('telemetry', link.on('telemetry').at(-1) ?? new Uint8Array());
    expect(telemetry.loads).toEqual([{ loadId: far.binId, locationId: 'asrs-1-p1', position: 0 }]);
    await asrs.stop();
  });
});

describe('simulated conveyor and arm', () => {
  it('carries several totes at belt speed along the loop', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const spec = layout.devices.conveyors[0];
    if (spec === undefined) throw new Error('no conveyor');
    const conveyor = await SimulatedConveyor.start(spec, { site, link, clock });
    const topic = wcsTopic({ site, deviceClass: 'conveyor', deviceId: spec.id }, 'job');
    link.deliver(topic, job('conveyor', spec.id, 't1', [{ type: 'transport', params: { loadId: 'B1', from: 'asrs-1-p1', to: 'arm-st-1' } }]));
    link.deliver(topic, job('conveyor', spec.id, 't2', [{ type: 'transport', params: { loadId: 'B2', from: 'arm-st-2', to: 'asrs-1-p2' } }]));
    clock.advance(5000);
    const telemetry = decodeWcs('telemetry', link.on('telemetry').at(-1) ?? new Uint8Array());
    expect(telemetry.loads.map((l) => l.loadId).sort()).toEqual(['B1', 'B2']);
    // 0 -> 14 m at 1 m/s; 26 -> 4 m goes round: 18 m.
    expect(finishedAt(link, clock, 't1-a0')).toBe(14_000 - 5000);
    expect(finishedAt(link, clock, 't2-a0')).toBe(18_000 - 14_000);
    await conveyor.stop();
  });

  it('picks quantity x pickTime and reports picked=<n>', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const spec = layout.devices.arms[0];
    if (spec === undefined) throw new Error('no arm');
    const arm = await SimulatedArm.start(spec, { site, link, clock });
    link.deliver(
      wcsTopic({ site, deviceClass: 'arm', deviceId: spec.id }, 'job'),
      job('arm', spec.id, 'k1', [{ type: 'pick', params: { sku: 'SKU-0001', quantity: '3', sourceLoadId: 'BIN-0001', targetLoadId: 'T-9' } }]),
    );
    expect(finishedAt(link, clock, 'k1-a0')).toBe(3 * spec.pickTime * 1000);
    expect(states(link).at(-1)?.actionStates[0]).toMatchObject({ actionStatus: 'FINISHED', resultDescription: 'picked=3' });
    expect(arm.unitsPicked).toBe(3);
    await arm.stop();
  });
});
