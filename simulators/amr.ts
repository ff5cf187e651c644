/**
 * A simulated tote AMR behind the VDA 5050 vehicle helper. It drives accepted orders node by
 * node over the route graph with a trapezoidal speed profile, turns on the spot where the path
 * bends, stops at the end of the released base and waits for an update, lifts and sets down
 * totes, drains and charges its battery, and honours pause, resume and cancel.
 *
 * Straight runs of nodes without actions are driven as one move (no stop at each grid node);
 * a pause or cancel stops the robot where it is, and resuming re-plans from that point.
 *
 * Robots of one site share a node occupancy map: a robot occupies the node it stands on and the
 * nodes it is driving into, and never enters a node another occupies. Told to, it waits there
 * (not driving) until the node is free, and the map counts a conflict. Only released (base)
 * nodes are driven; nearing the end of its base with horizon left, it asks for more
 * (`newBaseRequest`).
 */
import { VdaVehicle, type DeviceLink } from '../devices/index.js';
import type { VdaAction, VdaNode } from '../protocols/index.js';
import type { SiteLayout } from '../src/index.js';
import { amrFactsheet, DEFAULT_AMR_PHYSICS, type AmrPhysics } from './amr-factsheet.js';
import { batteryAfter, type BatteryMode } from './battery.js';
import { realClock, type SimClock } from './clock.js';
import { angleDelta, distance, heading, pointAlong, trapezoidAt, trapezoidTime, turnTime, type AxisLimits, type Point } from './kinematics.js';
import { NodeOccupancy } from './node-occupancy.js';
import { FaultState, type Fault, type FaultKind, type Faultable } from './faults.js';
import type { InterruptibleLink } from './interruptible-link.js';
import { interruptibleFactory, type LinkHolder } from './sim-link.js';
import { UtilizationMeter, type HasUtilization, type Utilization, type UtilizationState } from './utilization.js';

export type AmrSpec = SiteLayout['devices']['amrs'][number];

export interface SimulatedAmrOptions {
  layout: SiteLayout;
  spec: AmrSpec;
  interfaceName: string;
  /** Broker URL; or `link` for an in-memory transport. */
  url?: string;
  link?: DeviceLink;
  clock?: SimClock;
  username?: string;
  password?: string;
  physics?: Partial<AmrPhysics>;
  /** Percent at start; 100 by default. */
  initialBattery?: number;
  /** Motion is integrated in ticks of this many milliseconds (100 by default). */
  tickMs?: number;
  /** State is published at least this often (5000 ms by default). */
  stateIntervalMs?: number;
  /** Visualization period while moving (500 ms by default, i.e. 2 Hz). */
  visualizationIntervalMs?: number;
  /** Shared with the other robots of the site; a robot alone gets its own. */
  occupancy?: NodeOccupancy;
}

type Activity =
  | { kind: 'idle' }
  | { kind: 'turn'; from: number; to: number; startedAt: number; duration: number }
  | { kind: 'drive'; points: Point[]; marks: { node: VdaNode; at: number }[]; length: number; limits: AxisLimits; direction: number; startedAt: number; duration: number }
  | { kind: 'action'; action: VdaAction; endsAt: number };

/** Within this distance (m) the robot counts as standing on a node. */
const ON_NODE = 0.05;
/** Heading differences below this (rad) need no turn. */
const ALIGNED = 0.01;
/** With this many released nodes or fewer still ahead and horizon waiting, ask for more base. */
const NEAR_BASE_END = 1;
/** Warning while it waits for a node another robot occupies. */
const NODE_OCCUPIED = 'nodeOccupied';

