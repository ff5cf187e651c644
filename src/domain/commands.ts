/**
 * Builds the protocol messages a task becomes: a VDA 5050 order for an AMR trip, a wcs/v1 job
 * for AS/RS, conveyor and arm steps. Pure; header ids and timestamps are passed in.
 */
import type { VdaAction, VdaEdge, VdaInstantActions, VdaNode, VdaOrder, WcsAction, WcsJob } from '../../protocols/index.js';
import { VDA_VERSION, WCS_VERSION } from '../../protocols/index.js';
import type { RouteGraph, Route } from './route-graph.js';
import type { TaskRecord } from './records.js';

export interface Header {
  headerId: number;
  timestamp: string;
}

export interface VehicleRef {
  manufacturer: string;
  serialNumber: string;
}

/** Action types and parameters a vehicle vendor expects for a pick and a drop (vehicle profile). */
export interface LoadActionProfile {
  pickActionType: string;
  dropActionType: string;
}

export const STANDARD_LOAD_ACTIONS: LoadActionProfile = { pickActionType: 'pick', dropActionType: 'drop' };

export const actionIdOf = {
  pick: (taskId: string): string => `${taskId}-pick`,
  drop: (taskId: string): string => `${taskId}-drop`,
  wcs: (taskId: string): string => `${taskId}-a1`,
};

/** The two legs of an AMR trip: from where the vehicle stands to the pick node, then to the drop. */
export function planTripRoute(graph: RouteGraph, fromNode: string, task: TaskRecord, maxSpeed?: number): Route | undefined {
  const { pickNodeId, dropNodeId } = task.plan;
  if (!pickNodeId || !dropNodeId) return undefined;
  const toPick = graph.shortestPath(fromNode, pickNodeId, maxSpeed);
  const toDrop = graph.shortestPath(pickNodeId, dropNodeId, maxSpeed);
  if (!toPick || !toDrop) return undefined;
  return {
    nodes: [...toPick.nodes, ...toDrop.nodes.slice(1)],
    steps: [...toPick.steps, ...toDrop.steps],
    length: toPick.length + toDrop.length,
    travelTime: toPick.travelTime + toDrop.travelTime,
  };
}

/**
 * A whole trip as one VDA order: nodes up to index `releasedUpTo` (and the edges between them)
 * are the base, released; the rest is horizon. Traffic control releases only the nodes it has
 * reserved for the vehicle; without `releasedUpTo` everything is released. Node `i` of the
 * route has sequenceId `2i`, so an order update is a slice of the same order.
 */
export function buildTripOrder(opts: {
  header: Header;
  vehicle: VehicleRef;
  graph: RouteGraph;
  mapId: string;
  task: TaskRecord;
  route: Route;
  orderUpdateId: number;
  profile?: LoadActionProfile;
  releasedUpTo?: number;
}): VdaOrder {
  const { task, route } = opts;
  const releasedUpTo = opts.releasedUpTo ?? route.nodes.length - 1;
  const profile = opts.profile ?? STANDARD_LOAD_ACTIONS;
  // A shortest path visits each node once, so the first visit of the pick node is the pick.
  const pickAt = route.nodes.indexOf(task.plan.pickNodeId ?? '');
  const params = [
    { key: 'loadId', value: task.plan.toteId ?? task.id },
    { key: 'locationId', value: task.plan.location },
    { key: 'sku', value: task.plan.sku },
    { key: 'quantity', value: task.plan.quantity },
  ];
  return buildRouteOrder({
    ...opts,
    orderId: task.id,
    releasedUpTo,
    actionsAt: (i) => {
      const actions: VdaAction[] = [];
      if (i === pickAt) actions.push({ actionId: actionIdOf.pick(task.id), actionType: profile.pickActionType, blockingType: 'HARD', actionParameters: params });
      if (i === route.nodes.length - 1) {
        actions.push({ actionId: actionIdOf.drop(task.id), actionType: profile.dropActionType, blockingType: 'HARD', actionParameters: params.slice(0, 1) });
      }
      return actions;
    },
  });
}

/**
 * A VDA order along `route`: node `i` has sequenceId `2i`, nodes up to `releasedUpTo` (and the
 * edges between them) are base, the rest horizon; `actionsAt(i)` puts actions on node `i`.
 * Trips, traffic control's moves and its updates all share this shape.
 */
