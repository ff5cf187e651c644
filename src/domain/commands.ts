/**
 * Builds the protocol messages a task becomes: a VDA 5050 order for an AMR trip, a wcs/v1 job
 * for AS/RS, conveyor and arm steps. Pure; header ids and timestamps are passed in.
 */
import type { VdaAction, VdaEdge, VdaInstantActions, VdaNode, VdaOrder, WcsAction, WcsJob } from '../../protocols/index.js';
import { VDA_VERSION, WCS_VERSION } from '../../protocols/index.js';
import type { RouteGraph, Route, RouteStep } from './route-graph.js';
import type { TaskRecord, TripPlan } from './records.js';
import { renderAction, STANDARD_PROFILE, type ParameterField, type VehicleProfile } from './vehicle-profiles.js';

export interface Header {
  headerId: number;
  timestamp: string;
}

export interface VehicleRef {
  manufacturer: string;
  serialNumber: string;
}

export const actionIdOf = {
  pick: (taskId: string): string => `${taskId}-pick`,
  drop: (taskId: string): string => `${taskId}-drop`,
  wcs: (taskId: string): string => `${taskId}-a1`,
};

/** The two legs of an AMR trip: from where the vehicle stands to the pick node, then to the drop. */
export function planTripRoute(graph: RouteGraph, fromNode: string, task: TaskRecord, maxSpeed?: number): Route | undefined {
  const { pickNodeId, dropNodeId } = task.plan;
  if (!pickNodeId || !dropNodeId) return undefined;
  return planStopsRoute(graph, fromNode, [pickNodeId, dropNodeId], maxSpeed);
}

/**
 * The fastest legs from `fromNode` through each stop in turn (a batched trip's picks, then its
 * drop), entering none of `avoid` when given (undefined when that is impossible).
 */
export function planStopsRoute(graph: RouteGraph, fromNode: string, stops: readonly string[], maxSpeed?: number, avoid?: ReadonlySet<string>): Route | undefined {
  let route: Route = { nodes: [fromNode], steps: [], length: 0, travelTime: 0 };
  for (const stop of stops) {
    const at = route.nodes[route.nodes.length - 1] as string;
    const leg = avoid && avoid.size > 0 ? graph.shortestPathAvoiding(at, stop, avoid, maxSpeed) : graph.shortestPath(at, stop, maxSpeed);
    if (!leg) return undefined;
    route = {
      nodes: [...route.nodes, ...leg.nodes.slice(1)],
      steps: [...route.steps, ...leg.steps],
      length: route.length + leg.length,
      travelTime: route.travelTime + leg.travelTime,
    };
  }
  return route;
}

/** What a profile's parameter templates may name, for one task of a trip. */
export function tripValues(task: TaskRecord, nodeId: string | undefined): Partial<Record<ParameterField, string | number>> {
  const p = task.plan;
  return {
    loadId: p.toteId ?? task.id,
    locationId: p.location,
    sku: p.sku,
    quantity: p.quantity,
    taskId: task.id,
    ...(nodeId !== undefined ? { nodeId } : {}),
  };
}

/**
 * A trip's actions as `profile` wants them: each task's pick at its node (in the order given, the
 * visiting order), one drop of the tote at the first task's drop node.
 */
export function tripPlanFor(profile: VehicleProfile, tasks: readonly TaskRecord[]): TripPlan {
  const lead = tasks[0];
  if (!lead) throw new RangeError('a trip needs at least one task');
  return {
    picks: tasks.map((t) => ({ taskId: t.id, nodeId: t.plan.pickNodeId ?? '', action: renderAction(profile.pick, tripValues(t, t.plan.pickNodeId)) })),
    drop: renderAction(profile.drop, tripValues(lead, lead.plan.dropNodeId)),
  };
}

/**
 * How many unreleased nodes an order (or order update) carries beyond its base. The vehicle
 * repeats every node it holds in each state (about one a second), and each update re-sends its
 * horizon: the whole rest of a long route made states several KB and cost more CPU to encode,
 * parse and store than anything else in a simulated shift. VDA 5050 lets the horizon be partial,
 * so it is bounded: each base extension's update carries the next HORIZON_NODES, and the route
 * arrives piecewise. 10 is more than one base extension adds (trafficLookaheadNodes, default 6):
 * every node released was already the vehicle's horizon, which on the 1 m grid also leaves far
 * more than its braking distance (2.25 m at 1.5 m/s, 0.5 m/s^2) of known path to plan speed on.
 */
export const HORIZON_NODES = 10;

