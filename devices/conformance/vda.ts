/**
 * VDA 5050 2.0 conformance of a vehicle, judged on the wire as Pickwire's master control needs
 * it (DESIGN.md §2.1): retained `connection` ONLINE with a CONNECTIONBROKEN last will, a
 * factsheet, `state` answering `stateRequest`, the order acceptance rules (§6.6: echo, duplicate
 * ignored, stale or unstitched update refused, invalid order refused with an error naming it),
 * node/edge progress in `state`, headerId increasing per topic, ISO 8601 timestamps, and a
 * device that survives garbage on its order topic.
 */
import { VDA_VERSION, decodeVda, vdaTopic, type VdaEdge, type VdaNode, type VdaOrder, type VdaState, type VdaTopicName } from '../../protocols/index.js';
import { expectThat, increasing, isIsoTimestamp, sleep, type ConformanceCheck, type ConformanceSuite } from './checks.js';
import { retainedOn } from './probe.js';
import { DeviceSuiteRunner, type DeviceUnderTest } from './runner.js';

export interface VdaDeviceTarget extends DeviceUnderTest {
  interfaceName: string;
  manufacturer: string;
  serialNumber: string;
  /**
   * A short route starting at the node the vehicle stands on (at least two nodes), positions in
   * `mapId`. The vehicle drives it during the suite and ends on its last node.
   */
  route: { nodeId: string; x: number; y: number }[];
  mapId: string;
  /** Longest wait for the route to be driven (60 s by default). */
  routeTimeoutMs?: number;
}

const TOPICS: VdaTopicName[] = ['state', 'connection', 'factsheet', 'visualization'];