export class SimulatedAmr implements Faultable, HasUtilization {
  readonly vehicle: VdaVehicle;
  readonly serialNumber: string;
  private readonly clock: SimClock;
  private readonly physics: AmrPhysics;
  private readonly coords: Map<string, Point>;
  private readonly chargers: Set<string>;
  /** Pack stations whose operator's pick time is given: node -> seconds per unit. */
  private readonly stationPickSeconds: Map<string, number>;
  /** Units picked on this trip so far (the pick actions' `quantity`), picked again at the station. */
  private unitsAboard = 0;
  private readonly mapId: string;
  private readonly tickMs: number;
  private readonly stateIntervalMs: number;
  private readonly vizIntervalMs: number;
  private activity: Activity = { kind: 'idle' };
  private cancelTimer: (() => void) | undefined;
  private cancelHeartbeat: (() => void) | undefined;
  private pendingActions: VdaAction[] = [];
  /** Remaining milliseconds of an action interrupted by a pause. */
  private pausedActionLeft: number | undefined;
  private paused = false;
  private charging = false;
  private battery: number;
  private batteryAt: number;
  private lastVizAt = -Infinity;
  /** Kept here as well as in the vehicle state, which is only readable as a copy. */
  private pose: Point & { theta: number };
  private stopped = false;
  private readonly occupancy: NodeOccupancy;
  /** Nodes this robot occupies: the last one reached and those it is driving into. */
  private occupied = new Set<string>();
  private lastNode: string;
  /** The node it was told to enter while another robot is on it (counted once per wait). */
  private blockedOn: string | undefined;
  private cancelWait: (() => void) | undefined;
  private readonly meter: UtilizationMeter;
  private readonly faults: FaultState;
  private link: InterruptibleLink | undefined;
  /** Broken down: stopped where it is until repaired. */
  private broken = false;

  private constructor(vehicle: VdaVehicle, opts: SimulatedAmrOptions, clock: SimClock, physics: AmrPhysics) {
    this.vehicle = vehicle;
    this.serialNumber = opts.spec.serialNumber;
    this.clock = clock;
    this.physics = physics;
    this.coords = new Map(opts.layout.graph.nodes.map((n) => [n.id, { x: n.x, y: n.y }]));
    this.chargers = new Set(opts.layout.chargers.map((c) => c.nodeId));
    this.stationPickSeconds = new Map(opts.layout.stations.flatMap((st) => (st.kind === 'pack' && st.nodeId !== undefined && st.pickTime !== undefined ? [[st.nodeId, st.pickTime] as const] : [])));
    this.mapId = opts.layout.site.mapId;
    this.tickMs = opts.tickMs ?? 100;
    this.stateIntervalMs = opts.stateIntervalMs ?? 5000;
    this.vizIntervalMs = opts.visualizationIntervalMs ?? 500;
    const start = this.coords.get(opts.spec.startNode) ?? { x: 0, y: 0 };
    this.pose = { ...start, theta: 0 };
    this.occupancy = opts.occupancy ?? new NodeOccupancy();
    this.lastNode = opts.spec.startNode;
    if (!this.occupancy.enter(this.serialNumber, this.lastNode)) this.occupancy.recordConflict(this.serialNumber, this.lastNode);
    else this.occupied.add(this.lastNode);
    this.battery = opts.initialBattery ?? 100;
    this.batteryAt = clock.now();
    this.meter = new UtilizationMeter(clock);
    this.faults = new FaultState(clock, ['breakdown', 'disconnect', 'slowdown']);
    this.faults.onChange((kind, started) => this.applyFault(kind, started));
  }

