import { describe, expect, it } from 'vitest';
import { decodeVda, encodeVda } from '../../protocols/index.js';
import { actionIdOf, buildTripOrder, HORIZON_NODES } from './commands.js';
import type { TaskRecord } from './records.js';
import { RouteGraph } from './route-graph.js';
import { buildHorizonTrim, buildMoveOrder, orderUpdateFrom } from './traffic-orders.js';

const graph = new RouteGraph({
  graph: {
    nodes: ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, x: i * 2, y: 0 })),
    edges: [
      { id: 'ab', from: 'a', to: 'b' },
      { id: 'bc', from: 'b', to: 'c' },
      { id: 'cd', from: 'c', to: 'd' },
      { id: 'de', from: 'd', to: 'e' },
    ],
  },
});
const route = graph.routeAlong(['a', 'b', 'c', 'd', 'e'])!;
const task: TaskRecord = {
  id: 'T-1',
  lineId: 'L-1',
  orderId: 'O-1',
  step: 0,
  kind: 'amr.pickTrip',
  deviceClass: 'amr',
  deviceId: 'amr-1',
  state: 'DISPATCHED',
  loadId: undefined,
  plan: { sku: 'SKU-1', quantity: 1, location: 'L-c', pickNodeId: 'c', dropNodeId: 'e' },
  progress: { applied: [] },
  attempts: 0,
  createdAt: 0,
  updatedAt: 0,
};
const common = { header: { headerId: 1, timestamp: '2026-01-01T00:00:00.000Z' }, vehicle: { manufacturer: 'm', serialNumber: 'amr-1' }, graph, mapId: 'map', route };

describe('trip orders with a base and a horizon', () => {
  it('releases the nodes up to releasedUpTo and the edges between them; the rest is horizon', () => {
    const order = buildTripOrder({ ...common, task, orderUpdateId: 0, releasedUpTo: 1 });
    expect(order.nodes.map((n) => [n.nodeId, n.sequenceId, n.released])).toEqual([
      ['a', 0, true],
      ['b', 2, true],
      ['c', 4, false],
      ['d', 6, false],
      ['e', 8, false],
    ]);
    expect(order.edges.map((e) => [e.edgeId, e.sequenceId, e.released])).toEqual([
      ['ab', 1, true],
      ['bc', 3, false],
      ['cd', 5, false],
      ['de', 7, false],
    ]);
    // Actions travel with their nodes, released or not.
    expect(order.nodes[2]?.actions.map((a) => a.actionId)).toEqual([actionIdOf.pick('T-1')]);
    expect(decodeVda('order', encodeVda('order', order))).toEqual(order);
  });

  it('an update starts at the last base node the vehicle has, with the same sequenceId, and carries the rest', () => {
    const update = orderUpdateFrom(buildTripOrder({ ...common, task, orderUpdateId: 1, releasedUpTo: 3 }), 1);
    expect(update.orderUpdateId).toBe(1);
    expect(update.nodes.map((n) => [n.nodeId, n.sequenceId, n.released])).toEqual([
      ['b', 2, true],
      ['c', 4, true],
      ['d', 6, true],
      ['e', 8, false],
    ]);
    expect(update.edges.map((e) => [e.startNodeId, e.endNodeId, e.released])).toEqual([
      ['b', 'c', true],
      ['c', 'd', true],
      ['d', 'e', false],
    ]);
    expect(update.nodes[1]?.actions.map((a) => a.actionId)).toEqual([actionIdOf.pick('T-1')]);
    expect(() => orderUpdateFrom(update, 9)).toThrow(RangeError);
  });

  it('a move order has no actions and the same base and horizon rules', () => {
    const move = buildMoveOrder({ ...common, orderId: 'move-amr-1-1', orderUpdateId: 0, releasedUpTo: 2 });
    expect(move.nodes.every((n) => n.actions.length === 0)).toBe(true);
    expect(move.nodes.map((n) => n.released)).toEqual([true, true, true, false, false]);
    expect(move.edges.map((e) => e.released)).toEqual([true, true, false, false]);
    expect(move.nodes[4]?.nodePosition).toMatchObject({ x: 8, y: 0, mapId: 'map' });
  });
});

