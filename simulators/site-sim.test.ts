import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRecorder, startTestBroker, type Recorder, type TestBroker } from '../devices/test-broker.js';
import { VDA_VERSION, decodeVda, decodeWcs, encodeVda, vdaTopic, wcsTopic, type VdaOrder } from '../protocols/index.js';
import { loadSiteLayout } from '../src/index.js';
import { scaledClock } from './clock.js';
import { startSimulatedSite, type SimulatedSite } from './site-sim.js';

const layout = loadSiteLayout('demo');
const amr = { interfaceName: 'uagv', manufacturer: 'pickwire-sim', serialNumber: 'amr-01' };

describe('simulated site over a real broker', () => {
  let broker: TestBroker;
  let core: Recorder;
  let site: SimulatedSite;

  beforeAll(async () => {
    broker = await startTestBroker();
    core = await connectRecorder(broker.url, [vdaTopic(amr, 'state'), 'wcs/v1/demo/+/+/connection', 'uagv/v2/+/+/connection']);
    // Ten simulated seconds per real second keeps the test short; the physics are unchanged.
    site = await startSimulatedSite({ layout, mqttUrl: broker.url, interfaceName: 'uagv', clock: scaledClock(10) });
  });

  afterAll(async () => {
    await site.stop();
    await core.close();
    await broker.close();
  });

  it('brings every device online as its own client', async () => {
    expect(site.devices.amrs).toHaveLength(10);
    for (const id of ['asrs-1', 'conv-1', 'arm-1', 'arm-2']) {
      const cls = id.startsWith('asrs') ? 'asrs' : id.startsWith('conv') ? 'conveyor' : 'arm';
      const conn = await core.waitFor(wcsTopic({ site: 'demo', deviceClass: cls, deviceId: id }, 'connection'));
      expect(decodeWcs('connection', conn).connectionState).toBe('ONLINE');
    }
    const amr10 = await core.waitFor(vdaTopic({ ...amr, serialNumber: 'amr-10' }, 'connection'));
    expect(decodeVda('connection', amr10).connectionState).toBe('ONLINE');
  });

  it('executes a VDA order with a pick and reports it FINISHED', async () => {
    const order: VdaOrder = {
      headerId: 1,
      timestamp: new Date().toISOString(),
      version: VDA_VERSION,
      manufacturer: amr.manufacturer,
      serialNumber: amr.serialNumber,
      orderId: 'live-1',
      orderUpdateId: 0,
      nodes: [
        { nodeId: 'n-00-00', sequenceId: 0, released: true, actions: [] },
        // North, off the parking row: n-01-00 is where amr-02 stands, and robots do not collide.
        { nodeId: 'n-00-01', sequenceId: 2, released: true, actions: [{ actionId: 'pick-1', actionType: 'pick', blockingType: 'HARD', actionParameters: [{ key: 'loadId', value: 'TOTE-1' }] }] },
      ],
      edges: [{ edgeId: 'n-00-00_n-00-01', sequenceId: 1, released: true, startNodeId: 'n-00-00', endNodeId: 'n-00-01', actions: [] }],
    };
    await core.client.publishAsync(vdaTopic(amr, 'order'), encodeVda('order', order), { qos: 1 });
    const done = await core.waitFor(
      vdaTopic(amr, 'state'),
      (p) => decodeVda('state', p).actionStates.some((a) => a.actionId === 'pick-1' && a.actionStatus === 'FINISHED'),
      5000,
    );
    const state = decodeVda('state', done);
    expect(state).toMatchObject({ orderId: 'live-1', lastNodeId: 'n-00-01', driving: false, loads: [{ loadId: 'TOTE-1' }] });
    expect(state.agvPosition).toMatchObject({ x: 0, y: 2, mapId: 'demo-floor' });
    expect(site.nodeConflicts).toBe(0);
  });
});
