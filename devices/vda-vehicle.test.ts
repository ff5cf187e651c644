import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VDA_VERSION, decodeVda, encodeVda, vdaTopic, type VdaAction, type VdaOrder, type VdaState, type VdaTopicName } from '../protocols/index.js';
import { connectMqttLink } from './link.js';
import { connectRecorder, startTestBroker, type Recorder, type TestBroker } from './test-broker.js';
import { VdaVehicle, type VdaFactsheetBody } from './vda-vehicle.js';

const addr = { interfaceName: 'uagv', manufacturer: 'acme', serialNumber: 'agv-1' };
const topic = (t: VdaTopicName, a = addr): string => vdaTopic(a, t);
const header = (a = addr): Pick<VdaOrder, 'headerId' | 'timestamp' | 'version' | 'manufacturer' | 'serialNumber'> => ({
  headerId: 1,
  timestamp: new Date().toISOString(),
  version: VDA_VERSION,
  manufacturer: a.manufacturer,
  serialNumber: a.serialNumber,
});

const factsheet: VdaFactsheetBody = {
  typeSpecification: { seriesName: 'test', agvKinematic: 'DIFF', agvClass: 'CARRIER', maxLoadMass: 50, localizationTypes: ['NATURAL'], navigationTypes: ['PHYSICAL_LINE_GUIDED'] },
  physicalParameters: {},
  protocolLimits: {},
  protocolFeatures: { agvActions: [{ actionType: 'pick', actionScopes: ['NODE'] }] },
  agvGeometry: {},
  loadSpecification: {},
};

const pick = (actionId: string): VdaAction => ({ actionId, actionType: 'pick', blockingType: 'HARD', actionParameters: [{ key: 'loadId', value: 'T1' }] });

/** A path over `nodeIds`, node i with sequenceId first + 2i; the last `horizon` nodes unreleased. */
function order(orderId: string, orderUpdateId: number, nodeIds: string[], opts: { first?: number; horizon?: number; actions?: Record<string, VdaAction[]> } = {}): VdaOrder {
  const first = opts.first ?? 0;
  const released = (i: number): boolean => i < nodeIds.length - (opts.horizon ?? 0);
  return {
    ...header(),
    orderId,
    orderUpdateId,
    nodes: nodeIds.map((nodeId, i) => ({ nodeId, sequenceId: first + 2 * i, released: released(i), actions: opts.actions?.[nodeId] ?? [] })),
    edges: nodeIds.slice(1).map((to, i) => ({
      edgeId: `${nodeIds[i] ?? ''}-${to}`,
      sequenceId: first + 2 * i + 1,
      released: released(i + 1),
      startNodeId: nodeIds[i] ?? '',
      endNodeId: to,
      actions: [],
    })),
  };
}

