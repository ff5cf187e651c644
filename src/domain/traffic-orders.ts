/**
 * The VDA 5050 messages of traffic control (§6.6 of the standard): order updates that release
 * more of a trip's base, and the short moves that get a vehicle out of another's way. Pure.
 */
import type { VdaOrder } from '../../protocols/index.js';
import { buildRouteOrder, vdaNode, vdaOrder, type Header, type VehicleRef } from './commands.js';
import type { RouteGraph } from './route-graph.js';

/**
 * The update of a whole order as sent from index `stitchIndex`, the last base node the vehicle
 * already has: it starts there (same nodeId and sequenceId) and carries the rest `order` holds,
 * base and (bounded) horizon, so the vehicle replaces its old horizon with it.
 */
export function orderUpdateFrom(order: VdaOrder, stitchIndex: number): VdaOrder {
  if (stitchIndex < 0 || stitchIndex >= order.nodes.length) throw new RangeError(`stitch index ${stitchIndex} outside an order of ${order.nodes.length} nodes`);
  return { ...order, nodes: order.nodes.slice(stitchIndex), edges: order.edges.slice(stitchIndex) };
}

/**
 * A plain drive along `route` without actions: node `i` has sequenceId `2i`, nodes up to
 * `releasedUpTo` are base and the rest horizon, like a trip order.
 */
export function buildMoveOrder(opts: Parameters<typeof buildRouteOrder>[0]): VdaOrder {
  return buildRouteOrder(opts);
}

/**
 * An update that ends an order whose vehicle has only horizon left (a trip that ended while the
 * vehicle waited at the end of its base): just the last base node, nothing after it, so the
 * vehicle drops its horizon. Needed because orders carry a bounded horizon (HORIZON_NODES): a
 * trip past its pick whose drop has not been sent yet has no action left on the vehicle, and a
 * vehicle with no base and no action left may answer `cancelOrder` with `noOrderToCancel` and
 * keep the horizon, reporting an order for ever.
 */
export function buildHorizonTrim(opts: {
  header: Header;
  vehicle: VehicleRef;
  graph: RouteGraph;
  mapId: string;
  orderId: string;
  orderUpdateId: number;
  /** The vehicle's last base node, where it stands. */
  lastBase: { nodeId: string; sequenceId: number };
}): VdaOrder {
  const { nodeId, sequenceId } = opts.lastBase;
  return vdaOrder(opts, [vdaNode(opts.graph, opts.mapId, nodeId, sequenceId, true, [])], []);
}
