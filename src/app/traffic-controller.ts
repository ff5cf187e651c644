/**
 * Traffic control for the live core (DESIGN §2.1): one reservation table for the site's AMRs
 * (src/domain/traffic.ts), fed by every VDA `state` and a periodic tick.
 *
 * A trip's order carries as base only the nodes reserved for its vehicle, the rest as horizon.
 * As the vehicle reports progress (or asks with `newBaseRequest`) the reservation is extended
 * and an order update (same orderId, orderUpdateId + 1, starting at the last base node, §6.6)
 * goes out through the durable outbox. A vehicle is never commanded onto a node another holds.
 * One update at a time per vehicle: the next is built only once the vehicle has echoed the last,
 * so every update stitches onto a base the vehicle really has.
 *
 * The tick retries waiting vehicles, moves idle vehicles out of a waiting one's way, and looks
 * for deadlocks (wait-for cycles), which it resolves by re-routing or backing off one vehicle,
 * journaled on the device. The table lives in memory; after a restart it is rebuilt from what
 * vehicles report, and a trip's route from the journal.
 */
import { encodeVda, vdaTopic, type VdaState } from '../../protocols/index.js';
import { buildTripOrder } from '../domain/commands.js';
import type { OutboxMessage, TaskRecord, TaskState } from '../domain/records.js';
import type { Route } from '../domain/route-graph.js';
import { buildHorizonTrim, buildMoveOrder, orderUpdateFrom } from '../domain/traffic-orders.js';
import { findRetreat, planDetour, ReservationTable, resolveDeadlock, type AdmissionZone, type Resolution, type WaitEdge } from '../domain/traffic.js';
import type { AppContext } from './context.js';
import { correlationOf, vdaOrderHeader } from './correlation.js';
import { enqueueVdaInstantActions } from './instant-actions.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import { runInTransaction } from './unit-of-work.js';

export interface TrafficOptions {
  interfaceName: string;
  /** How many nodes ahead of a vehicle may be released to it at once. */
  lookahead: number;
}

export interface TrafficHooks {
  /**
   * Orders or updates were written to the outbox: drain it. `committed`, when given, is every
   * command queued since the last call, committed and in outbox order, so the publisher can put
   * them on the wire without reading them back; undefined when others were queued too.
   */
  onCommandsQueued(committed?: readonly OutboxMessage[]): void;
}

/** Journal events of traffic control (`domain.verb`), all on the device. */
export const TRAFFIC_EVENTS = {
  deadlock: 'traffic.deadlockResolved',
  unresolved: 'traffic.deadlockUnresolved',
  movedAside: 'traffic.vehicleMovedAside',
  rerouted: 'traffic.rerouted',
  moveCanceled: 'traffic.moveCanceled',
} as const;

interface Drive {
  kind: 'trip' | 'move';
  orderId: string;
  vehicleId: string;
  vehicle: { manufacturer: string; serialNumber: string };
  route: Route;
  /** Trips: the task (for the pick and drop actions) and the index of the pick node. */
  task: TaskRecord | undefined;
  pickIndex: number | undefined;
  /** Index of the last base node sent, the update id sent last, and the last one echoed. */
  releasedUpTo: number;
  updateId: number;
  acked: number;
  /** Earlier drives go first when a deadlock is broken. */
  startedAt: number;
  /** The route before the last re-route, and the update that carried it: restored if refused. */
  rerouteOf?: { route: Route; pickIndex: number | undefined; updateId: number };
  /** The vehicle's base does not lie on this route: no update could stitch onto it, none is sent. */
  unstitchable?: boolean;
}

const DONE: readonly TaskState[] = ['FINISHED', 'FAILED', 'CANCELED'];
/** VDA 5050 errors with which a vehicle refuses an order or update (§6.6). */
const REJECTIONS = new Set(['orderError', 'orderUpdateError', 'noRouteError', 'validationError']);
/** A vehicle this far past its last node (m) is between two nodes and overlaps both. */
const ON_NODE_M = 0.05;
/** An unresolved deadlock is journaled again after this long, not on every tick. */
const UNRESOLVED_REPEAT_MS = 30_000;
const MOVE_PREFIX = 'move-';
/**
 * After a restart, how long vehicles that held trips may take to report before the others are
 * granted new nodes anyway (each is asked for its state at start and reports about once a
 * second; one silent for longer is the watchdog's, which takes its trip back).
 */
const RECOVERY_MAX_MS = 10_000;
const ACTIVE_TRIP_STATES: readonly TaskState[] = ['DISPATCHED', 'RUNNING', 'PAUSED'];
/** Hops an idle vehicle drives further to stand in a dead end rather than on a lane. */
const IDLE_DEAD_END_BONUS = 30;
/**
 * A vehicle whose drive ended and that others wait for is moved aside this soon (unless the
 * dispatcher gave it a trip meanwhile), not only on the next tick.
 */
const IDLE_CHECK_MS = 50;

