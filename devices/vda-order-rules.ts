/**
 * The order acceptance rules of VDA 5050 2.0 (§6.6), as pure functions over the vehicle's
 * current state, so they can be tested exhaustively without a broker.
 */
import type { VdaNode, VdaOrder } from '../protocols/index.js';

export type OrderVerdict =
  | { kind: 'accept'; isUpdate: boolean }
  | { kind: 'duplicate' }
  | { kind: 'reject'; errorType: 'validationError' | 'orderUpdateError' | 'orderError' | 'noRouteError'; description: string };

/** What the rules need to know about the vehicle. */
export interface VehicleView {
  manufacturer: string;
  serialNumber: string;
  orderId: string;
  orderUpdateId: number;
  /** The last released node of the current order, where an update must stitch on. */
  lastBaseNode: { nodeId: string; sequenceId: number } | undefined;
  /** Released nodes still to be reached, or order actions not yet FINISHED/FAILED. */
  active: boolean;
  lastNodeId: string;
  position: { x: number; y: number; mapId: string; positionInitialized: boolean } | undefined;
}

/** Semantic checks the JSON schema cannot express; the first problem found, or undefined. */
export function orderProblem(order: VdaOrder, vehicle: Pick<VehicleView, 'manufacturer' | 'serialNumber'>): string | undefined {
  if (order.manufacturer !== vehicle.manufacturer || order.serialNumber !== vehicle.serialNumber) {
    return `order addressed to ${order.manufacturer}/${order.serialNumber}`;
  }
  if (order.nodes.length === 0) return 'an order needs at least one node';
  if (order.edges.length !== order.nodes.length - 1) return `${order.nodes.length} nodes need ${order.nodes.length - 1} edges, got ${order.edges.length}`;
  const first = order.nodes[0] as VdaNode;
  if (!first.released) return 'the first node must be released';
  let horizon = false;
  let previousSeq = first.sequenceId;
  const actionIds = new Set<string>();
  for (let i = 0; i < order.nodes.length; i++) {
    const node = order.nodes[i] as VdaNode;
    if (i > 0) {
      const edge = order.edges[i - 1];
      if (edge === undefined) return `edge ${i - 1} missing`;
      const prev = order.nodes[i - 1] as VdaNode;
      if (edge.startNodeId !== prev.nodeId || edge.endNodeId !== node.nodeId) return `edge ${edge.edgeId} does not connect ${prev.nodeId} to ${node.nodeId}`;
      if (!(edge.sequenceId > previousSeq && node.sequenceId > edge.sequenceId)) return `sequenceIds must increase along the path at edge ${edge.edgeId}`;
      previousSeq = node.sequenceId;
      if (edge.released !== node.released) return `edge ${edge.edgeId} and its end node ${node.nodeId} must both be base or both horizon`;
      for (const a of edge.actions) {
        if (actionIds.has(a.actionId)) return `duplicate actionId ${a.actionId}`;
        actionIds.add(a.actionId);
      }
    }
    if (!node.released) horizon = true;
    else if (horizon) return `released node ${node.nodeId} follows a horizon node`;
    for (const a of node.actions) {
      if (actionIds.has(a.actionId)) return `duplicate actionId ${a.actionId}`;
      actionIds.add(a.actionId);
    }
  }
  return undefined;
}

/** Decides what to do with a schema-valid order. */
export function judgeOrder(order: VdaOrder, vehicle: VehicleView): OrderVerdict {
  const problem = orderProblem(order, vehicle);
  if (problem !== undefined) return { kind: 'reject', errorType: 'validationError', description: problem };
  const first = order.nodes[0] as VdaNode;
  if (order.orderId === vehicle.orderId) {
    if (order.orderUpdateId === vehicle.orderUpdateId) return { kind: 'duplicate' };
    if (order.orderUpdateId < vehicle.orderUpdateId) {
      return { kind: 'reject', errorType: 'orderUpdateError', description: `orderUpdateId ${order.orderUpdateId} is older than the current ${vehicle.orderUpdateId}` };
    }
    const base = vehicle.lastBaseNode;
    if (base === undefined || base.nodeId !== first.nodeId || base.sequenceId !== first.sequenceId) {
      return {
        kind: 'reject',
        errorType: 'orderUpdateError',
        description: `an update must start at the last base node ${base === undefined ? '(none)' : `${base.nodeId}#${base.sequenceId}`}, got ${first.nodeId}#${first.sequenceId}`,
      };
    }
    return { kind: 'accept', isUpdate: true };
  }
  if (vehicle.active) return { kind: 'reject', errorType: 'orderError', description: `order ${vehicle.orderId} is still active; cancel it first` };
  if (first.nodeId === vehicle.lastNodeId || withinDeviation(first, vehicle.position)) return { kind: 'accept', isUpdate: false };
  return { kind: 'reject', errorType: 'noRouteError', description: `the first node ${first.nodeId} is not where the vehicle is (${vehicle.lastNodeId})` };
}

function withinDeviation(node: VdaNode, position: VehicleView['position']): boolean {
  const p = node.nodePosition;
  if (p === undefined || position === undefined || !position.positionInitialized || p.mapId !== position.mapId) return false;
  return Math.hypot(p.x - position.x, p.y - position.y) <= (p.allowedDeviationXY ?? 0);
}