  static async start(opts: SimulatedAmrOptions): Promise<SimulatedAmr> {
    const clock = opts.clock ?? realClock();
    const physics: AmrPhysics = { ...DEFAULT_AMR_PHYSICS, ...opts.physics };
    if (opts.spec.maxSpeed !== undefined) physics.maxSpeed = opts.spec.maxSpeed;
    if (opts.spec.acceleration !== undefined) physics.accel = opts.spec.acceleration;
    const start = opts.layout.graph.nodes.find((n) => n.id === opts.spec.startNode);
    if (start === undefined) throw new RangeError(`unknown start node ${opts.spec.startNode}`);
    const vehicleOpts: Parameters<typeof VdaVehicle.connect>[0] = {
      interfaceName: opts.interfaceName,
      manufacturer: opts.spec.manufacturer,
      serialNumber: opts.spec.serialNumber,
      factsheet: amrFactsheet(opts.spec.model ?? 'sim-amr', physics),
      initial: {
        lastNodeId: start.id,
        agvPosition: { x: start.x, y: start.y, theta: 0, mapId: opts.layout.site.mapId, positionInitialized: true, localizationScore: 1 },
        batteryCharge: opts.initialBattery ?? 100,
      },
      now: () => clock.now(),
    };
    if (opts.link !== undefined) vehicleOpts.link = opts.link;
    if (opts.url !== undefined) vehicleOpts.url = opts.url;
    // Through an interruptible link, so that the `disconnect` fault can take the robot off the broker.
    const holder: LinkHolder = { link: undefined };
    const factory = interruptibleFactory(opts, holder);
    if (factory !== undefined) {
      vehicleOpts.link = await factory(`${opts.interfaceName}-${opts.spec.manufacturer}-${opts.spec.serialNumber}`, VdaVehicle.lastWill(vehicleOpts));
      delete vehicleOpts.url;
    }
    if (opts.username !== undefined) vehicleOpts.username = opts.username;
    if (opts.password !== undefined) vehicleOpts.password = opts.password;
    const vehicle = await VdaVehicle.connect(vehicleOpts);
    const amr = new SimulatedAmr(vehicle, opts, clock, physics);
    amr.link = holder.link;
    amr.wire();
    return amr;
  }

  /** Battery charge in percent, brought up to date. */
  get batteryCharge(): number {
    this.updateBattery();
    return this.battery;
  }

  /** A fault to inject: the battery is suddenly at `percent` (an old pack, a cold night). */
  drainBattery(percent: number): void {
    this.updateBattery();
    this.battery = Math.max(0, Math.min(this.battery, percent));
    this.vehicle.setBattery(Math.round(this.battery * 100) / 100, this.charging);
    this.publish();
  }

  /** Where this robot's time went (busy, idle, charging, blocked, fault), for the run's KPIs. */
  utilization(): Utilization {
    this.mark();
    return this.meter.snapshot();
  }

  /**
   * Milliseconds spent blocked: told onto a node another robot occupies, or standing at the end
   * of its released path while the rest of its order is still horizon (traffic control holds it).
   */
  get blockedMs(): number {
    return this.utilization().blockedMs;
  }

  get faultKinds(): readonly FaultKind[] {
    return this.link === undefined ? ['breakdown', 'slowdown'] : this.faults.kinds;
  }

  get activeFaults(): readonly FaultKind[] {
    return this.faults.activeKinds;
  }

  /**
   * A breakdown stops the robot where it is with a FATAL `breakdown` error (no order reference:
   * the order is delayed, not failed) until repaired; a slowdown caps its speed and stretches
   * turns and handling; a disconnect takes it off the broker (its last will fires) for a while.
   */
  injectFault(fault: Fault): void {
    if (!this.faultKinds.includes(fault.kind)) return;
    this.faults.inject(fault);
  }

  async stop(graceful = true): Promise<void> {
    this.faults.dispose();
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelHeartbeat?.();
    this.cancelWait?.();
    this.occupy([]);
    await this.vehicle.close(graceful);
  }

  private wire(): void {
    this.vehicle.onOrder((order, isUpdate) => {
      const stitch = order.nodes[0];
      // Actions an update adds to a node we already stand on run right away.
      if (isUpdate && stitch !== undefined && stitch.sequenceId <= this.vehicle.state.lastNodeSequenceId) this.queueActions(stitch);
      if (!isUpdate) {
        this.pendingActions = [];
        if (this.blockedOn !== undefined) this.vehicle.clearErrors(NODE_OCCUPIED);
        this.blockedOn = undefined;
      }
      this.next();
    });
    this.vehicle.onInstantAction((a) => this.instant(a));
    this.heartbeat();
    this.atChargerCheck();
  }