export class TrafficController {
  readonly table: ReservationTable;
  private readonly drives = new Map<string, Drive>();
  private readonly unresolvedAt = new Map<string, number>();
  private queued = false;
  /** The commands queued since the last flush, as committed; `uncaptured` when some were not recorded here. */
  private committed: OutboxMessage[] = [];
  private uncaptured = false;
  private idleCheckPending = false;
  private stopped = false;
  /**
   * Vehicles that held a trip when this controller started and have not reported since, and
   * when that started (undefined until first asked). Their released nodes are known only from
   * their own states, so until each has reported, no node is granted to anyone: a node the
   * previous run released to a vehicle not heard from yet would look free and could be released
   * a second time (seen in test/reliability/core-crash.test.ts: two vehicles with the pack node
   * released, head-on in its lane).
   */
  private unadopted: { vehicles: Set<string>; since: number } | undefined;
  /** Orders not sent by traffic control that overlap another vehicle's nodes, logged once each. */
  private readonly overlapsLogged = new Set<string>();
  /** Stranded orders (vehicle/orderId): when a cancel is due next, and how many were sent. */
  private readonly strandedCancels = new Map<string, { due: number; sent: number }>();
  /** Horizon trims sent (see cancelStrandedMove), by vehicle: confirmed here once echoed, as no task may own them. */
  private readonly trims = new Map<string, { orderId: string; updateId: number; serialNumber: string }>();

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly opts: TrafficOptions,
    private readonly hooks: TrafficHooks,
  ) {
    this.table = new ReservationTable({ isDeadEnd: (n) => ctx.graph.isDeadEnd(n), zones: stationZones(ctx.layout) });
  }

  /**
   * Reserves the start of a trip the dispatcher is about to send and remembers it. Returns the
   * index of the last route node to release (the order's base); the rest goes as horizon.
   */
  startTrip(view: DeviceView, task: TaskRecord, route: Route): number {
    const start = route.nodes[0] as string;
    if (!this.table.plan(view.id)) this.table.park(view.id, start);
    // While vehicles of the previous run are still to report, only the node it stands on.
    const grant = this.table.reservePath(view.id, route.nodes, 0, this.recovering() ? 0 : this.opts.lookahead);
    const releasedUpTo = Math.max(0, grant.upTo);
    this.drives.set(view.id, {
      kind: 'trip',
      orderId: task.id,
      vehicleId: view.id,
      vehicle: { manufacturer: view.manufacturer ?? '', serialNumber: view.serialNumber ?? view.id },
      route,
      task,
      pickIndex: pickIndexOf(route, task),
      releasedUpTo,
      updateId: 0,
      acked: -1,
      startedAt: this.ctx.clock.now(),
    });
    return releasedUpTo;
  }

  /** The trip's order could not be written after all: the vehicle stays where it is. */
  abortTrip(vehicleId: string, taskId: string): void {
    const d = this.drives.get(vehicleId);
    if (!d || d.orderId !== taskId) return;
    this.drives.delete(vehicleId);
    const at = this.table.plan(vehicleId);
    if (at) this.table.park(vehicleId, at.nodes[at.at] as string);
  }

  /** Every VDA state, after the registry and task progress have seen it. */
  onVdaState(view: DeviceView, s: VdaState): void {
    try {
      // Heard from: what it was released is in this state, and adopt() below takes it over.
      this.recovering();
      this.unadopted?.vehicles.delete(view.id);
      this.onState(view, s);
    } finally {
      this.flush();
    }
  }

  /**
   * Whether vehicles that held trips before this controller started are still to report (see
   * `unadopted`); worked out from the store on first use, and over after RECOVERY_MAX_MS.
   */
  private recovering(): boolean {
    // Every vehicle state asks: once recovery is over, that is one comparison.
    if (this.unadopted?.vehicles.size === 0) return false;
    const now = this.ctx.clock.now();
    if (!this.unadopted) {
      const vehicles = new Set<string>();
      for (const t of this.ctx.store.tasksInStates(ACTIVE_TRIP_STATES, { devices: 'amr' })) if (t.deviceId !== undefined) vehicles.add(t.deviceId);
      this.unadopted = { vehicles, since: now };
    }
    if (this.unadopted.vehicles.size > 0 && now - this.unadopted.since > RECOVERY_MAX_MS) {
      this.ctx.logger.warn({ vehicles: [...this.unadopted.vehicles] }, 'traffic: vehicles that held trips before the restart have not reported; granting nodes to the others again');
      this.unadopted.vehicles.clear();
    }
    return this.unadopted.vehicles.size > 0;
  }

  /** Periodic: retry waiting vehicles, move idle ones out of the way, break deadlocks. */
  tick(): void {
    try {
      if (this.recovering()) return;
      this.retryWaiting();
      this.moveIdleBlockers();
      this.breakDeadlock();
    } finally {
      this.flush();
    }
  }

  /** No more timers: the core is stopping. */
  stop(): void {
    this.stopped = true;
  }

  /** Nodes the vehicle holds now, in driving order (for the floor view: its reserved path). */
  reservedNodes(vehicleId: string): string[] {
    return this.table.held(vehicleId);
  }

  /** Nodes of the vehicle's current drive (for tests and the floor view), or undefined. */
  driveOf(vehicleId: string): { orderId: string; nodes: readonly string[]; releasedUpTo: number } | undefined {
    const d = this.drives.get(vehicleId);
    return d && { orderId: d.orderId, nodes: d.route.nodes, releasedUpTo: d.releasedUpTo };
  }

  // -- state ------------------------------------------------------------------------------------

  private onState(view: DeviceView, s: VdaState): void {
    const id = view.id;
    let d = this.drives.get(id);
    if (d && s.orderId !== d.orderId) {
      // Not accepted yet; a refusal ends the drive (task progress fails a refused trip).
      if (this.refused(s, d.orderId, d.updateId)) this.endDrive(d, s, 'refused');
      return;
    }
    // After a restart a vehicle mid-trip often stands at the end of its base, asking for more
    // (nothing released ahead): its trip must be picked up too, or it waits there forever.
    if (!d && (hasBase(s) || this.openTripOf(view.id, s) !== undefined)) d = this.adopt(view, s);
    if (!d) {
      this.cancelStrandedMove(view, s);
      if (!this.standOn(id, s.lastNodeId, this.pinFor(id, s))) {
        this.ctx.logger.warn({ deviceId: id, node: s.lastNodeId, holder: this.table.holder(s.lastNodeId) }, 'traffic: vehicle stands on a node another vehicle holds');
      }
      return;
    }
    if (d.acked < s.orderUpdateId) {
      d.acked = s.orderUpdateId;
      if (d.kind === 'move') this.ctx.store.confirm(correlationOf.vda(d.vehicle.serialNumber, d.orderId, s.orderUpdateId), this.ctx.clock.now());
    }
    if (this.refused(s, d.orderId, d.updateId) && d.acked < d.updateId) this.resync(d, s);
    else if (d.acked >= d.updateId) this.holdReportedBase(d, s);
    const index = s.lastNodeSequenceId % 2 === 0 ? s.lastNodeSequenceId / 2 : undefined;
    const released = this.table.advance(id, s.lastNodeId, index);
    this.catchUp(d, s.lastNodeId, index);
    // Back on a node: whatever it was stopped across before this drive is behind it.
    const pinned = this.table.pinned(id);
    if (pinned !== undefined && !midEdge(s) && this.table.pin(id, undefined)) released.push(pinned);
    const plan = this.table.plan(id);
    const arrived = plan !== undefined && plan.at === d.route.nodes.length - 1 && !hasBase(s);
    if (arrived || (!hasBase(s) && !s.driving && this.finished(d))) {
      if (d.kind === 'move' || this.finished(d)) this.endDrive(d, s, 'done');
    } else {
      this.extend(d, { asked: s.newBaseRequest === true });
    }
    if (released.length > 0) this.retryWaiting();
  }

  /**
   * The vehicle stands on a node of its route beyond what the table holds for it: it drove a base
   * released before a restart that the recovered drive could not reserve (another vehicle held it
   * then). Where it stands wins over a window held ahead by another; its window restarts there,
   * up to the base it was released, as far as free.
   */
  private catchUp(d: Drive, nodeId: string, index: number | undefined): void {
    const plan = this.table.plan(d.vehicleId);
    if (index === undefined || !plan || index <= plan.upTo || d.route.nodes[index] !== nodeId) return;
    this.table.cede(nodeId);
    const grant = this.table.reservePath(d.vehicleId, d.route.nodes, index, Math.max(0, d.releasedUpTo - index));
    this.ctx.logger.warn({ deviceId: d.vehicleId, orderId: d.orderId, node: nodeId, held: grant.upTo >= index, blocked: grant.blocked }, 'traffic: vehicle drove past what the table held for it');
  }

  /** Whether the drive's purpose is over: a trip's task ended (finished, failed, canceled). */
  private finished(d: Drive): boolean {
    if (d.kind === 'move') return false;
    // The registry holds the vehicle's task until it ends (cheap, and asked on every state);
    // only a vehicle it knows no task for (after a restart) needs the store.
    const assigned = this.registry.get(d.vehicleId)?.task;
    if (assigned !== undefined) return assigned !== d.orderId;
    const task = this.ctx.store.getTask(d.orderId);
    return !task || DONE.includes(task.state) || task.deviceId !== d.vehicleId;
  }

  /**
   * The vehicle stands on `nodeId` with nothing to drive: it holds it. A vehicle that powers up
   * (or stops) on a node another holds only ahead of itself wins it: where a vehicle stands
   * wins. The other is cut back before the node and asked to extend again at once, so that it
   * waits for this one in the wait-for graph (and this one, idle, is moved out of its way) —
   * without that, one whose released base already covered the node would drive up to it and
   * wait there for ever, asking nothing. False when the holder itself stands on the node.
   */
  private standOn(id: string, nodeId: string, pin: string | undefined): boolean {
    if (this.table.park(id, nodeId, pin)) return true;
    const holder = this.table.holder(nodeId);
    if (!this.table.cede(nodeId) || !this.table.park(id, nodeId, pin)) return false;
    const theirs = holder !== undefined ? this.drives.get(holder) : undefined;
    if (theirs) this.extend(theirs, { waiting: true });
    if (this.table.waits().some((w) => w.holder === id)) this.scheduleIdleCheck();
    return true;
  }

  private endDrive(d: Drive, s: VdaState, why: 'done' | 'refused'): void {
    const pin = this.pinFor(d.vehicleId, s);
    this.drives.delete(d.vehicleId);
    this.standOn(d.vehicleId, s.lastNodeId, pin);
    if (d.kind === 'move') {
      if (why === 'refused') this.ctx.store.confirm(correlationOf.vda(d.vehicle.serialNumber, d.orderId, d.updateId), this.ctx.clock.now());
      // Only traffic's own moves free the vehicle; a charge drive is held by its owner until charged.
      if (d.orderId.startsWith(MOVE_PREFIX) && this.registry.get(d.vehicleId)?.task === d.orderId) this.registry.assign(d.vehicleId, undefined);
    }
    this.retryWaiting();
    if (this.table.waits().some((w) => w.holder === d.vehicleId)) this.scheduleIdleCheck();
  }

  private scheduleIdleCheck(): void {
    if (this.idleCheckPending || this.stopped) return;
    this.idleCheckPending = true;
    this.ctx.clock.setTimer(IDLE_CHECK_MS, () => {
      this.idleCheckPending = false;
      if (this.stopped) return;
      try {
        this.moveIdleBlockers();
      } catch (err) {
        this.ctx.logger.error({ err }, 'traffic: moving idle vehicles aside failed');
      } finally {
        this.flush();
      }
    });
  }

  /**
   * A vehicle stopped between two nodes (a canceled trip) overlaps both: besides its last node
   * it keeps the next one of its path (or the one it kept already) until it is on a node again.
   */
  private pinFor(vehicleId: string, s: VdaState): string | undefined {
    if (!midEdge(s)) return undefined;
    const plan = this.table.plan(vehicleId);
    if (!plan) return undefined;
    return plan.nodes.length > 1 && plan.nodes[plan.at] === s.lastNodeId ? plan.nodes[plan.at + 1] : this.table.pinned(vehicleId);
  }

  private refused(s: VdaState, orderId: string, updateId: number): boolean {
    return s.errors.some(
      (e) =>
        REJECTIONS.has(e.errorType) &&
        e.errorReferences?.some((r) => r.referenceKey === 'orderId' && r.referenceValue === orderId) === true &&
        (e.errorReferences.find((r) => r.referenceKey === 'orderUpdateId')?.referenceValue ?? String(updateId)) === String(updateId),
    );
  }

  /**
   * The vehicle refused an update: it keeps the base it had. Retire the update (the outbox
   * would re-send it forever) and carry on from the vehicle's own view of its base.
   */
  private resync(d: Drive, s: VdaState): void {
    this.ctx.logger.error({ deviceId: d.vehicleId, orderId: d.orderId, orderUpdateId: d.updateId, errors: s.errors }, 'traffic: vehicle refused an order update');
    this.ctx.store.confirm(correlationOf.vda(d.vehicle.serialNumber, d.orderId, d.updateId), this.ctx.clock.now());
    d.releasedUpTo = Math.floor(lastBaseSequenceId(s) / 2);
    d.acked = d.updateId;
    // A refused re-route leaves the vehicle on its old route: so is the drive, or every next update
    // would stitch onto a node of the new route the vehicle does not have (and be refused again).
    const before = d.rerouteOf?.updateId === d.updateId ? d.rerouteOf : undefined;
    d.rerouteOf = undefined;
    if (before) {
      d.route = before.route;
      d.pickIndex = before.pickIndex;
      const at = s.lastNodeSequenceId / 2;
      if (d.route.nodes[at] === s.lastNodeId && d.releasedUpTo < d.route.nodes.length) this.table.reservePath(d.vehicleId, d.route.nodes, at, Math.max(0, d.releasedUpTo - at));
    }
    const baseEnd = s.nodeStates.filter((n) => n.released).sort((a, b) => b.sequenceId - a.sequenceId)[0]?.nodeId ?? s.lastNodeId;
    if (d.route.nodes[d.releasedUpTo] !== baseEnd) {
      d.unstitchable = true;
      this.ctx.logger.error({ deviceId: d.vehicleId, orderId: d.orderId, baseEnd, route: d.route.nodes }, 'traffic: the vehicle\'s base is not on the drive\'s route; no more updates for it');
    }
  }

  /**
   * The base the vehicle reports is what it may drive, whatever this controller remembers: after
   * a restart an update sent by the previous core (re-sent from the outbox) can release more than
   * the recovered drive knows. Those nodes are held for it (as far as free) and the next update
   * stitches onto the vehicle's real last base node, not a stale one it would refuse.
   */
  private holdReportedBase(d: Drive, s: VdaState): void {
    const lastBase = Math.floor(lastBaseSequenceId(s) / 2);
    if (lastBase <= d.releasedUpTo || lastBase >= d.route.nodes.length) return;
    const plan = this.table.plan(d.vehicleId);
    if (!plan || lastBase <= plan.upTo) {
      d.releasedUpTo = lastBase;
      return;
    }
    const grant = this.table.reservePath(d.vehicleId, d.route.nodes, plan.at, lastBase - plan.at);
    if (grant.upTo < lastBase) this.ctx.logger.warn({ deviceId: d.vehicleId, orderId: d.orderId, blocked: grant.blocked }, 'traffic: a released base overlaps another vehicle');
    d.releasedUpTo = lastBase;
  }

  // -- extending the base -----------------------------------------------------------------------

  /**
   * More base when the vehicle asks for it or has at most one released node left ahead (every
   * update costs a round trip and a durable write, so not one per node passed), as far as the
   * reservation reaches.
   */
  private extend(d: Drive, when: { asked?: boolean; waiting?: boolean } = {}): void {
    if (d.acked < d.updateId || d.unstitchable === true || this.recovering()) return;
    const plan = this.table.plan(d.vehicleId);
    if (!plan || d.releasedUpTo >= d.route.nodes.length - 1) return;
    if (!when.asked && !when.waiting && d.releasedUpTo - plan.at > 1) return;
    const grant = this.table.reservePath(d.vehicleId, d.route.nodes, plan.at, this.opts.lookahead);
    const upTo = Math.max(grant.upTo, d.releasedUpTo);
    if (upTo > d.releasedUpTo) this.sendUpdate(d, upTo);
  }

  private retryWaiting(): void {
    for (const w of this.table.waits()) {
      const d = this.drives.get(w.vehicle);
      // Most waiters still wait for the same vehicle on the same node: asked again, the table
      // would grant them nothing new, and with nothing reserved beyond its base there is no update.
      if (!d || (this.table.stillBlocked(d.vehicleId, d.route.nodes, this.opts.lookahead) && !this.reservedBeyondBase(d))) continue;
      this.extend(d, { waiting: true });
    }
  }

  /** The table holds nodes for the vehicle beyond the base it was released (an update still to send). */
  private reservedBeyondBase(d: Drive): boolean {
    return (this.table.plan(d.vehicleId)?.upTo ?? -1) > d.releasedUpTo;
  }

  /** Order update from the last base node the vehicle has; extra is journaled with it. */
  private sendUpdate(d: Drive, releasedUpTo: number, journal?: { type: string; data: Record<string, unknown> }): void {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const task = d.kind === 'trip' ? store.getTask(d.orderId) : undefined;
    if (d.kind === 'trip' && (!task || DONE.includes(task.state))) return;
    const stitch = d.releasedUpTo;
    const updateId = d.updateId + 1;
    runInTransaction(store, (after) => {
      const header = vdaOrderHeader(this.ctx, d.vehicle.serialNumber);
      const common = { header, vehicle: d.vehicle, graph: this.ctx.graph, mapId: this.ctx.layout.site.mapId, route: d.route, orderUpdateId: updateId, releasedUpTo };
      const full = task ? buildTripOrder({ ...common, task }) : buildMoveOrder({ ...common, orderId: d.orderId });
      this.enqueue(d.vehicle, orderUpdateFrom(full, stitch), after);
      if (task) store.updateTask(task.id, { progress: { ...task.progress, updateId }, updatedAt: now });
      if (journal) this.journal(d.vehicleId, journal.type, { ...journal.data, orderId: d.orderId, orderUpdateId: updateId, route: d.route.nodes });
    });
    d.updateId = updateId;
    d.releasedUpTo = releasedUpTo;
  }

  /** Writes the order (inside the caller's transaction); it is handed to the publisher once that committed. */
  private enqueue(vehicle: Drive['vehicle'], order: ReturnType<typeof orderUpdateFrom>, afterCommit: (effect: () => void) => void): void {
    const row = {
      topic: vdaTopic({ interfaceName: this.opts.interfaceName, ...vehicle }, 'order'),
      payload: Buffer.from(encodeVda('order', order)),
      qos: 1 as const,
      retain: false,
      expirySeconds: undefined,
      correlation: correlationOf.vda(vehicle.serialNumber, order.orderId, order.orderUpdateId),
    };
    const seq = this.ctx.store.enqueue(row);
    const message: OutboxMessage = { ...row, seq, createdAt: this.ctx.clock.now(), sentAt: undefined, attempts: 0, confirmedAt: undefined };
    afterCommit(() => this.committed.push(message));
    this.queued = true;
  }

  // -- idle vehicles in the way -----------------------------------------------------------------

  /**
   * A vehicle with nothing to do keeps its node, so one parked on another's path is sent to
   * the nearest free node off the paths of those waiting for it. One that cannot be sent (busy
   * otherwise, paused, unreachable) is driven around instead, if there is a way.
   */
  private moveIdleBlockers(): void {
    const waitersOf = new Map<string, WaitEdge[]>();
    for (const w of this.table.waits()) {
      if (this.drives.has(w.holder) || !this.table.isHardWait(w)) continue;
      waitersOf.set(w.holder, [...(waitersOf.get(w.holder) ?? []), w]);
    }
    for (const [holder, waits] of waitersOf) {
      const plan = this.table.plan(holder);
      if (!plan) continue;
      const from = plan.nodes[plan.at] as string;
      const keepClear = new Set(waits.flatMap((w) => this.table.remaining(w.vehicle)));
      const view = this.idleView(holder);
      if (view && this.moveAside(view, from, keepClear, waits.map((w) => w.vehicle))) continue;
      for (const w of waits) this.detourAround(w, view ? 'no free node to move the idle vehicle to' : 'the vehicle in the way cannot be moved');
    }
  }

  /** The vehicle's view when it stands idle and can take an order now. */
  private idleView(vehicleId: string): DeviceView | undefined {
    const view = this.registry.get(vehicleId);
    if (!view || this.drives.has(vehicleId)) return undefined;
    const idle = this.registry.isReachable(view, this.ctx.clock.now()) && view.task === undefined && !view.orderActive && !view.paused && view.manufacturer !== undefined;
    return idle ? view : undefined;
  }

  /**
   * Sends an idle vehicle to the best free node off `keepClear`; false when there is none. Boxed
   * in by other idle vehicles, it moves the one nearest the free end of the way out first; the
   * others follow on later ticks, like sliding tiles.
   */
  private moveAside(view: DeviceView, from: string, keepClear: ReadonlySet<string>, forVehicles: string[]): boolean {
    const crowded = new Set([...this.drives.keys()].flatMap((v) => this.table.remaining(v)));
    const idle = (v: string): boolean => this.idleView(v) !== undefined;
    // An idle vehicle may stand where it goes for long: a dead end anywhere beats a lane nearby.
    const way = findRetreat(this.ctx.graph, this.table, view.id, from, keepClear, { crowded, through: idle, deadEndBonus: IDLE_DEAD_END_BONUS });
    if (!way) return false;
    for (let k = way.length - 2; k > 0; k--) {
      const other = this.table.holder(way[k] as string);
      const otherView = other !== undefined && other !== view.id ? this.idleView(other) : undefined;
      if (otherView) {
        this.startMove(otherView, way.slice(k), [view.id]);
        return true;
      }
    }
    this.startMove(view, way, forVehicles);
    return true;
  }

  private startMove(view: DeviceView, nodes: string[], forVehicles: string[]): void {
    const orderId = `${MOVE_PREFIX}${view.serialNumber ?? view.id}-${this.ctx.store.nextId(`traffic:${view.id}:move`)}`;
    if (this.startDrive(view, orderId, nodes)) this.journal(view.id, TRAFFIC_EVENTS.movedAside, { orderId, route: nodes, to: nodes[nodes.length - 1], for: forVehicles });
  }

  /**
   * A drive that is not a trip (moving aside, going to a charger) under the same traffic rules:
   * its order's base is only the reserved nodes, extended as the vehicle progresses. Returns
   * false when the nodes do not form a route on the graph.
   */
  startDrive(view: DeviceView, orderId: string, nodes: readonly string[]): boolean {
    const route = this.ctx.graph.routeAlong([...nodes]);
    if (!route) return false;
    const { store, clock } = this.ctx;
    const vehicle = { manufacturer: view.manufacturer ?? '', serialNumber: view.serialNumber ?? view.id };
    if (!this.table.plan(view.id)) this.table.park(view.id, nodes[0] as string);
    const grant = this.table.reservePath(view.id, [...nodes], 0, this.opts.lookahead);
    const d: Drive = { kind: 'move', orderId, vehicleId: view.id, vehicle, route, task: undefined, pickIndex: undefined, releasedUpTo: Math.max(0, grant.upTo), updateId: 0, acked: -1, startedAt: clock.now() };
    runInTransaction(store, (after) => {
      const header = vdaOrderHeader(this.ctx, vehicle.serialNumber);
      this.enqueue(d.vehicle, buildMoveOrder({ header, vehicle, graph: this.ctx.graph, mapId: this.ctx.layout.site.mapId, orderId, orderUpdateId: 0, route, releasedUpTo: d.releasedUpTo }), after);
      // Held like a task, so the dispatcher sends it no trip before the drive is done.
      after(() => this.registry.assign(view.id, orderId));
    });
    this.drives.set(view.id, d);
    this.flush();
    return true;
  }

  /** Re-routes a waiting vehicle around the node it waits for, when that vehicle will not move. */
  private detourAround(w: WaitEdge, reason: string): void {
    const d = this.drives.get(w.vehicle);
    const plan = this.table.plan(w.vehicle);
    if (!d || !plan || d.acked < d.updateId || this.finished(d)) return;
    // The detour starts past the base the vehicle already has: it cannot take a change to that.
    const nodes = planDetour(this.ctx.graph, { ...plan, upTo: Math.max(plan.upTo, d.releasedUpTo) }, this.stops(d), new Set([w.nodeId]));
    if (nodes) this.reroute(d, nodes, { type: TRAFFIC_EVENTS.rerouted, data: { reason, avoided: [w.nodeId], blockedBy: w.holder } });
  }

  // -- deadlocks --------------------------------------------------------------------------------

  private breakDeadlock(): void {
    const cycle = this.table.findDeadlock();
    if (!cycle) return;
    const resolution = resolveDeadlock(cycle, {
      graph: this.ctx.graph,
      table: this.table,
      priority: (v) => -(this.drives.get(v)?.startedAt ?? Infinity),
      stops: (v) => {
        const d = this.drives.get(v);
        return d ? this.stops(d) : [];
      },
      movable: (v) => {
        const d = this.drives.get(v);
        // One released further than the table holds (after a restart) cannot be re-planned inside that base.
        return d !== undefined && d.acked >= d.updateId && !this.finished(d) && d.releasedUpTo <= (this.table.plan(v)?.upTo ?? -1);
      },
    });
    const described = cycle.map((e) => ({ vehicle: e.vehicle, waitsFor: e.holder, node: e.nodeId, reason: e.reason }));
    if (resolution.kind === 'none') {
      const key = cycle.map((e) => e.vehicle).sort().join(',');
      const now = this.ctx.clock.now();
      if (now - (this.unresolvedAt.get(key) ?? -Infinity) < UNRESOLVED_REPEAT_MS) return;
      if (this.unresolvedAt.size > 1000) this.unresolvedAt.clear();
      this.unresolvedAt.set(key, now);
      this.ctx.logger.warn({ cycle: described, reason: resolution.reason }, 'traffic: deadlock not resolved yet');
      runInTransaction(this.ctx.store, () => this.journal(cycle[0]?.vehicle ?? 'unknown', TRAFFIC_EVENTS.unresolved, { cycle: described, reason: resolution.reason }));
      return;
    }
    const d = this.drives.get(resolution.vehicle);
    if (!d || !keepsReleasedBase(d, resolution.nodes)) return;
    if (resolution.kind === 'backoff') this.table.yieldTo(d.vehicleId, resolution.yieldTo, resolution.retreatIndex, resolution.nodes);
    this.ctx.logger.info({ cycle: described, resolution: resolution.kind, vehicle: resolution.vehicle }, 'traffic: deadlock resolved');
    this.reroute(d, resolution.nodes, { type: TRAFFIC_EVENTS.deadlock, data: { cycle: described, ...describeResolution(resolution) } });
  }

  private reroute(d: Drive, nodes: string[], journal: { type: string; data: Record<string, unknown> }): void {
    const route = this.ctx.graph.routeAlong(nodes);
    const plan = this.table.plan(d.vehicleId);
    // An update that changed the released base would be refused (§6.6), again on every tick.
    if (!route || !plan || d.unstitchable === true || !keepsReleasedBase(d, nodes) || sameNodes(nodes, d.route.nodes)) return;
    const before = { route: d.route, pickIndex: d.pickIndex, updateId: d.updateId + 1 };
    d.route = route;
    if (d.task) d.pickIndex = pickIndexOf(route, d.task);
    const grant = this.table.reservePath(d.vehicleId, nodes, plan.at, this.opts.lookahead);
    this.sendUpdate(d, Math.max(grant.upTo, d.releasedUpTo), { type: journal.type, data: { ...journal.data, taskId: d.task?.id } });
    if (d.updateId === before.updateId) d.rerouteOf = before;
  }

  /**
   * Indices the drive must visit: every pick of the trip (a batched trip has several, each at
   * the first visit of its node after the previous one, as buildTripOrder places them), then the
   * destination. A re-route that kept only the first pick would drop the others' actions, and the
   * vehicle would end its trip with actions still waiting — busy for ever in the dispatcher's eyes.
   */
  private stops(d: Drive): number[] {
    const last = d.route.nodes.length - 1;
    const picks = d.kind === 'trip' ? (this.ctx.store.getTask(d.orderId)?.progress.trip?.picks ?? d.task?.progress.trip?.picks) : undefined;
    if (!picks || picks.length === 0) return d.pickIndex !== undefined && d.pickIndex < last ? [d.pickIndex, last] : [last];
    const out: number[] = [];
    let from = 0;
    for (const p of picks) {
      const i = d.route.nodes.indexOf(p.nodeId, from);
      if (i < 0) continue;
      if (i < last) out.push(i);
      from = i;
    }
    out.push(last);
    return out;
  }

  // -- after a restart --------------------------------------------------------------------------

  /**
   * A vehicle drives an order this controller did not start: a trip from before a restart (its
   * route comes back from the journal, so it can be extended) or someone else's order (an
   * operator's charge order). Either way the nodes it has been released are held for it, as far
   * as no other vehicle holds them.
   */
  private adopt(view: DeviceView, s: VdaState): Drive | undefined {
    // Its own position first, even when a base recovered earlier for another vehicle covers it.
    this.table.cede(s.lastNodeId);
    const ahead = [...s.nodeStates].sort((a, b) => a.sequenceId - b.sequenceId);
    const base = ahead.filter((n) => n.released);
    const task = this.ctx.store.getTask(s.orderId);
    const routeNodes = task && task.deviceId === view.id && !DONE.includes(task.state) ? this.journaledRoute(task) : undefined;
    const route = routeNodes && this.ctx.graph.routeAlong(routeNodes);
    const at = s.lastNodeSequenceId / 2;
    const lastBase = Math.floor(Math.max(s.lastNodeSequenceId, ...base.map((n) => n.sequenceId)) / 2);
    if (task && route && route.nodes[at] === s.lastNodeId && lastBase < route.nodes.length) {
      const grant = this.table.reservePath(view.id, route.nodes, at, lastBase - at);
      if (grant.upTo < lastBase) this.ctx.logger.warn({ deviceId: view.id, orderId: s.orderId, blocked: grant.blocked }, 'traffic: a recovered base overlaps another vehicle');
      // Numbering goes on after the last update the previous core wrote, not after the one the
      // vehicle echoes: see retirePendingUpdates.
      const lastWritten = Math.max(s.orderUpdateId, task.progress.updateId ?? 0);
      const d: Drive = {
        kind: 'trip',
        orderId: task.id,
        vehicleId: view.id,
        vehicle: { manufacturer: view.manufacturer ?? s.manufacturer, serialNumber: view.serialNumber ?? s.serialNumber },
        route,
        task,
        pickIndex: pickIndexOf(route, task),
        releasedUpTo: lastBase,
        updateId: lastWritten,
        acked: lastWritten,
        startedAt: task.updatedAt,
      };
      this.drives.set(view.id, d);
      this.retirePendingUpdates(d, s.orderUpdateId, lastWritten);
      return d;
    }
    // Blocked, it stays in the wait-for graph: an idle vehicle in its way is moved aside.
    const nodes = [s.lastNodeId, ...base.map((n) => n.nodeId)];
    const grant = this.table.reservePath(view.id, nodes, 0, nodes.length);
    const key = `${view.id}/${s.orderId}`;
    if (grant.upTo < nodes.length - 1 && !this.overlapsLogged.has(key)) {
      if (this.overlapsLogged.size > 1000) this.overlapsLogged.clear();
      this.overlapsLogged.add(key);
      this.ctx.logger.warn({ deviceId: view.id, orderId: s.orderId, blocked: grant.blocked }, 'traffic: a vehicle was sent onto a node another vehicle holds');
    }
    return undefined;
  }

  /**
   * Updates the previous core wrote but the vehicle had not taken when it first reported to this
   * one (the broker that carried them died with that core) are still in the outbox and would be
   * re-sent, releasing nodes this table never reserved for it: they are retired, and the drive
   * goes on from the base the vehicle really has.
   *
   * Their ids are not used again. The new core's publisher may already have re-sent one before
   * the vehicle's first state came in, and the vehicle may take it after all: a later update
   * under the same id, with another base, would then be ignored as a repeat (VDA 5050) while
   * its echo confirmed it, and the vehicle waited at the end of its old base for good with the
   * nodes held for it here (core-crash test, seen several times). With the next id above every
   * one written, a retired update that arrives anyway shows in the vehicle's reported base,
   * which holdReportedBase adopts; an update stitched before it is refused and resync() takes
   * the vehicle's view.
   */
  private retirePendingUpdates(d: Drive, echoed: number, lastWritten: number): void {
    if (lastWritten <= echoed) return;
    const now = this.ctx.clock.now();
    runInTransaction(this.ctx.store, () => {
      for (let id = echoed + 1; id <= lastWritten; id++) this.ctx.store.confirm(correlationOf.vda(d.vehicle.serialNumber, d.orderId, id), now);
    });
    this.ctx.logger.info({ deviceId: d.vehicleId, orderId: d.orderId, retired: lastWritten - echoed, echoed, nextOrderUpdateId: lastWritten + 1 }, 'traffic: order updates the vehicle had not taken are retired after a restart');
  }

  /**
   * An order no one will ever finish keeps its vehicle busy for good: the dispatcher gives it no
   * trip and it cannot be moved aside, while it may stand in everyone's way. Such an order, still
   * active on a vehicle that has no base left and stands still, is canceled; idle, the vehicle is
   * moved again if it is in the way.
   * - A move aside started by a previous core (no drive here) that stopped at the end of its base
   *   waits for an update no one will send.
   * - A finished trip whose vehicle still reports a pick or drop WAITING with nothing left to
   *   drive: the action of a stop a re-route left out (a batched line's pick, see buildTripOrder).
   *   The update replaced the horizon that carried it, but the vehicle kept its state.
   * - A failed or canceled trip the vehicle still holds: the watchdog's cancelOrder was lost. An
   *   instant action is sent once, and one published by a core just started, before the vehicle
   *   has reconnected and subscribed to the new broker, reaches no one. That one is the
   *   watchdog's to send first, so it is only repeated after a grace period.
   * The cancel is repeated while the vehicle still reports the order so (a cancel can be lost too).
   * A vehicle left with nothing but horizon (orders carry a bounded one: a trip past its pick whose
   * drop was not sent yet) has no base and no action to cancel, and may answer `noOrderToCancel`
   * keeping it: it gets an update that ends the order at its last base node instead.
   * Seen in the core-crash test: vehicles holding such orders in the lanes and on a drop node
   * blocked every trip behind them.
   */
  private cancelStrandedMove(view: DeviceView, s: VdaState): void {
    /** A failed trip's cancel is the watchdog's: repeated only if it did not arrive by then. */
    const WATCHDOG_GRACE_MS = 5000;
    /** A cancel the vehicle has not acted on by then is sent again. */
    const RESEND_MS = 10_000;
    const trim = this.trims.get(view.id);
    // Taken, refused, or overtaken by another order: either way no longer to be re-sent.
    if (trim && (s.orderId !== trim.orderId || s.orderUpdateId >= trim.updateId || this.refused(s, trim.orderId, trim.updateId))) {
      this.trims.delete(view.id);
      this.ctx.store.confirm(correlationOf.vda(trim.serialNumber, trim.orderId, trim.updateId), this.ctx.clock.now());
    }
    if (!s.orderId || hasBase(s) || s.driving) return;
    const active = s.nodeStates.length > 0 || s.edgeStates.length > 0 || s.actionStates.some((a) => a.actionStatus === 'WAITING' && (a.actionType === 'pick' || a.actionType === 'drop'));
    if (!active) return;
    const ended = s.orderId.startsWith(MOVE_PREFIX) ? undefined : this.endedTripOf(view.id, s.orderId);
    if (!ended && !(s.orderId.startsWith(MOVE_PREFIX) && s.nodeStates.length > 0)) return;
    const reason =
      ended === undefined
        ? 'a move from before a restart, stopped at the end of its base'
        : ended === 'FINISHED'
          ? 'a finished trip with actions left that can no longer run'
          : `a ${ended.toLowerCase()} trip the vehicle still holds`;
    const key = `${view.id}/${s.orderId}`;
    const now = this.ctx.clock.now();
    let entry = this.strandedCancels.get(key);
    if (!entry) {
      if (this.strandedCancels.size > 1000) this.strandedCancels.clear();
      entry = { due: ended === 'FAILED' || ended === 'CANCELED' ? now + WATCHDOG_GRACE_MS : now, sent: 0 };
      this.strandedCancels.set(key, entry);
    }
    if (now < entry.due) return;
    entry.due = now + RESEND_MS;
    entry.sent++;
    const vehicle = { manufacturer: view.manufacturer ?? s.manufacturer, serialNumber: view.serialNumber ?? s.serialNumber };
    const horizonOnly = s.nodeStates.length > 0 && !s.actionStates.some((a) => a.actionStatus !== 'FINISHED' && a.actionStatus !== 'FAILED') && this.ctx.graph.has(s.lastNodeId);
    runInTransaction(this.ctx.store, (after) => {
      if (horizonOnly) {
        const header = vdaOrderHeader(this.ctx, vehicle.serialNumber);
        const lastBase = { nodeId: s.lastNodeId, sequenceId: s.lastNodeSequenceId };
        const updateId = s.orderUpdateId + 1;
        this.enqueue(vehicle, buildHorizonTrim({ header, vehicle, graph: this.ctx.graph, mapId: this.ctx.layout.site.mapId, orderId: s.orderId, orderUpdateId: updateId, lastBase }), after);
        after(() => this.trims.set(view.id, { orderId: s.orderId, updateId, serialNumber: vehicle.serialNumber }));
      } else {
        enqueueVdaInstantActions(this.ctx, this.opts.interfaceName, vehicle, [{ actionId: `${s.orderId}-cancel-${now}`, actionType: 'cancelOrder', blockingType: 'HARD' }]);
      }
      if (entry.sent === 1) this.journal(view.id, TRAFFIC_EVENTS.moveCanceled, { orderId: s.orderId, at: s.lastNodeId, reason, ...(horizonOnly ? { by: 'horizonTrim' } : {}) });
    });
    this.queued = true;
    // Written by instant-actions.ts, not recorded here: the publisher reads the outbox instead.
    if (!horizonOnly) this.uncaptured = true;
    this.ctx.logger.warn({ deviceId: view.id, orderId: s.orderId, node: s.lastNodeId, reason, attempt: entry.sent, horizonOnly }, 'traffic: a stranded order is canceled on its vehicle');
  }

  /** The final state of the trip `orderId` of this vehicle, if it has ended. */
  private endedTripOf(vehicleId: string, orderId: string): TaskState | undefined {
    const task = this.ctx.store.getTask(orderId);
    return task && task.deviceId === vehicleId && task.deviceClass === 'amr' && DONE.includes(task.state) ? task.state : undefined;
  }

  /** The open trip task the vehicle's state carries, if it is this vehicle's. */
  private openTripOf(vehicleId: string, s: VdaState): TaskRecord | undefined {
    if (!s.orderId) return undefined;
    const task = this.ctx.store.getTask(s.orderId);
    return task && task.deviceId === vehicleId && task.deviceClass === 'amr' && !DONE.includes(task.state) ? task : undefined;
  }

  /** The latest route journaled for the task: at dispatch, or by a re-route since. */
  private journaledRoute(task: TaskRecord): string[] | undefined {
    const events = [
      ...this.ctx.store.aggregateEvents('task', task.id).filter((e) => e.type === 'task.dispatched'),
      ...(task.deviceId ? this.ctx.store.aggregateEvents('device', task.deviceId).filter((e) => e.data.taskId === task.id) : []),
    ].sort((a, b) => a.seq - b.seq);
    for (const e of events.reverse()) {
      const route = e.data.route;
      if (Array.isArray(route) && route.every((n): n is string => typeof n === 'string')) return route;
    }
    return undefined;
  }

  private journal(vehicleId: string, type: string, data: Record<string, unknown>): void {
    this.ctx.store.appendEvent({ type, aggregateType: 'device', aggregateId: vehicleId, orderId: undefined, actor: undefined, at: this.ctx.clock.now(), data });
  }

  private flush(): void {
    if (!this.queued) return;
    const committed = this.uncaptured ? undefined : this.committed;
    this.queued = false;
    this.uncaptured = false;
    this.committed = [];
    this.hooks.onCommandsQueued(committed);
  }
}

