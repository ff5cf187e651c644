/**
 * The conveyor model on the bundled goods-to-robot loop (spurs to every port and station):
 * hand-computed trip times, and a burst of totes held to the merge gap.
 */
import { describe, expect, it } from 'vitest';
import { WCS_VERSION, decodeWcs, encodeWcs, wcsTopic, type WcsJobState } from '../protocols/index.js';
import { ManualClock } from './clock.js';
import { SimulatedConveyor, STOP_BLOCKED } from './conveyor.js';
import { generateG2rLayout } from './sites/generate-g2r.js';
import { LoopbackLink } from './test-link.js';

const layout = generateG2rLayout(1);
const spec = layout.devices.conveyors[0]!;
const site = layout.site.id;
const topic = wcsTopic({ site, deviceClass: 'conveyor', deviceId: spec.id }, 'job');
const transport = (jobId: string, loadId: string, from: string, to: string, jobUpdateId = 0): Uint8Array =>
  encodeWcs('job', {
    header: { headerId: 1 + jobUpdateId, timestamp: new Date(0).toISOString(), version: WCS_VERSION, site, deviceId: spec.id },
    jobId,
    jobUpdateId,
    actions: [{ actionId: `${jobId}-a`, actionType: 'transport', blockingType: 'HARD', actionParameters: [{ key: 'loadId', value: loadId }, { key: 'from', value: from }, { key: 'to', value: to }] }],
  });
const finishedAt = (link: LoopbackLink): Map<string, number> => {
  const m = new Map<string, number>();
  for (const p of link.published.filter((x) => x.topic.endsWith('/jobState'))) {
    const s: WcsJobState = decodeWcs('jobState', p.payload);
    if (s.actionStates[0]?.actionStatus === 'FINISHED' && !m.has(s.jobId)) m.set(s.jobId, Number(s.header.timestamp === '' ? 0 : Date.parse(s.header.timestamp)));
  }
  return m;
};

describe('conveyor on the g2r loop', () => {
  it('a trip is merge spur + loop + divert spur at belt speed', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const conveyor = await SimulatedConveyor.start(spec, { site, link, clock, telemetryMs: 600_000 });
    // asrs-1-p1 sits at 4 m: merge spur (3 m) joins at 5 m; arm-st-1 at 80 m: divert spur (4 m) leaves at 79 m.
    link.deliver(topic, transport('j1', 'B1', 'asrs-1-p1', 'arm-st-1'));
    clock.advance(200_000);
    expect(finishedAt(link).get('j1')).toBe((3 + (79 - 5) + 4) * 1000);
    await conveyor.stop();
  });

  it('a burst from one port joins the loop one merge gap apart and arrives at the station that far apart', async () => {
    const clock = new ManualClock(0);
    const link = new LoopbackLink();
    const conveyor = await SimulatedConveyor.start(spec, { site, link, clock, telemetryMs: 600_000 });
    for (let i = 0; i < 8; i++) link.deliver(topic, transport(`j${i}`, `B${i}`, 'asrs-1-p1', 'arm-st-1'));
    clock.advance(3_600_000);
    const done = finishedAt(link);
    expect(done.size).toBe(8);
    // The merge spur spaces totes one pitch (0.8 m) apart, but the loop takes one only into a
    // 1.2 m gap: the burst runs at 1.2 s per tote, the first after 81 s.
    const times = [...done.values()].sort((a, b) => a - b);
    expect(Math.abs((times[0] as number) - 81_000)).toBeLessThanOrEqual(1);
    for (let i = 1; i < times.length; i++) expect(Math.abs((times[i] as number) - (times[i - 1] as number) - 1200)).toBeLessThanOrEqual(2);
    const u = conveyor.utilization();
    expect(u.busyMs + u.blockedMs + u.idleMs).toBe(3_600_000);
    await conveyor.stop();
  });
  describe('a blocked station infeed', () => {
    const lastState = (link: LoopbackLink, jobId: string): WcsJobState | undefined =>
      link.published
        .filter((x) => x.topic.endsWith('/jobState'))
        .map((p) => decodeWcs('jobState', p.payload))
        .filter((s) => s.jobId === jobId)
        .at(-1);

    it('reports stopBlocked on the job and takes a job update to another station while the tote is on the loop', async () => {
      const clock = new ManualClock(0);
      const link = new LoopbackLink();
      const conveyor = await SimulatedConveyor.start(spec, { site, link, clock, telemetryMs: 600_000 });
      conveyor.blockStop('arm-st-1');
      link.deliver(topic, transport('j1', 'B1', 'asrs-1-p1', 'arm-st-1'));
      clock.advance(10_000);
      const blocked = lastState(link, 'j1')!;
      expect(blocked.errors.map((e) => [e.errorType, e.errorLevel])).toEqual([[STOP_BLOCKED, 'WARNING']]);
      expect(blocked.errors[0]?.errorReferences).toContainEqual({ referenceKey: 'stopId', referenceValue: 'arm-st-1' });
      link.deliver(topic, transport('j1', 'B1', 'asrs-1-p1', 'arm-st-2', 1));
      clock.advance(200_000);
      const done = lastState(link, 'j1')!;
      expect(done).toMatchObject({ jobUpdateId: 1, errors: [] });
      expect(done.actionStates[0]).toMatchObject({ actionStatus: 'FINISHED', resultDescription: 'load=B1 at=arm-st-2' });
      await conveyor.stop();
    });

    it('refuses an update for a tote already in its station spur, which then waits there until unblocked', async () => {
      const clock = new ManualClock(0);
      const link = new LoopbackLink();
      const conveyor = await SimulatedConveyor.start(spec, { site, link, clock, telemetryMs: 600_000 });
      link.deliver(topic, transport('j1', 'B1', 'asrs-1-p1', 'arm-st-1'));
      // Merge spur 3 s, loop 5 m -> 79 m 74 s, then into the 4 m divert spur: in it at 78 s.
      clock.advance(79_000);
      conveyor.blockStop('arm-st-1');
      link.deliver(topic, transport('j1', 'B1', 'asrs-1-p1', 'arm-st-2', 1));
      clock.advance(60_000);
      const refused = lastState(link, 'j1')!;
      expect(refused.actionStates[0]?.actionStatus).toBe('RUNNING');
      expect(refused.errors.find((e) => e.errorType === 'jobUpdateError')?.errorDescription).toMatch(/already in the spur to arm-st-1/);
      conveyor.unblockStop('arm-st-1');
      clock.advance(10_000);
      expect(lastState(link, 'j1')!.actionStates[0]).toMatchObject({ actionStatus: 'FINISHED', resultDescription: 'load=B1 at=arm-st-1' });
      await conveyor.stop();
    });
  });
});
