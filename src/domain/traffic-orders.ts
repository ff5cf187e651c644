/**
 * The VDA 5050 messages of traffic control (§6.6 of the standard): order updates that release
 * more of a trip's base, and the short moves that get a vehicle out of another's way. Pure.
 */
import type { VdaEdge, VdaNode, VdaOrder } from '../../protocols/index.js';
import { VDA_VERSION } from '../../protocols/index.js';
import type { Header, VehicleRef } from './commands.js';
import type { Route, RouteGraph } from './route-graph.js';

/**
 * The update of a whole order as sent from index `stitchIndex`, the last base node the vehicle
 * already has: it starts there (same nodeId and sequenceId) and carries the rest, base and
 * horizon, so the vehicle replaces its old horizon with it.
 */
export function orderUpdateFrom(order: VdaOrder, stitchIndex: number): VdaOrder {
  if (stitchIndex < 0 || stitchIndex >= order.nodes.length) throw new RangeError(`stitch index ${stitchIndex} outside an order of ${order.nodes.length} nodes`);
  return { ...order, nodes: order.nodes.slice(stitchIndex), edges: order.edges.slice(stitchIndex) };
}

/**
 * A plain drive along `route` without actions: node `i` has sequenceId `2i`, nodes up to
 * `releasedUpTo` are base and the rest horizon, like a trip order.
 */
export function buildMoveOrder(opts: {
  header: Header;
  vehicle: VehicleRef;
  graph: RouteGraph;
  mapId: string;
  orderId: string;
  orderUpdateId: number;
  route: Route;
  releasedUpTo: number;
}): VdaOrder {
  const { route, graph, mapId, releasedUpTo } = opts;
  const nodes: VdaNode[] = route.nodes.map((nodeId, i) => {
    const n = graph.node(nodeId);
    return { nodeId, sequenceId: i * 2, released: i <= releasedUpTo, nodePosition: { x: n.x, y: n.y, mapId, allowedDeviationXY: 0.5 }, actions: [] };
  });
  const edges: VdaEdge[] = route.steps.map((s, i) => ({
    edgeId: s.edgeId,
    sequenceId: i * 2 + 1,
    released: i + 1 <= releasedUpTo,
    startNodeId: s.from,
    endNodeId: s.to,
    length: s.length,
    actions: [],
  }));
  return {
    headerId: opts.header.headerId,
    timestamp: opts.header.timestamp,
    version: VDA_VERSION,
    manufacturer: opts.vehicle.manufacturer,
    serialNumber: opts.vehicle.serialNumber,
    orderId: opts.orderId,
    orderUpdateId: opts.orderUpdateId,
    nodes,
    edges,
  };
}