/**
 * A pack station with a queue lane admits as many vehicles as the lane and the station hold:
 * the others wait where they picked their load, not on the hallway before the lane.
 */
function stationZones(layout: AppContext['layout']): AdmissionZone[] {
  return layout.stations.flatMap((st) => {
    if (st.kind !== 'pack' || st.nodeId === undefined || !st.queueNodes || st.queueNodes.length === 0) return [];
    const nodes = [...st.queueNodes, st.nodeId];
    return [{ id: st.id, nodes, capacity: nodes.length }];
  });
}

/** Released nodes still ahead: the vehicle has somewhere to go. */
function hasBase(s: VdaState): boolean {
  return s.nodeStates.some((n) => n.released);
}

/** The sequenceId of the last node the vehicle may drive to: its last released node, or where it stands. */
function lastBaseSequenceId(s: VdaState): number {
  let last = s.lastNodeSequenceId;
  for (const n of s.nodeStates) if (n.released && n.sequenceId > last) last = n.sequenceId;
  return last;
}

function midEdge(s: VdaState): boolean {
  return (s.distanceSinceLastNode ?? 0) > ON_NODE_M;
}

/** The pick happens at the first visit of the pick node (see buildTripOrder). */
function pickIndexOf(route: Route, task: TaskRecord): number | undefined {
  const i = route.nodes.indexOf(task.plan.pickNodeId ?? '');
  return i >= 0 ? i : undefined;
}

function describeResolution(r: Exclude<Resolution, { kind: 'none' }>): Record<string, unknown> {
  return r.kind === 'reroute'
    ? { resolution: 'reroute', vehicle: r.vehicle, avoided: r.avoided }
    : { resolution: 'backoff', vehicle: r.vehicle, retreatTo: r.retreatTo, yieldTo: r.yieldTo };
}

/** Whether a new route (from index 0, like the drive's) keeps every node the vehicle was already released. */
function keepsReleasedBase(d: Drive, nodes: readonly string[]): boolean {
  for (let i = 0; i <= d.releasedUpTo; i++) if (nodes[i] !== d.route.nodes[i]) return false;
  return true;
}

function sameNodes(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