  /** Decides what to do next whenever the robot is not busy. */
  private next(): void {
    if (this.stopped || this.paused || this.broken || this.activity.kind !== 'idle') return;
    const action = this.pendingActions.shift();
    if (action !== undefined) return this.startAction(action);
    const head = this.vehicle.remainingNodes[0];
    if (head === undefined || !head.released) return this.settle();
    const target = this.positionOf(head);
    if (target === undefined) return this.fail(`node ${head.nodeId} has no position`);
    if (distance(this.here(), target) <= ON_NODE) {
      this.arrive(head, target);
      return this.next();
    }
    const direction = heading(this.here(), target);
    if (Math.abs(angleDelta(this.theta(), direction)) > ALIGNED) return this.startTurn(direction);
    this.startDrive(direction);
  }

  private startTurn(to: number): void {
    const from = this.theta();
    const duration = (turnTime(from, to, this.physics.turnSecondsPerRevolution) * 1000) / this.faults.speedFactor;
    this.setActivity({ kind: 'turn', from, to, startedAt: this.clock.now(), duration });
    this.vehicle.setDriving(true);
    this.tick();
  }

  private startDrive(direction: number): void {
    const points: Point[] = [this.here()];
    const marks: { node: VdaNode; at: number }[] = [];
    let length = 0;
    let maxSpeed = this.physics.maxSpeed * this.faults.speedFactor;
    const edges = this.vehicle.remainingEdges;
    for (const node of this.vehicle.remainingNodes) {
      if (!node.released) break;
      const p = this.positionOf(node);
      const last = points[points.length - 1] as Point;
      if (p === undefined || (marks.length > 0 && Math.abs(angleDelta(direction, heading(last, p))) > ALIGNED)) break;
      // Never into a node another robot is on: drive up to the one before it.
      if (!this.occupancy.mayEnter(this.serialNumber, node.nodeId)) {
        if (marks.length === 0) return this.waitFor(node.nodeId);
        break;
      }
      length += distance(last, p);
      points.push(p);
      marks.push({ node, at: length });
      const edge = edges.find((e) => e.endNodeId === node.nodeId && e.sequenceId === node.sequenceId - 1);
      if (edge?.maxSpeed !== undefined) maxSpeed = Math.min(maxSpeed, edge.maxSpeed);
      for (const a of edge?.actions ?? []) {
        if (this.vehicle.actionStatus(a.actionId) === 'WAITING') this.vehicle.setActionStatus(a.actionId, 'FAILED', 'edge actions are not supported');
      }
      // Stop where there is work to do; the base end is reached when the loop runs out.
      if (node.actions.length > 0) break;
    }
    const limits = { maxSpeed, accel: this.physics.accel };
    if (this.blockedOn !== undefined) this.vehicle.clearErrors(NODE_OCCUPIED);
    this.blockedOn = undefined;
    this.cancelWait?.();
    this.cancelWait = undefined;
    this.occupy([this.lastNode, ...marks.map((m) => m.node.nodeId)]);
    this.setCharging(false);
    this.setActivity({ kind: 'drive', points, marks, length, limits, direction, startedAt: this.clock.now(), duration: trapezoidTime(length, limits) * 1000 });
    this.vehicle.setDriving(true);
    this.vehicle.setNewBaseRequest(this.nearBaseEnd());
    this.publish();
    this.tick();
  }

  /** Advances the current move to now; finishes it or schedules the next tick. */
  private tick(): void {
    if (this.activity.kind !== 'turn' && this.activity.kind !== 'drive') return;
    const done = this.integrate();
    const now = this.clock.now();
    if (done) return this.finishMove();
    this.updateBattery();
    if (now - this.lastVizAt >= this.vizIntervalMs) {
      this.lastVizAt = now;
      this.fireAndForget(this.vehicle.publishVisualization());
    }
    this.cancelTimer = this.clock.setTimer(() => this.tick(), this.tickMs);
  }

