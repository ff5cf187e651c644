/**
 * The VDA 5050 messages of traffic control (§6.6 of the standard): order updates that release
 * more of a trip's base, and the short moves that get a vehicle out of another's way. Pure.
 */
import type { VdaOrder } from '../../protocols/index.js';
import { buildRouteOrder } from './commands.js';

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
export function buildMoveOrder(opts: Parameters<typeof buildRouteOrder>[0]): VdaOrder {
  return buildRouteOrder(opts);
}