// n0 - n1 - ... - n39 on a line: a route much longer than the horizon.
const LONG = 40;
const longGraph = new RouteGraph({
  graph: {
    nodes: Array.from({ length: LONG }, (_, i) => ({ id: `n${i}`, x: i, y: 0 })),
    edges: Array.from({ length: LONG - 1 }, (_, i) => ({ id: `e${i}`, from: `n${i}`, to: `n${i + 1}` })),
  },
});
const longRoute = longGraph.routeAlong(Array.from({ length: LONG }, (_, i) => `n${i}`))!;
const longCommon = { ...common, graph: longGraph, route: longRoute };
const tripTo = (pickNodeId: string): TaskRecord => ({ ...task, plan: { ...task.plan, pickNodeId, dropNodeId: `n${LONG - 1}` } });
const ids = (o: { nodes: { nodeId: string }[] }): string[] => o.nodes.map((n) => n.nodeId);
const actionIds = (o: { nodes: { actions: { actionId: string }[] }[] }): string[] => o.nodes.flatMap((n) => n.actions.map((a) => a.actionId));

describe('a bounded horizon', () => {
  it('an order carries its base and HORIZON_NODES nodes beyond it, not the whole route', () => {
    const order = buildTripOrder({ ...longCommon, task: tripTo('n3'), orderUpdateId: 0, releasedUpTo: 5 });
    expect(order.nodes).toHaveLength(5 + HORIZON_NODES + 1);
    expect(order.edges).toHaveLength(order.nodes.length - 1);
    expect(order.nodes.filter((n) => n.released)).toHaveLength(6);
    expect(order.nodes.at(-1)).toMatchObject({ nodeId: `n${5 + HORIZON_NODES}`, released: false });
    expect(order.edges.at(-1)).toMatchObject({ endNodeId: `n${5 + HORIZON_NODES}`, released: false });
    // The drop's node is not sent yet, so neither is the drop: it comes with a later update.
    expect(actionIds(order)).toEqual([actionIdOf.pick('T-1')]);
    expect(decodeVda('order', encodeVda('order', order))).toEqual(order);
  });

  it('reaches at least to the last pick, so a vehicle that cannot pick refuses the order at once', () => {
    const order = buildTripOrder({ ...longCommon, task: tripTo('n30'), orderUpdateId: 0, releasedUpTo: 2 });
    expect(ids(order).at(-1)).toBe('n30');
    expect(order.nodes.at(-1)?.actions.map((a) => a.actionId)).toEqual([actionIdOf.pick('T-1')]);
    expect(order.nodes.filter((n) => n.released)).toHaveLength(3);
  });

  it('each update carries the extended base and the next HORIZON_NODES, the last one the drop', () => {
    const t = tripTo('n3');
    const first = orderUpdateFrom(buildTripOrder({ ...longCommon, task: t, orderUpdateId: 1, releasedUpTo: 12 }), 6);
    expect(ids(first)[0]).toBe('n6');
    expect(ids(first).at(-1)).toBe(`n${12 + HORIZON_NODES}`);
    expect(first.nodes.filter((n) => n.released).map((n) => n.nodeId).at(-1)).toBe('n12');
    expect(first.edges).toHaveLength(first.nodes.length - 1);
    expect(actionIds(first)).toEqual([]);
    const last = orderUpdateFrom(buildTripOrder({ ...longCommon, task: t, orderUpdateId: 2, releasedUpTo: 30 }), 12);
    expect(ids(last).at(-1)).toBe(`n${LONG - 1}`);
    expect(actionIds(last)).toEqual([actionIdOf.drop('T-1')]);
  });

  it('without traffic control (everything released) the whole route is sent', () => {
    const order = buildTripOrder({ ...longCommon, task: tripTo('n3'), orderUpdateId: 0 });
    expect(order.nodes).toHaveLength(LONG);
    expect(order.nodes.every((n) => n.released)).toBe(true);
  });

  it('a move order is bounded the same way', () => {
    const move = buildMoveOrder({ ...longCommon, orderId: 'move-amr-1-2', orderUpdateId: 0, releasedUpTo: 4 });
    expect(ids(move).at(-1)).toBe(`n${4 + HORIZON_NODES}`);
    expect(move.edges).toHaveLength(4 + HORIZON_NODES);
  });

  it('a horizon trim is an update of the last base node alone, released, with no edges', () => {
    const trim = buildHorizonTrim({ ...longCommon, orderId: 'T-1', orderUpdateId: 4, lastBase: { nodeId: 'n12', sequenceId: 24 } });
    expect(trim).toMatchObject({ orderId: 'T-1', orderUpdateId: 4, edges: [] });
    expect(trim.nodes).toEqual([{ nodeId: 'n12', sequenceId: 24, released: true, nodePosition: { x: 12, y: 0, mapId: 'map', allowedDeviationXY: 0.5 }, actions: [] }]);
    expect(decodeVda('order', encodeVda('order', trim))).toEqual(trim);
  });
});