  /** Brings pose and passed nodes of a turn or drive up to now; true when the move is complete. */
  private integrate(): boolean {
    const a = this.activity;
    const now = this.clock.now();
    if (a.kind === 'turn') {
      const f = a.duration === 0 ? 1 : Math.min(1, (now - a.startedAt) / a.duration);
      const omega = f < 1 ? (Math.sign(angleDelta(a.from, a.to)) * 2 * Math.PI * this.faults.speedFactor) / this.physics.turnSecondsPerRevolution : 0;
      this.setPose({ ...this.here(), theta: normalize(a.from + angleDelta(a.from, a.to) * f) }, { vx: 0, vy: 0, omega });
      return f >= 1;
    }
    if (a.kind !== 'drive') return false;
    const t = (now - a.startedAt) / 1000;
    const { position, velocity } = trapezoidAt(a.length, a.limits, t);
    const p = pointAlong(a.points, position);
    while (a.marks.length > 0 && (a.marks[0]?.at ?? Infinity) <= position + 1e-6) {
      const mark = a.marks.shift() as { node: VdaNode; at: number };
      this.reached(mark.node, a.marks.map((m) => m.node.nodeId));
      this.queueActions(mark.node);
      // The last node of the move is published by finishMove, with driving=false.
      if (a.marks.length > 0) this.publish();
    }
    const sinceNode = Math.max(0, position - distanceUpTo(a.points, a.points.length - 1 - a.marks.length));
    this.setPose({ x: p.x, y: p.y, theta: a.direction }, { vx: velocity, vy: 0, omega: 0 }, sinceNode);
    return t * 1000 >= a.duration;
  }

  private finishMove(): void {
    this.updateBattery();
    this.activity = { kind: 'idle' };
    this.vehicle.setDriving(false);
    this.publish();
    this.fireAndForget(this.vehicle.publishVisualization());
    this.next();
  }

  /** A node of the path reached: the robot leaves every node behind it, keeping `ahead`. */
  private reached(node: VdaNode, ahead: readonly string[]): void {
    this.vehicle.reachedNode(node.nodeId, node.sequenceId);
    this.lastNode = node.nodeId;
    this.occupy([node.nodeId, ...ahead]);
    if (this.nearBaseEnd()) this.vehicle.setNewBaseRequest(true);
  }

  /** Occupies exactly `nodes` (all free for this robot: checked before a move starts). */
  private occupy(nodes: readonly string[]): void {
    const keep = new Set(nodes);
    for (const n of this.occupied) if (!keep.has(n)) this.occupancy.leave(this.serialNumber, n);
    for (const n of keep) if (!this.occupancy.enter(this.serialNumber, n)) keep.delete(n);
    this.occupied = keep;
  }

  /**
   * Told to enter a node another robot is on: stand still, count it once, and try again when
   * that node is left (on the next tick, not inside the other robot's move).
   */
  private waitFor(nodeId: string): void {
    if (this.blockedOn !== nodeId) {
      this.blockedOn = nodeId;
      this.occupancy.recordConflict(this.serialNumber, nodeId);
      // Reported as a real vehicle reports an obstacle it will not drive into: a warning that clears when it moves on.
      this.vehicle.clearErrors(NODE_OCCUPIED);
      this.vehicle.addError({
        errorType: NODE_OCCUPIED,
        errorLevel: 'WARNING',
        errorDescription: `node ${nodeId} is occupied by ${this.occupancy.occupantOf(nodeId) ?? 'another vehicle'}; waiting`,
        errorReferences: [{ referenceKey: 'nodeId', referenceValue: nodeId }],
      });
      this.publish();
    }
    this.cancelWait?.();
    this.cancelWait = this.occupancy.whenLeft(nodeId, () => {
      this.cancelWait = undefined;
      this.clock.setTimer(() => this.next(), 0);
    });
    if (this.vehicle.state.driving) {
      this.vehicle.setDriving(false);
      this.publish();
    }
  }