export function vdaConformanceSuite(t: VdaDeviceTarget): ConformanceSuite {
  const addr = { interfaceName: t.interfaceName, manufacturer: t.manufacturer, serialNumber: t.serialNumber };
  const topic = (name: VdaTopicName): string => vdaTopic(addr, name);
  const runner = new DeviceSuiteRunner(t);
  const { broker, p, timeout } = runner;
  const run = Math.random().toString(36).slice(2, 8);
  let headerId = 0;
  const states = (): VdaState[] => p().on(topic('state')).map((m) => decodeVda('state', m.payload));
  const header = (): { headerId: number; timestamp: string; version: string; manufacturer: string; serialNumber: string } => ({
    headerId: ++headerId,
    timestamp: new Date().toISOString(),
    version: VDA_VERSION,
    manufacturer: t.manufacturer,
    serialNumber: t.serialNumber,
  });
  const sendOrder = (order: VdaOrder | Record<string, unknown>): Promise<void> => p().publish(topic('order'), JSON.stringify(order));
  const instant = (actionType: string): Promise<void> =>
    p().publish(topic('instantActions'), JSON.stringify({ ...header(), actions: [{ actionId: `cf-${run}-${actionType}-${headerId}`, actionType, blockingType: 'NONE', actionParameters: [] }] }));
  /** Asks for state and returns the first state published after the request. */
  const freshState = async (): Promise<VdaState> => {
    const since = Date.now();
    const after = Math.max(0, ...states().map((s) => s.headerId));
    const waiting = p().waitFor(topic('state'), 'a state answering stateRequest', (b) => decodeVda('state', b).headerId > after, timeout, since);
    await instant('stateRequest');
    return decodeVda('state', (await waiting).payload);
  };
  const stateWhere = async (what: string, pred: (s: VdaState) => boolean, ms = timeout): Promise<VdaState> =>
    decodeVda('state', (await p().waitFor(topic('state'), what, (b) => pred(decodeVda('state', b)), ms)).payload);
  const errorFor = (s: VdaState, orderId: string, types: readonly string[]): boolean =>
    s.errors.some((e) => types.includes(e.errorType) && e.errorReferences?.some((r) => r.referenceKey === 'orderId' && r.referenceValue === orderId) === true);

  const route = t.route;
  const orderOf = (orderId: string, orderUpdateId: number, nodes: typeof route, firstSeq = 0): VdaOrder => {
    const vdaNodes: VdaNode[] = nodes.map((n, i) => ({ nodeId: n.nodeId, sequenceId: firstSeq + i * 2, released: true, nodePosition: { x: n.x, y: n.y, mapId: t.mapId, allowedDeviationXY: 0.1 }, actions: [] }));
    const edges: VdaEdge[] = nodes.slice(1).map((n, i) => ({
      edgeId: `cf-${(nodes[i] as (typeof nodes)[number]).nodeId}-${n.nodeId}`,
      sequenceId: firstSeq + i * 2 + 1,
      released: true,
      startNodeId: (nodes[i] as (typeof nodes)[number]).nodeId,
      endNodeId: n.nodeId,
      actions: [],
    }));
    return { ...header(), orderId, orderUpdateId, nodes: vdaNodes, edges };
  };
  const mainOrder = `cf-${run}-drive`;
  const lastSeq = (route.length - 1) * 2;
  const last = route[route.length - 1];

  const checks: ConformanceCheck[] = [
    {
      id: 'vda.connection.online',
      rule: 'connection is published retained, QoS 1, ONLINE, with the vehicle header (DESIGN.md §2.1)',
      run: async () => {
        const payload = await retainedOn(broker, topic('connection'), timeout);
        expectThat(payload !== undefined, 'no retained connection message');
        const c = decodeVda('connection', payload);
        expectThat(c.connectionState === 'ONLINE', `retained connectionState is ${c.connectionState}, expected ONLINE`);
        expectThat(c.manufacturer === t.manufacturer && c.serialNumber === t.serialNumber, `connection names ${c.manufacturer}/${c.serialNumber}`);
        expectThat(isIsoTimestamp(c.timestamp), `connection timestamp ${c.timestamp} is not ISO 8601`);
      },
    },
    {
      id: 'vda.factsheet',
      rule: 'a factsheet is published retained and validates against the VDA 5050 2.0 schema',
      run: async () => {
        const payload = await retainedOn(broker, topic('factsheet'), timeout);
        expectThat(payload !== undefined, 'no retained factsheet');
        const f = decodeVda('factsheet', payload);
        expectThat(f.manufacturer === t.manufacturer && f.serialNumber === t.serialNumber, `factsheet names ${f.manufacturer}/${f.serialNumber}`);
      },
    },
    {
      id: 'vda.state.request',
      rule: 'instant action stateRequest is answered with a fresh state that validates',
      run: async () => {
        const s = await freshState();
        expectThat(s.lastNodeId === (route[0]?.nodeId ?? ''), `vehicle reports lastNodeId ${s.lastNodeId}, the route starts at ${route[0]?.nodeId ?? '?'}`);
      },
    },
    {
      id: 'vda.order.accept',
      rule: 'an order is accepted by echoing orderId/orderUpdateId in state, with its nodes and edges as nodeStates/edgeStates',
      run: async () => {
        await sendOrder(orderOf(mainOrder, 0, route));
        const s = await stateWhere('the order echo', (x) => x.orderId === mainOrder && x.orderUpdateId === 0);
        const pending = new Set(route.slice(1).map((n) => n.nodeId));
        expectThat(s.nodeStates.every((n) => pending.has(n.nodeId) || n.nodeId === route[0]?.nodeId), `nodeStates ${JSON.stringify(s.nodeStates.map((n) => n.nodeId))} are not nodes of the order`);
        expectThat(s.errors.every((e) => !['validationError', 'orderError', 'orderUpdateError', 'noRouteError'].includes(e.errorType)), `accepted order carries errors ${JSON.stringify(s.errors)}`);
      },
    },
    {
      id: 'vda.order.progress',
      rule: 'state reports progress: nodeStates/edgeStates shrink as nodes are passed, lastNodeId/lastNodeSequenceId follow, driving ends false at the last node',
      run: async () => {
        const done = await stateWhere('the vehicle at the last node', (x) => x.orderId === mainOrder && x.lastNodeId === last?.nodeId && x.nodeStates.length === 0 && !x.driving, t.routeTimeoutMs ?? 60_000);
        expectThat(done.lastNodeSequenceId === lastSeq, `lastNodeSequenceId ${done.lastNodeSequenceId}, expected ${lastSeq}`);
        expectThat(done.edgeStates.length === 0, 'edgeStates left after the last node');
        const ofOrder = states().filter((x) => x.orderId === mainOrder);
        const counts = ofOrder.map((x) => x.nodeStates.length);
        expectThat(counts.every((c, i) => i === 0 || c <= (counts[i - 1] as number)), `nodeStates grew while driving: ${counts.join(',')}`);
        const seqs = ofOrder.map((x) => x.lastNodeSequenceId);
        expectThat(seqs.every((c, i) => i === 0 || c >= (seqs[i - 1] as number)), `lastNodeSequenceId went back: ${seqs.join(',')}`);
      },
    },
    {
      id: 'vda.order.duplicate',
      rule: 'the same orderId + orderUpdateId again is ignored (no error, no restart)',
      run: async () => {
        await sendOrder(orderOf(mainOrder, 0, route));
        await sleep(Math.min(500, timeout));
        const s = await freshState();
        expectThat(s.orderId === mainOrder && s.orderUpdateId === 0, `state now shows ${s.orderId}#${s.orderUpdateId}`);
        expectThat(s.lastNodeId === last?.nodeId && s.nodeStates.length === 0, 'the duplicate restarted the order');
        expectThat(!errorFor(s, mainOrder, ['validationError', 'orderUpdateError', 'orderError']), `duplicate produced errors ${JSON.stringify(s.errors)}`);
      },
    },
    {
      id: 'vda.order.update',
      rule: 'an update (higher orderUpdateId) starting at the last base node is accepted and echoed',
      run: async () => {
        if (last === undefined) throw new Error('empty route');
        await sendOrder(orderOf(mainOrder, 1, [last], lastSeq));
        await stateWhere('the update echo', (x) => x.orderId === mainOrder && x.orderUpdateId === 1);
      },
    },
    {
      id: 'vda.order.update.stale',
      rule: 'an update with a lower orderUpdateId is refused with orderUpdateError',
      run: async () => {
        if (last === undefined) throw new Error('empty route');
        await sendOrder(orderOf(mainOrder, 0, [last], lastSeq));
        await stateWhere('orderUpdateError for the stale update', (x) => x.orderUpdateId === 1 && x.errors.some((e) => e.errorType === 'orderUpdateError'));
      },
    },
    {
      id: 'vda.order.update.unstitched',
      rule: 'an update that does not start at the last base node is refused with orderUpdateError',
      run: async () => {
        const first = route[0];
        if (first === undefined) throw new Error('empty route');
        await sendOrder(orderOf(mainOrder, 2, [first], 0));
        const s = await stateWhere('orderUpdateError for the unstitched update', (x) => x.errors.some((e) => e.errorType === 'orderUpdateError' && e.errorReferences?.some((r) => r.referenceValue === '2') === true));
        expectThat(s.orderUpdateId === 1, `state moved to orderUpdateId ${s.orderUpdateId}`);
      },
    },
    {
      id: 'vda.order.invalid',
      rule: 'a semantically invalid order (edges do not connect its nodes) is refused with validationError naming the orderId',
      run: async () => {
        const bad = orderOf(`cf-${run}-bad`, 0, route.length >= 2 ? [last ?? route[0]!, route[0]!] : route, 0);
        bad.edges = [];
        await sendOrder(bad);
        await stateWhere('validationError for the invalid order', (x) => errorFor(x, bad.orderId, ['validationError']));
      },
    },
    {
      id: 'vda.order.noRoute',
      rule: 'a new order whose first node is not where the vehicle stands is refused (noRouteError or orderError)',
      run: async () => {
        const first = route[0];
        if (first === undefined || route.length < 2) throw new Error('the route needs two nodes');
        const far = orderOf(`cf-${run}-far`, 0, [first, route[1]!], 0);
        await sendOrder(far);
        await stateWhere('noRouteError for an order starting elsewhere', (x) => errorFor(x, far.orderId, ['noRouteError', 'orderError']));
      },
    },
    {
      id: 'vda.garbage',
      rule: 'garbage on the order topic never crashes the vehicle: it still answers stateRequest',
      run: async () => {
        await p().publish(topic('order'), '{"this is": not json');
        await p().publish(topic('order'), JSON.stringify({ headerId: 'x' }));
        await freshState();
      },
    },
    {
      id: 'vda.header.ids',
      rule: 'headerId increases with every message, per topic (state, visualization)',
      run: async () => {
        for (const name of ['state', 'visualization'] as const) {
          const ids = p().on(topic(name)).map((m) => decodeVda(name, m.payload).headerId);
          expectThat(increasing(ids), `${name} headerIds do not increase: ${ids.slice(0, 40).join(',')}`);
        }
        expectThat(p().on(topic('state')).length >= 3, 'fewer than three states seen');
      },
    },
    {
      id: 'vda.timestamps',
      rule: 'every message carries an ISO 8601 timestamp and the protocol version 2.x',
      run: async () => {
        for (const m of p().messages) {
          const name = m.topic.slice(m.topic.lastIndexOf('/') + 1) as VdaTopicName;
          if (m.payload.length === 0) continue;
          const msg = decodeVda(name, m.payload) as { timestamp: string; version: string };
          expectThat(isIsoTimestamp(msg.timestamp), `${name} timestamp ${msg.timestamp} is not ISO 8601`);
          expectThat(msg.version.startsWith('2.'), `${name} version ${msg.version}`);
        }
      },
    },
  ];
  checks.push(
    ...runner.lifecycleChecks({
      prefix: 'vda',
      connectionTopic: topic('connection'),
      connectionState: (b) => decodeVda('connection', b).connectionState,
      reconnect: { rule: 'coming back, the vehicle announces ONLINE again (retained) and reports state', topic: topic('state'), what: 'a state after reconnect' },
    }),
  );

  return runner.suite(`VDA 5050 vehicle ${t.manufacturer}/${t.serialNumber}`, TOPICS.map(topic), checks, () => {
    if (route.length < 2) throw new Error('the target route needs at least two nodes');
  });
}