/**
 * A whole trip as one VDA order: nodes up to index `releasedUpTo` (and the edges between them)
 * are the base, released; after it comes the horizon: HORIZON_NODES nodes, and at least up to
 * the trip's last pick, so that a vehicle that cannot do a pick refuses the order itself, at
 * dispatch, rather than a later update. Traffic control releases only the nodes it has
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
  /** The actions to send; absent: those recorded on the task at dispatch, else the standard pick and drop. */
  trip?: TripPlan;
  releasedUpTo?: number;
}): VdaOrder {
  const { task, route } = opts;
  const releasedUpTo = opts.releasedUpTo ?? route.nodes.length - 1;
  const trip = opts.trip ?? task.progress.trip ?? tripPlanFor(STANDARD_PROFILE, [task]);
  const byIndex = new Map<number, VdaAction[]>();
  // Each pick goes on the first visit of its node after the previous pick. A stop a re-route
  // left out carries no action: task progress fails that line when the tote is dropped.
  let from = 0;
  let lastPick = 0;
  for (const p of trip.picks) {
    const i = route.nodes.indexOf(p.nodeId, from);
    if (i < 0) continue;
    byIndex.set(i, [...(byIndex.get(i) ?? []), { actionId: actionIdOf.pick(p.taskId), actionType: p.action.actionType, blockingType: 'HARD', actionParameters: p.action.parameters }]);
    from = i;
    lastPick = i;
  }
  const last = route.nodes.length - 1;
  byIndex.set(last, [...(byIndex.get(last) ?? []), { actionId: actionIdOf.drop(task.id), actionType: trip.drop.actionType, blockingType: 'HARD', actionParameters: trip.drop.parameters }]);
  const sentUpTo = Math.max(releasedUpTo + HORIZON_NODES, lastPick);
  return buildRouteOrder({ ...opts, orderId: task.id, releasedUpTo, sentUpTo, actionsAt: (i) => byIndex.get(i) ?? [] });
}

/**
 * A VDA order along `route`: node `i` has sequenceId `2i`, nodes up to `releasedUpTo` (and the
 * edges between them) are base, those after it up to `sentUpTo` (default: HORIZON_NODES more)
 * horizon, the rest not sent yet; `actionsAt(i)` puts actions on node `i`. Trips, traffic
 * control's moves and its updates all share this shape.
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
  /** Index of the last node sent (base or horizon); never before `releasedUpTo`. */
  sentUpTo?: number;
  actionsAt?: (index: number) => VdaAction[];
}): VdaOrder {
  const { route, graph, mapId, releasedUpTo } = opts;
  const sent = Math.min(route.nodes.length, Math.max(releasedUpTo, opts.sentUpTo ?? releasedUpTo + HORIZON_NODES) + 1);
  const nodes = route.nodes.slice(0, sent).map((nodeId, i) => vdaNode(graph, mapId, nodeId, i * 2, i <= releasedUpTo, opts.actionsAt?.(i) ?? []));
  const edges = route.steps.slice(0, Math.max(0, sent - 1)).map((s, i) => vdaEdge(s, i * 2 + 1, i + 1 <= releasedUpTo));
  return vdaOrder(opts, nodes, edges);
}

/** A VDA order of `nodes` and `edges` with its header, vehicle and ids. */
export function vdaOrder(opts: { header: Header; vehicle: VehicleRef; orderId: string; orderUpdateId: number }, nodes: VdaNode[], edges: VdaEdge[]): VdaOrder {
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

/** A node of an order, placed where the site's map has it. */
export function vdaNode(graph: RouteGraph, mapId: string, nodeId: string, sequenceId: number, released: boolean, actions: VdaAction[]): VdaNode {
  const n = graph.node(nodeId);
  return { nodeId, sequenceId, released, nodePosition: { x: n.x, y: n.y, mapId, allowedDeviationXY: 0.5 }, actions };
}

/** An edge of an order along one step of a route, without actions. */
function vdaEdge(step: RouteStep, sequenceId: number, released: boolean): VdaEdge {
  return { edgeId: step.edgeId, sequenceId, released, startNodeId: step.from, endNodeId: step.to, length: step.length, actions: [] };
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
  const nodes = route.nodes.map((nodeId, i) => {
    const actions: VdaAction[] = i === last && opts.nodeAction ? [{ actionId: chargeActionIdOf(orderId), actionType: 'startCharging', blockingType: 'HARD', actionParameters: [] }] : [];
    return vdaNode(graph, mapId, nodeId, i * 2, true, actions);
  });
  const edges = route.steps.map((s, i) => vdaEdge(s, i * 2 + 1, true));
  return vdaOrder({ ...opts, orderUpdateId: 0 }, nodes, edges);
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
