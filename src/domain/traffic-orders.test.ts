import { describe, expect, it } from 'vitest';
import { decodeVda, encodeVda } from '../../protocols/index.js';
import { actionIdOf, buildTripOrder } from './commands.js';
import type { TaskRecord } from './records.js';
import { RouteGraph } from './route-graph.js';
import { buildMoveOrder, orderUpdateFrom } from './traffic-orders.js';

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