describe('VdaVehicle', () => {
  let broker: TestBroker;
  let core: Recorder;
  let vehicle: VdaVehicle;
  const accepted: { orderId: string; orderUpdateId: number; isUpdate: boolean }[] = [];
  const instant: VdaAction[] = [];

  const send = async (o: VdaOrder | string): Promise<void> => {
    await core.client.publishAsync(topic('order'), typeof o === 'string' ? o : encodeVda('order', o), { qos: 1 });
  };
  const nextState = async (predicate: (s: VdaState) => boolean = () => true): Promise<VdaState> =>
    decodeVda('state', await core.waitFor(topic('state'), (p) => predicate(decodeVda('state', p))));
  const errorOf = async (type: string): Promise<VdaState['errors'][number]> => {
    const s = await nextState((st) => st.errors.some((e) => e.errorType === type));
    const e = s.errors.find((x) => x.errorType === type);
    if (e === undefined) throw new Error('unreachable');
    return e;
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    core = await connectRecorder(broker.url, [topic('state'), topic('connection'), topic('factsheet')]);
    vehicle = await VdaVehicle.connect({
      url: broker.url,
      ...addr,
      factsheet,
      initial: { lastNodeId: 'A', agvPosition: { x: 0, y: 0, theta: 0, mapId: 'm', positionInitialized: true }, batteryCharge: 90 },
    });
    vehicle.onOrder((o, isUpdate) => accepted.push({ orderId: o.orderId, orderUpdateId: o.orderUpdateId, isUpdate }));
    vehicle.onInstantAction((a) => {
      instant.push(a);
      if (a.actionType === 'cancelOrder') void vehicle.finishCancel();
    });
  });

  afterAll(async () => {
    await vehicle.close();
    await core.close();
    await broker.close();
  });

  it('announces ONLINE, a retained factsheet and its initial state', async () => {
    expect(decodeVda('connection', await core.waitFor(topic('connection'))).connectionState).toBe('ONLINE');
    expect(decodeVda('factsheet', await core.waitFor(topic('factsheet'))).typeSpecification.seriesName).toBe('test');
    const s = await nextState();
    expect(s).toMatchObject({ orderId: '', lastNodeId: 'A', batteryState: { batteryCharge: 90, charging: false }, operatingMode: 'AUTOMATIC' });
  });

  it('accepts a new order starting at lastNodeId and echoes it at once', async () => {
    core.clear();
    await send(order('o1', 0, ['A', 'B', 'C', 'D'], { horizon: 1, actions: { B: [pick('p1')] } }));
    const s = await nextState((st) => st.orderId === 'o1');
    expect(s.orderUpdateId).toBe(0);
    expect(s.nodeStates.map((n) => [n.nodeId, n.released])).toEqual([['A', true], ['B', true], ['C', true], ['D', false]]);
    expect(s.edgeStates.map((e) => e.released)).toEqual([true, true, false]);
    expect(s.actionStates).toEqual([{ actionId: 'p1', actionType: 'pick', actionStatus: 'WAITING' }]);
    expect(accepted).toEqual([{ orderId: 'o1', orderUpdateId: 0, isUpdate: false }]);
  });

  it('ignores the same orderId and orderUpdateId but re-publishes its state', async () => {
    core.clear();
    await send(order('o1', 0, ['A', 'B', 'C', 'D'], { horizon: 1, actions: { B: [pick('p1')] } }));
    expect((await nextState()).orderId).toBe('o1');
    expect(accepted).toHaveLength(1);
    expect(vehicle.stats.duplicateOrders).toBe(1);
  });

  it('rejects a lower orderUpdateId with orderUpdateError', async () => {
    await send(order('o1', 2, ['C', 'D', 'E'], { first: 4 }));
    await nextState((s) => s.orderUpdateId === 2);
    core.clear();
    await send(order('o1', 1, ['C', 'D'], { first: 4 }));
    const e = await errorOf('orderUpdateError');
    expect(e.errorReferences).toEqual([
      { referenceKey: 'orderId', referenceValue: 'o1' },
      { referenceKey: 'orderUpdateId', referenceValue: '1' },
    ]);
    expect(vehicle.state.orderUpdateId).toBe(2);
  });

  it('accepts a higher orderUpdateId only when it starts at the last base node', async () => {
    core.clear();
    // The base now ends at E (sequenceId 8); an update starting at D does not stitch.
    await send(order('o1', 3, ['D', 'F'], { first: 6 }));
    expect((await errorOf('orderUpdateError')).errorDescription).toMatch(/last base node E#8/);
    core.clear();
    await send(order('o1', 4, ['E', 'F', 'G'], { first: 8, horizon: 1 }));
    const s = await nextState((st) => st.orderUpdateId === 4);
    expect(s.nodeStates.map((n) => `${n.nodeId}#${n.sequenceId}`)).toEqual(['A#0', 'B#2', 'C#4', 'D#6', 'E#8', 'F#10', 'G#12']);
    expect(s.errors).toEqual([]);
    expect(accepted.at(-1)).toEqual({ orderId: 'o1', orderUpdateId: 4, isUpdate: true });
  });

  it('rejects a new orderId while the current order is active with orderError', async () => {
    core.clear();
    await send(order('o2', 0, ['A', 'B']));
    const e = await errorOf('orderError');
    expect(e.errorReferences?.[0]).toEqual({ referenceKey: 'orderId', referenceValue: 'o2' });
    expect(vehicle.state.orderId).toBe('o1');
  });

  it('rejects a new order that does not start where an idle vehicle stands with noRouteError', async () => {
    for (const [id, seq] of [['A', 0], ['B', 2], ['C', 4], ['D', 6], ['E', 8], ['F', 10]] as const) vehicle.reachedNode(id, seq);
    vehicle.setActionStatus('p1', 'FINISHED');
    expect(vehicle.orderActive).toBe(false); // only the horizon G is left
    core.clear();
    await send(order('o3', 0, ['X', 'Y']));
    await errorOf('noRouteError');
    core.clear();
    await send(order('o3', 1, ['F', 'Y']));
    const s = await nextState((st) => st.orderId === 'o3');
    expect(s.nodeStates.map((n) => n.nodeId)).toEqual(['F', 'Y']);
    expect(s.errors).toEqual([]);
  });

  it('accepts a new order whose first node lies within allowedDeviationXY of the vehicle', async () => {
    vehicle.reachedNode('F', 0);
    vehicle.reachedNode('Y', 2);
    vehicle.setPosition({ x: 10, y: 5, theta: 0, mapId: 'm', positionInitialized: true });
    const o = order('o4', 0, ['Q', 'R']);
    const q = o.nodes[0];
    if (q !== undefined) q.nodePosition = { x: 10.2, y: 5, mapId: 'm', allowedDeviationXY: 0.5 };
    core.clear();
    await send(o);
    expect((await nextState((s) => s.orderId === 'o4')).lastNodeId).toBe('Y');
  });

  it('rejects invalid orders with validationError', async () => {
    core.clear();
    await send(JSON.stringify({ ...header(), orderId: 'bad', orderUpdateId: 0, nodes: 'nope' }));
    const e = await errorOf('validationError');
    expect(e.errorReferences).toContainEqual({ referenceKey: 'orderId', referenceValue: 'bad' });
    core.clear();
    const broken = order('bad2', 0, ['R', 'S']);
    broken.edges = [];
    await send(broken);
    expect((await errorOf('validationError')).errorReferences).toContainEqual({ referenceKey: 'orderId', referenceValue: 'bad2' });
    expect(vehicle.stats.badMessages).toBe(1);
  });

  it('answers stateRequest and factsheetRequest', async () => {
    core.clear();
    const ia = { ...header(), actions: [{ actionId: 'sr1', actionType: 'stateRequest', blockingType: 'NONE' as const }, { actionId: 'fr1', actionType: 'factsheetRequest', blockingType: 'NONE' as const }] };
    await core.client.publishAsync(topic('instantActions'), encodeVda('instantActions', ia), { qos: 1 });
    expect((await nextState()).orderId).toBe('o4');
    await core.waitFor(topic('factsheet'));
  });

  it('cancels an order: unfinished actions FAILED, path cleared, cancelOrder FINISHED', async () => {
    vehicle.reachedNode('Q', 0);
    vehicle.reachedNode('R', 2);
    await send(order('o5', 0, ['R', 'S', 'T'], { actions: { T: [pick('p5')] } }));
    await nextState((s) => s.orderId === 'o5');
    core.clear();
    const ia = { ...header(), actions: [{ actionId: 'c1', actionType: 'cancelOrder', blockingType: 'HARD' as const }] };
    await core.client.publishAsync(topic('instantActions'), encodeVda('instantActions', ia), { qos: 1 });
    const s = await nextState((st) => st.actionStates.some((a) => a.actionId === 'c1' && a.actionStatus === 'FINISHED'));
    expect(s.nodeStates).toEqual([]);
    expect(s.actionStates.find((a) => a.actionId === 'p5')?.actionStatus).toBe('FAILED');
    expect(instant.map((a) => a.actionType)).toEqual(['cancelOrder']);
  });

  it('leaves CONNECTIONBROKEN as its last will when the socket dies', async () => {
    const other = { ...addr, serialNumber: 'agv-2' };
    await core.client.subscribeAsync(topic('connection', other), { qos: 1 });
    const link = await connectMqttLink({ url: broker.url, clientId: 'agv-2', will: VdaVehicle.lastWill(other), reconnectPeriod: 0 });
    const v2 = await VdaVehicle.connect({ link, ...other, factsheet, initial: { lastNodeId: 'A', agvPosition: { x: 0, y: 0, theta: 0, mapId: 'm', positionInitialized: true }, batteryCharge: 50 } });
    await core.waitFor(topic('connection', other), (p) => decodeVda('connection', p).connectionState === 'ONLINE');
    broker.kill('agv-2');
    await core.waitFor(topic('connection', other), (p) => decodeVda('connection', p).connectionState === 'CONNECTIONBROKEN');
    await v2.close(false);
  });
});