export function buildRouteOrder(opts: {
  header: Header;
  vehicle: VehicleRef;
  graph: RouteGraph;
  mapId: string;
  orderId: string;
  orderUpdateId: number;
  route: Route;
  releasedUpTo: number;
  actionsAt?: (index: number) => VdaAction[];
}): VdaOrder {
  const { route, graph, mapId, releasedUpTo } = opts;
  const nodes: VdaNode[] = route.nodes.map((nodeId, i) => {
    const n = graph.node(nodeId);
    return { nodeId, sequenceId: i * 2, released: i <= releasedUpTo, nodePosition: { x: n.x, y: n.y, mapId, allowedDeviationXY: 0.5 }, actions: opts.actionsAt?.(i) ?? [] };
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

/** The startCharging of a charge order: on its last node, or sent as an instant action on arrival. */
export const chargeActionIdOf = (orderId: string): string => `${orderId}-startCharging`;

/**
 * An operator's charge order: drive along `route` (from where the vehicle stands to the
 * charger's node), every node and edge released, with `startCharging` on the last node when the
 * vehicle takes it as a node action (`nodeAction`); otherwise the core asks for it on arrival.
 */
export function buildChargeOrder(opts: {
  header: Header;
  vehicle: VehicleRef;
  graph: RouteGraph;
  mapId: string;
  orderId: string;
  route: Route;
  nodeAction: boolean;
}): VdaOrder {
  const { route, graph, mapId, orderId } = opts;
  const last = route.nodes.length - 1;
  const nodes: VdaNode[] = route.nodes.map((nodeId, i) => {
    const n = graph.node(nodeId);
    const actions: VdaAction[] = i === last && opts.nodeAction ? [{ actionId: chargeActionIdOf(orderId), actionType: 'startCharging', blockingType: 'HARD', actionParameters: [] }] : [];
    return { nodeId, sequenceId: i * 2, released: true, nodePosition: { x: n.x, y: n.y, mapId, allowedDeviationXY: 0.5 }, actions };
  });
  const edges: VdaEdge[] = route.steps.map((s, i) => ({ edgeId: s.edgeId, sequenceId: i * 2 + 1, released: true, startNodeId: s.from, endNodeId: s.to, length: s.length, actions: [] }));
  return {
    headerId: opts.header.headerId,
    timestamp: opts.header.timestamp,
    version: VDA_VERSION,
    manufacturer: opts.vehicle.manufacturer,
    serialNumber: opts.vehicle.serialNumber,
    orderId,
    orderUpdateId: 0,
    nodes,
    edges,
  };
}

/** Instant actions for one vehicle (stateRequest, cancelOrder, ...). */
export function buildInstantActions(header: Header, vehicle: VehicleRef, actions: VdaAction[]): VdaInstantActions {
  return { headerId: header.headerId, timestamp: header.timestamp, version: VDA_VERSION, manufacturer: vehicle.manufacturer, serialNumber: vehicle.serialNumber, actions };
}

/** The wcs/v1 job of one AS/RS, conveyor or arm step: one action, named for the step. */
export function buildStepJob(opts: { header: Header; site: string; task: TaskRecord; jobUpdateId: number }): WcsJob {
  const { task } = opts;
  const p = task.plan;
  const param = (key: string, value: string | number | undefined): { key: string; value: string }[] =>
    value === undefined ? [] : [{ key, value: String(value) }];
  let action: Omit<WcsAction, 'actionId' | 'blockingType'>;
  switch (task.kind) {
    case 'asrs.retrieve':
    case 'asrs.store':
      action = {
        actionType: task.kind === 'asrs.retrieve' ? 'retrieve' : 'store',
        actionParameters: [...param('binId', p.binId), ...param('locationId', p.location), ...param('portId', p.portId)],
      };
      break;
    case 'conveyor.toStation':
    case 'conveyor.toPort': {
      const toStation = task.kind === 'conveyor.toStation';
      action = {
        actionType: 'transport',
        actionParameters: [
          ...param('loadId', p.binId),
          ...param('from', toStation ? p.portId : p.stationId),
          ...param('to', toStation ? p.stationId : p.portId),
        ],
      };
      break;
    }
    case 'arm.pick':
      action = {
        actionType: 'pick',
        actionParameters: [
          ...param('sku', p.sku),
          ...param('quantity', p.quantity),
          ...param('sourceLoadId', p.binId),
          ...param('targetLoadId', p.toteId),
        ],
      };
      break;
    case 'amr.pickTrip':
      throw new TypeError('an AMR trip becomes a VDA 5050 order, not a wcs job');
  }
  return {
    header: {
      headerId: opts.header.headerId,
      timestamp: opts.header.timestamp,
      version: WCS_VERSION,
      site: opts.site,
      deviceId: p.deviceId ?? task.deviceId ?? '',
    },
    jobId: task.id,
    jobUpdateId: opts.jobUpdateId,
    actions: [{ actionId: actionIdOf.wcs(task.id), blockingType: 'HARD', ...action }],
  };
}
