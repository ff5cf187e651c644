/**
 * A scripted VDA 5050 vehicle for tests of how the core handles refusals: it reports a state
 * (so the core may send it work) and answers every order with actions the way the test says
 * (e.g. an `orderError`, as a vendor's vehicle does with parameters it cannot parse); plain
 * drives without actions it does at once, so traffic control can move it out of the way. Raw MQTT,
 * so it can say things the well-behaved device SDK never would.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { encodeVda, decodeVda, VDA_VERSION, vdaTopic, type VdaError, type VdaOrder, type VdaState } from '../../protocols/index.js';

export interface FakeVehicle {
  readonly orders: VdaOrder[];
  stop(): Promise<void>;
}

export async function startRefusingVehicle(opts: {
  url: string;
  interfaceName: string;
  manufacturer: string;
  serialNumber: string;
  lastNodeId: string;
  position: { x: number; y: number; mapId: string };
  /** The error the vehicle answers an order with. */
  refuse: (order: VdaOrder) => VdaError;
}): Promise<FakeVehicle> {
  const address = { interfaceName: opts.interfaceName, manufacturer: opts.manufacturer, serialNumber: opts.serialNumber };
  const client: MqttClient = await mqtt.connectAsync(opts.url, { clientId: `fake-${opts.serialNumber}`, protocolVersion: 4, clean: true });
  const orders: VdaOrder[] = [];
  let headerId = 0;
  const errors: VdaError[] = [];
  // Where it stands and what it drives: plain drives (no actions) it does at once, node by node
  // as far as released, so traffic control can move it out of others' way.
  const at = { orderId: '', orderUpdateId: 0, lastNodeId: opts.lastNodeId, lastNodeSequenceId: 0, x: opts.position.x, y: opts.position.y, ahead: [] as VdaOrder['nodes'] };
  const state = (): VdaState => ({
    headerId: headerId++,
    timestamp: new Date().toISOString(),
    version: VDA_VERSION,
    manufacturer: opts.manufacturer,
    serialNumber: opts.serialNumber,
    orderId: at.orderId,
    orderUpdateId: at.orderUpdateId,
    lastNodeId: at.lastNodeId,
    lastNodeSequenceId: at.lastNodeSequenceId,
    driving: false,
    paused: false,
    nodeStates: at.ahead.map((n) => ({ nodeId: n.nodeId, sequenceId: n.sequenceId, released: n.released })),
    edgeStates: [],
    agvPosition: { x: at.x, y: at.y, theta: 0, mapId: opts.position.mapId, positionInitialized: true },
    actionStates: [],
    batteryState: { batteryCharge: 90, charging: false },
    errors: [...errors],
    operatingMode: 'AUTOMATIC',
    safetyState: { eStop: 'NONE', fieldViolation: false },
  });
  const publishState = (): Promise<unknown> => client.publishAsync(vdaTopic(address, 'state'), Buffer.from(encodeVda('state', state())), { qos: 1 });
  client.on('message', (topic, payload) => {
    if (!topic.endsWith('/order')) return;
    const order = decodeVda('order', payload);
    orders.push(order);
    if (order.nodes.some((n) => n.actions.length > 0)) {
      errors.splice(0, errors.length, opts.refuse(order));
    } else {
      errors.splice(0, errors.length);
      const base = order.nodes.filter((n) => n.released);
      const last = base[base.length - 1];
      if (last) {
        Object.assign(at, { orderId: order.orderId, orderUpdateId: order.orderUpdateId, lastNodeId: last.nodeId, lastNodeSequenceId: last.sequenceId, x: last.nodePosition?.x ?? at.x, y: last.nodePosition?.y ?? at.y });
        at.ahead = order.nodes.filter((n) => !n.released);
      }
    }
    publishState().catch(() => undefined);
  });
  await client.subscribeAsync([vdaTopic(address, 'order'), vdaTopic(address, 'instantActions')], { qos: 1 });
  await client.publishAsync(
    vdaTopic(address, 'connection'),
    Buffer.from(encodeVda('connection', { headerId: 0, timestamp: new Date().toISOString(), version: VDA_VERSION, manufacturer: opts.manufacturer, serialNumber: opts.serialNumber, connectionState: 'ONLINE' })),
    { qos: 1, retain: true },
  );
  await publishState();
  // Heard from within the core's watchdog, like any vehicle that is up.
  const timer = setInterval(() => void publishState().catch(() => undefined), 1000);
  return {
    orders,
    async stop() {
      clearInterval(timer);
      await client.publishAsync(
        vdaTopic(address, 'connection'),
        Buffer.from(encodeVda('connection', { headerId: 1, timestamp: new Date().toISOString(), version: VDA_VERSION, manufacturer: opts.manufacturer, serialNumber: opts.serialNumber, connectionState: 'OFFLINE' })),
        { qos: 1, retain: true },
      );
      await client.endAsync();
    },
  };
}