  /** Horizon waits beyond the base, and the base is (nearly) used up. */
  private nearBaseEnd(): boolean {
    const rest = this.vehicle.remainingNodes;
    let released = 0;
    for (const n of rest) if (n.released) released++;
    return released < rest.length && released <= NEAR_BASE_END;
  }

  /** Standing on a node of the path: mark it reached and queue its actions. */
  private arrive(node: VdaNode, at: Point): void {
    this.setPose({ x: at.x, y: at.y, theta: this.theta() });
    this.reached(node, []);
    this.queueActions(node);
    this.publish();
  }

  private queueActions(node: VdaNode): void {
    for (const a of node.actions) if (this.vehicle.actionStatus(a.actionId) === 'WAITING') this.pendingActions.push(a);
  }

  private startAction(action: VdaAction): void {
    if (action.actionType !== 'pick' && action.actionType !== 'drop') {
      this.vehicle.setActionStatus(action.actionId, 'FAILED', `unsupported action type ${action.actionType}`);
      this.publish();
      return this.next();
    }
    this.vehicle.setActionStatus(action.actionId, 'INITIALIZING');
    this.publish();
    this.setActivity({ kind: 'action', action, endsAt: Infinity });
    // INITIALIZING and RUNNING are separate events so the core sees each transition.
    this.cancelTimer = this.clock.setTimer(() => this.runAction(action, this.actionMs(action)), 0);
  }

  private runAction(action: VdaAction, ms: number): void {
    this.vehicle.setActionStatus(action.actionId, 'RUNNING');
    this.publish();
    this.setActivity({ kind: 'action', action, endsAt: this.clock.now() + ms });
    this.cancelTimer = this.clock.setTimer(() => this.finishAction(action), ms);
  }

  private finishAction(action: VdaAction): void {
    const loadId = stringParam(action, 'loadId') ?? `tote-${this.serialNumber}`;
    if (action.actionType === 'pick') {
      this.vehicle.setLoads([{ loadId, loadType: stringParam(action, 'loadType') ?? 'TOTE', loadPosition: 'deck' }]);
      this.unitsAboard += unitsOf(action);
    } else {
      this.vehicle.setLoads([]);
      this.unitsAboard = 0;
    }
    this.vehicle.setActionStatus(action.actionId, 'FINISHED', `${action.actionType === 'pick' ? 'picked' : 'dropped'} ${loadId}`);
    this.activity = { kind: 'idle' };
    this.publish();
    this.next();
  }

  private instant(a: VdaAction): void {
    switch (a.actionType) {
      case 'startPause':
        this.pause();
        return this.finishInstant(a, 'FINISHED');
      case 'stopPause':
        this.finishInstant(a, 'FINISHED');
        return this.resume();
      case 'cancelOrder':
        return this.cancelOrder();
      case 'startCharging':
        if (!this.atCharger() || this.activity.kind !== 'idle') return this.finishInstant(a, 'FAILED', 'not standing at a charger');
        this.setCharging(true);
        return this.finishInstant(a, 'FINISHED');
      case 'stopCharging':
        this.setCharging(false);
        return this.finishInstant(a, 'FINISHED');
      default:
        return this.finishInstant(a, 'FAILED', `unsupported instant action ${a.actionType}`);
    }
  }

  private finishInstant(a: VdaAction, status: 'FINISHED' | 'FAILED', result?: string): void {
    this.vehicle.setActionStatus(a.actionId, status, result);
    this.publish();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (!this.broken) this.holdAction();
    this.vehicle.setPaused(true);
  }

  /** Stops motion and the running action's timer, remembering how much of the action is left. */
  private holdAction(): void {
    this.freeze();
    const a = this.activity;
    if (a.kind === 'action' && a.endsAt !== Infinity) {
      this.pausedActionLeft = Math.max(0, a.endsAt - this.clock.now());
      this.vehicle.setActionStatus(a.action.actionId, 'PAUSED');
    }
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.vehicle.setPaused(false);
    if (this.broken) {
      this.publish();
      return;
    }
    this.continueAction();
  }

