import { describe, expect, it } from 'vitest';
import { decodeVda, encodeVda } from '../../protocols/index.js';
import { actionIdOf, buildTripOrder, planStopsRoute, tripPlanFor } from './commands.js';
import type { TaskRecord } from './records.js';
import { RouteGraph } from './route-graph.js';
import { STANDARD_PROFILE, type VehicleProfile } from './vehicle-profiles.js';

// a - b - c - d - e, both ways; the pack station at e.
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
const trip = (id: string, pickNodeId: string, quantity: number): TaskRecord => ({
  id,
  lineId: `L-${id}`,
  orderId: 'O-1',
  step: 0,
  kind: 'amr.pickTrip',
  deviceClass: 'amr',
  deviceId: 'amr-1',
  state: 'DISPATCHED',
  loadId: undefined,
  plan: { sku: `SKU-${id}`, quantity, location: `LOC-${pickNodeId}`, pickNodeId, dropNodeId: 'e', toteId: 'TOTE-O-1' },
  progress: { applied: [] },
  attempts: 0,
  createdAt: 0,
  updatedAt: 0,
});
const header = { headerId: 1, timestamp: '2026-01-01T00:00:00.000Z' };
const vehicle = { manufacturer: 'acme', serialNumber: 'amr-1' };
const vendor: VehicleProfile = {
  manufacturer: 'acme',
  pick: { actionType: 'liftTote', parameters: [{ key: 'tote', value: '{loadId}' }, { key: 'bin', value: 'B/{locationId}' }, { key: 'n', value: '{quantity}' }] },
  drop: { actionType: 'lowerTote', parameters: [{ key: 'tote', value: '{loadId}' }, { key: 'at', value: '{nodeId}' }] },
};

describe('trip orders from vehicle profiles', () => {
  it('without a recorded trip, sends the standard pick and drop with Pickwire parameter names', () => {
    const t = trip('T-1', 'c', 2);
    const route = planStopsRoute(graph, 'a', ['c', 'e'])!;
    const order = buildTripOrder({ header, vehicle, graph, mapId: 'm', task: t, route, orderUpdateId: 0 });
    expect(order.nodes.map((n) => n.actions.map((a) => [a.actionId, a.actionType]))).toEqual([[], [], [[actionIdOf.pick('T-1'), 'pick']], [], [[actionIdOf.drop('T-1'), 'drop']]]);
    expect(order.nodes[2]?.actions[0]?.actionParameters).toEqual([
      { key: 'loadId', value: 'TOTE-O-1' },
      { key: 'locationId', value: 'LOC-c' },
      { key: 'sku', value: 'SKU-T-1' },
      { key: 'quantity', value: 2 },
    ]);
    // Same thing as the standard profile rendered explicitly.
    expect(buildTripOrder({ header, vehicle, graph, mapId: 'm', task: t, route, orderUpdateId: 0, trip: tripPlanFor(STANDARD_PROFILE, [t]) })).toEqual(order);
  });

  it('a batched trip carries one pick per line, in visiting order, and one drop; the recorded trip survives updates', () => {
    const lead = trip('T-1', 'b', 1);
    const other = trip('T-2', 'd', 3);
    const plan = tripPlanFor(vendor, [lead, other]);
    const route = planStopsRoute(graph, 'a', ['b', 'd', 'e'])!;
    expect(route.nodes).toEqual(['a', 'b', 'c', 'd', 'e']);
    const withTrip = { ...lead, progress: { ...lead.progress, trip: plan } };
    const order = buildTripOrder({ header, vehicle, graph, mapId: 'm', task: withTrip, route, orderUpdateId: 0, releasedUpTo: 2 });
    const actions = order.nodes.map((n) => n.actions.map((a) => ({ id: a.actionId, type: a.actionType, params: a.actionParameters })));
    expect(actions[1]).toEqual([{ id: actionIdOf.pick('T-1'), type: 'liftTote', params: [{ key: 'tote', value: 'TOTE-O-1' }, { key: 'bin', value: 'B/LOC-b' }, { key: 'n', value: 1 }] }]);
    expect(actions[3]).toEqual([{ id: actionIdOf.pick('T-2'), type: 'liftTote', params: [{ key: 'tote', value: 'TOTE-O-1' }, { key: 'bin', value: 'B/LOC-d' }, { key: 'n', value: 3 }] }]);
    expect(actions[4]).toEqual([{ id: actionIdOf.drop('T-1'), type: 'lowerTote', params: [{ key: 'tote', value: 'TOTE-O-1' }, { key: 'at', value: 'e' }] }]);
    expect(decodeVda('order', encodeVda('order', order))).toEqual(order);
    // Traffic control rebuilds the order from the stored task for each update: same actions.
    const update = buildTripOrder({ header, vehicle, graph, mapId: 'm', task: withTrip, route, orderUpdateId: 1, releasedUpTo: 4 });
    expect(update.nodes.map((n) => n.actions)).toEqual(order.nodes.map((n) => n.actions));
  });

  it('a stop a re-route left out carries no pick; the others keep theirs', () => {
    const lead = trip('T-1', 'b', 1);
    const other = trip('T-2', 'd', 1);
    const withTrip = { ...lead, progress: { ...lead.progress, trip: tripPlanFor(vendor, [lead, other]) } };
    // A re-routed trip that no longer passes d (here it ends at c, where the drop then goes).
    const route = graph.routeAlong(['a', 'b', 'c'])!;
    const order = buildTripOrder({ header, vehicle, graph, mapId: 'm', task: withTrip, route, orderUpdateId: 0 });
    expect(order.nodes.flatMap((n) => n.actions.map((a) => a.actionId))).toEqual([actionIdOf.pick('T-1'), actionIdOf.drop('T-1')]);
  });
});