  /** After a pause or a repair: finish the interrupted action, or re-plan the path from here. */
  private continueAction(): void {
    const a = this.activity;
    if (a.kind === 'action') {
      const left = this.pausedActionLeft;
      this.pausedActionLeft = undefined;
      if (left === undefined) this.runAction(a.action, this.actionMs(a.action));
      else this.runAction(a.action, left);
      return;
    }
    this.publish();
    this.next();
  }

  private cancelOrder(): void {
    this.freeze();
    if (this.blockedOn !== undefined) this.vehicle.clearErrors(NODE_OCCUPIED);
    this.blockedOn = undefined;
    this.cancelWait?.();
    this.cancelWait = undefined;
    this.activity = { kind: 'idle' };
    this.pendingActions = [];
    this.pausedActionLeft = undefined;
    this.mark();
    this.fireAndForget(this.vehicle.finishCancel().then(() => this.next()));
  }

  /**
   * Stops motion or action timers where they are: the robot brakes to a halt in place, and a
   * move is left idle so that `next()` re-plans from this point later.
   */
  private freeze(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.activity.kind === 'turn' || this.activity.kind === 'drive') {
      this.integrate();
      this.updateBattery();
      // Stopped between two nodes it overlaps both; the rest of the move it no longer enters.
      const a = this.activity;
      const next = a.kind === 'drive' ? a.marks[0] : undefined;
      this.occupy(next !== undefined && distance(this.here(), this.coords.get(this.lastNode) ?? this.here()) > ON_NODE ? [this.lastNode, next.node.nodeId] : [this.lastNode]);
      this.activity = { kind: 'idle' };
      this.vehicle.setDriving(false);
    }
  }

  /** Nothing left to drive: rest, request more base if a horizon is waiting, charge if on a charger. */
  private settle(): void {
    const horizonWaiting = this.vehicle.remainingNodes.length > 0;
    if (horizonWaiting !== this.vehicle.state.newBaseRequest) {
      this.vehicle.setNewBaseRequest(horizonWaiting);
      this.publish();
    }
    this.atChargerCheck();
  }

  private atChargerCheck(): void {
    if (!this.vehicle.orderActive && this.atCharger() && this.battery < 100 && !this.charging) {
      this.setCharging(true);
      this.publish();
    }
  }

  private atCharger(): boolean {
    const node = this.vehicle.state.lastNodeId;
    const at = this.coords.get(node);
    return this.chargers.has(node) && at !== undefined && distance(this.here(), at) <= ON_NODE;
  }

  private setCharging(charging: boolean): void {
    if (this.charging === charging) return;
    this.updateBattery();
    this.charging = charging;
    this.vehicle.setBattery(this.battery, charging);
  }

  private updateBattery(): void {
    const now = this.clock.now();
    const mode: BatteryMode = this.charging ? 'charging' : this.activity.kind === 'drive' || this.activity.kind === 'turn' ? 'driving' : 'idle';
    this.battery = batteryAfter(this.battery, mode, (now - this.batteryAt) / 1000);
    this.batteryAt = now;
    // A full battery ends the charge; the charger stops drawing current.
    if (this.charging && this.battery >= 100) this.charging = false;
    this.vehicle.setBattery(Math.round(this.battery * 100) / 100, this.charging);
  }

  private heartbeat(): void {
    if (this.stopped) return;
    this.cancelHeartbeat = this.clock.setTimer(() => {
      this.updateBattery();
      this.publish();
      this.heartbeat();
    }, this.stateIntervalMs);
  }

  private fail(description: string): void {
    this.vehicle.addError({ errorType: 'navigationError', errorLevel: 'FATAL', errorDescription: description, errorReferences: [{ referenceKey: 'orderId', referenceValue: this.vehicle.state.orderId }] });
    this.publish();
  }

  private setActivity(a: Activity): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.activity = a;
    this.mark();
  }

  /**
   * How long an action keeps the robot: lifting or setting down its load, and at a pick station
   * with an operator's `pickTime` the drop also waits while the operator picks the units the trip
   * brought (RAWSim-O keeps the pod at the station for the picks likewise).
   */
  private actionMs(action: VdaAction): number {
    const perUnit = action.actionType === 'drop' ? this.stationPickSeconds.get(this.lastNode) : undefined;
    const picking = perUnit !== undefined ? (Math.max(1, this.unitsAboard) * perUnit * 1000) / this.faults.speedFactor : 0;
    return this.handlingMs() + picking;
  }

  private handlingMs(): number {
    return (this.physics.handlingSeconds * 1000) / this.faults.speedFactor;
  }

  /** Books the time so far and notes what the robot is doing now. */
  private mark(): void {
    this.meter.set(this.utilizationState());
  }

  private utilizationState(): UtilizationState {
    if (this.broken) return 'fault';
    if (this.charging) return 'charging';
    const a = this.activity.kind;
    if (!this.paused && (a === 'drive' || a === 'turn' || a === 'action')) return 'busy';
    if (this.blockedOn !== undefined) return 'blocked';
    const rest = this.vehicle.remainingNodes;
    // Paused mid-order, or at the end of its base with horizon ahead: held by the master control.
    if (rest.length > 0 || this.pendingActions.length > 0 || (this.paused && this.vehicle.orderActive)) return 'blocked';
    return 'idle';
  }

  private applyFault(kind: FaultKind, started: boolean): void {
    if (this.stopped) return;
    if (kind === 'disconnect') {
      if (started) this.link?.interrupt();
      else this.link?.restore();
      return;
    }
    if (kind === 'slowdown') return;
    // A breakdown.
    if (started) {
      this.broken = true;
      if (!this.paused) this.holdAction();
      this.vehicle.addError({ errorType: 'breakdown', errorLevel: 'FATAL', errorDescription: 'drive fault: stopped, waiting for repair', errorReferences: [] });
      this.mark();
      this.publish();
      return;
    }
    this.broken = false;
    this.vehicle.clearErrors('breakdown');
    if (this.paused) {
      this.publish();
      return;
    }
    this.continueAction();
  }

  private positionOf(node: VdaNode): Point | undefined {
    return node.nodePosition ?? this.coords.get(node.nodeId);
  }

  private setPose(pose: Point & { theta: number }, velocity?: { vx: number; vy: number; omega: number }, distanceSinceLastNode?: number): void {
    this.pose = pose;
    this.vehicle.setPosition({ ...pose, mapId: this.mapId, positionInitialized: true, localizationScore: 1 }, velocity, distanceSinceLastNode);
  }

  private here(): Point {
    return { x: this.pose.x, y: this.pose.y };
  }

  private theta(): number {
    return this.pose.theta;
  }

  private publish(): void {
    this.mark();
    if (!this.stopped) this.fireAndForget(this.vehicle.publishState());
  }

  private fireAndForget(p: Promise<unknown>): void {
    // Publish failures are counted by the vehicle helper; the next event re-sends state.
    p.catch(() => undefined);
  }
}

function normalize(theta: number): number {
  return angleDelta(0, theta);
}

function distanceUpTo(points: readonly Point[], index: number): number {
  let sum = 0;
  for (let i = 1; i <= index && i < points.length; i++) sum += distance(points[i - 1] as Point, points[i] as Point);
  return sum;
}

/** The units a pick action takes (its `quantity`), 1 when it names none. */
function unitsOf(action: VdaAction): number {
  const q = Number(action.actionParameters?.find((p) => p.key === 'quantity')?.value);
  return Number.isFinite(q) && q > 0 ? q : 1;
}

function stringParam(action: VdaAction, key: string): string | undefined {
  const v = action.actionParameters?.find((p) => p.key === key)?.value;
  return typeof v === 'string' ? v : undefined;
}
