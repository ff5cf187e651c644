/**
 * A simulated tote AMR behind the VDA 5050 vehicle helper. It drives accepted orders node by
 * node over the route graph with a trapezoidal speed profile, turns on the spot where the path
 * bends, stops at the end of the released base and waits for an update, lifts and sets down
 * totes, drains and charges its battery, and honours pause, resume and cancel.
 *
 * Straight runs of nodes without actions are driven as one move (no stop at each grid node);
 * a pause or cancel stops the robot where it is, and resuming re-plans from that point. When
 * the base is extended straight ahead while it drives, the move is extended from where the
 * robot is, at the speed it has, instead of braking to a halt at the old base end.
 *
 * Motion is event-driven, not integrated in ticks: a move's arrival at each of its nodes is
 * computed from the speed profile (`trapezoidTimeTo`) and scheduled as one timer, as is the end
 * of a turn. In between, the pose is worked out from the profile whenever something needs it
 * (a state, a visualization, a pause), and the battery is integrated over the interval. A
 * discrete-event run thus pays one event per node reached rather than four or ten per second.
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
import { angleDelta, distance, heading, pointAlong, trapezoidAt, trapezoidTime, trapezoidTimeTo, turnTime, type AxisLimits, type Point } from './kinematics.js';
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
  /**
   * State is published at least this often (5000 ms by default; VDA 5050 asks for at least one
   * every 30 s), besides one per node reached and per change.
   */
  stateIntervalMs?: number;
  /**
   * Visualization period while moving (500 ms by default, i.e. 2 Hz); 0 or Infinity sends none.
   * Every state carries the pose as well, so a standing robot needs no visualization.
   */
  visualizationIntervalMs?: number;
  /** Shared with the other robots of the site; a robot alone gets its own. */
  occupancy?: NodeOccupancy;
}

/** A node ahead on the current move: `at` metres into it, reached at clock time `dueAt` (ms). */
interface DriveMark {
  node: VdaNode;
  at: number;
  dueAt: number;
}

type Activity =
  | { kind: 'idle' }
  | { kind: 'turn'; from: number; to: number; startedAt: number; duration: number }
  | {
      kind: 'drive';
      points: Point[];
      marks: DriveMark[];
      length: number;
      limits: AxisLimits;
      direction: number;
      startedAt: number;
      duration: number;
      /** Metres into the move of the last node reached (0 until the first; negative when the move began past it). */
      passed: number;
      /** Speed at the start, m/s: 0, or the speed it had when an extended base let it drive on. */
      v0: number;
    }
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
  private readonly stateIntervalMs: number;
  private readonly vizIntervalMs: number;
  private activity: Activity = { kind: 'idle' };
  private cancelTimer: (() => void) | undefined;
  private cancelHeartbeat: (() => void) | undefined;
  private cancelVisualization: (() => void) | undefined;
  private pendingActions: VdaAction[] = [];
  /** Remaining milliseconds of an action interrupted by a pause. */
  private pausedActionLeft: number | undefined;
  private paused = false;
  private charging = false;
  private battery: number;
  private batteryAt: number;
  private lastVizAt = -Infinity;
  /** Nesting depth of the event being handled; the states it asks for go out once, at its end. */
  private eventDepth = 0;
  private statePending = false;
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
    this.stateIntervalMs = opts.stateIntervalMs ?? 5000;
    const viz = opts.visualizationIntervalMs ?? 500;
    this.vizIntervalMs = viz > 0 ? viz : Infinity;
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
    this.faults.onChange((kind, started) => this.asOneEvent(() => this.applyFault(kind, started)));
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
    this.cancelVisualization?.();
    this.cancelWait?.();
    this.occupy([]);
    await this.vehicle.close(graceful);
  }

  private wire(): void {
    this.vehicle.onOrder((order, isUpdate) =>
      this.asOneEvent(() => {
        const stitch = order.nodes[0];
      // Actions an update adds to a node we already stand on run right away.
        if (isUpdate && stitch !== undefined && stitch.sequenceId <= this.vehicle.stateField('lastNodeSequenceId')) this.queueActions(stitch);
        if (!isUpdate) {
          this.pendingActions = [];
          if (this.blockedOn !== undefined) this.vehicle.clearErrors(NODE_OCCUPIED);
          this.blockedOn = undefined;
        }
        if (isUpdate && this.activity.kind === 'drive') this.extendDrive();
        this.next();
      }),
    );
    this.vehicle.onInstantAction((a) => this.asOneEvent(() => this.instant(a)));
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
    this.startMotion();
  }

  private startDrive(direction: number): void {
    const points: Point[] = [this.here()];
    const marks: DriveMark[] = [];
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
      marks.push({ node, at: length, dueAt: 0 });
      const edge = edges.find((e) => e.endNodeId === node.nodeId && e.sequenceId === node.sequenceId - 1);
      if (edge?.maxSpeed !== undefined) maxSpeed = Math.min(maxSpeed, edge.maxSpeed);
      for (const a of edge?.actions ?? []) {
        if (this.vehicle.actionStatus(a.actionId) === 'WAITING') this.vehicle.setActionStatus(a.actionId, 'FAILED', 'edge actions are not supported');
      }
      // Stop where there is work to do; the base end is reached when the loop runs out.
      if (node.actions.length > 0) break;
    }
    const limits = { maxSpeed, accel: this.physics.accel };
    const startedAt = this.clock.now();
    for (const m of marks) m.dueAt = startedAt + trapezoidTimeTo(length, limits, m.at) * 1000;
    if (this.blockedOn !== undefined) this.vehicle.clearErrors(NODE_OCCUPIED);
    this.blockedOn = undefined;
    this.cancelWait?.();
    this.cancelWait = undefined;
    this.occupy([this.lastNode, ...marks.map((m) => m.node.nodeId)]);
    this.setCharging(false);
    this.setActivity({ kind: 'drive', points, marks, length, limits, direction, startedAt, duration: trapezoidTime(length, limits) * 1000, passed: 0, v0: 0 });
    this.vehicle.setDriving(true);
    this.vehicle.setNewBaseRequest(this.nearBaseEnd());
    this.updatePose();
    this.publish();
    this.startMotion();
  }

  /**
   * The base grew while the robot drives. If the released nodes after the end of this move
   * carry straight on, are free, allow its speed and the move's last node has no work to do,
   * it drives on into them without braking to a halt at the old end: the move is re-planned
   * from where it is, at the speed it has. Otherwise the move ends as planned and `next()`
   * takes it from there. Either way the nodes still ahead are taken as the update left them
   * (it may have added actions to the last one).
   */
  private extendDrive(): void {
    const a = this.activity;
    if (a.kind !== 'drive' || this.paused || this.broken) return;
    // A slowdown that began during the move applies from the next one: do not carry the old speed on.
    const extendable = a.limits.maxSpeed <= this.physics.maxSpeed * this.faults.speedFactor;
    const rest = this.vehicle.remainingNodes;
    const ahead: DriveMark[] = [];
    for (const m of a.marks) {
      const node = rest.find((n) => n.sequenceId === m.node.sequenceId);
      if (node === undefined) return;
      ahead.push({ node, at: m.at, dueAt: m.dueAt });
    }
    a.marks = ahead;
    const end = ahead[ahead.length - 1];
    if (!extendable || end === undefined || end.node.actions.length > 0) return;
    const edges = this.vehicle.remainingEdges;
    let last = a.points[a.points.length - 1] as Point;
    let length = a.length;
    const added: { node: VdaNode; p: Point; at: number }[] = [];
    for (const node of rest.slice(rest.indexOf(end.node) + 1)) {
      const p = node.released ? this.positionOf(node) : undefined;
      if (p === undefined || Math.abs(angleDelta(a.direction, heading(last, p))) > ALIGNED || !this.occupancy.mayEnter(this.serialNumber, node.nodeId)) break;
      const edge = edges.find((e) => e.endNodeId === node.nodeId && e.sequenceId === node.sequenceId - 1);
      if (edge?.maxSpeed !== undefined && edge.maxSpeed < a.limits.maxSpeed) break;
      for (const x of edge?.actions ?? []) {
        if (this.vehicle.actionStatus(x.actionId) === 'WAITING') this.vehicle.setActionStatus(x.actionId, 'FAILED', 'edge actions are not supported');
      }
      length += distance(last, p);
      last = p;
      added.push({ node, p, at: length });
      if (node.actions.length > 0) break;
    }
    if (added.length === 0) return;
    const now = this.clock.now();
    const { position, velocity } = trapezoidAt(a.length, a.limits, (now - a.startedAt) / 1000, a.v0);
    const points = [pointAlong(a.points, position), ...a.points.slice(a.points.length - ahead.length), ...added.map((x) => x.p)];
    const marks: DriveMark[] = [...ahead.map((m) => ({ node: m.node, at: m.at - position, dueAt: 0 })), ...added.map((x) => ({ node: x.node, at: x.at - position, dueAt: 0 }))];
    const left = length - position;
    for (const m of marks) m.dueAt = now + trapezoidTimeTo(left, a.limits, m.at, velocity) * 1000;
    this.occupy([this.lastNode, ...marks.map((m) => m.node.nodeId)]);
    this.cancelTimer?.();
    this.cancelVisualization?.();
    this.cancelVisualization = undefined;
    this.activity = { ...a, points, marks, length: left, startedAt: now, duration: trapezoidTime(left, a.limits, velocity) * 1000, passed: a.passed - position, v0: velocity };
    if (this.nearBaseEnd()) {
      this.vehicle.setNewBaseRequest(true);
      this.publish();
    }
    this.startMotion();
  }

  /** A turn or drive has just begun: visualize if due, and schedule its next event. */
  private startMotion(): void {
    this.updatePose();
    this.visualizeIfDue();
    this.scheduleMotion();
  }

  /**
   * One timer for the move's next event: the next node of a drive, or the end of a turn. Due
   * times are rounded up to whole milliseconds so that the clock stays on integer times.
   */
  private scheduleMotion(): void {
    const a = this.activity;
    let dueAt: number;
    if (a.kind === 'turn') dueAt = a.startedAt + a.duration;
    else if (a.kind === 'drive') dueAt = a.marks[0]?.dueAt ?? a.startedAt + a.duration;
    else return;
    this.cancelTimer = this.clock.setTimer(() => this.asOneEvent(() => this.motionEvent()), Math.max(0, Math.ceil(dueAt - this.clock.now())));
  }

  /** The node a drive was heading for is reached (or the turn is done). */
  private motionEvent(): void {
    this.cancelTimer = undefined;
    const a = this.activity;
    if (a.kind === 'turn') return this.finishMove();
    if (a.kind !== 'drive') return;
    this.updateBattery();
    this.reachDue(true);
    if (a.marks.length === 0) return this.finishMove();
    this.scheduleMotion();
  }

  /**
   * Marks every node of the drive that is due by now as reached, with its actions queued; with
   * `force` at least the next one (a timer fired for it: the clock may round a hair early).
   * Each node reached on the way is published; the last node of the move is published by
   * finishMove, with driving=false.
   */
  private reachDue(force: boolean): void {
    const a = this.activity;
    if (a.kind !== 'drive') return;
    const now = this.clock.now();
    let first = force;
    for (let m = a.marks[0]; m !== undefined && (first || m.dueAt <= now); m = a.marks[0]) {
      first = false;
      a.marks.shift();
      a.passed = m.at;
      this.reached(m.node, a.marks.map((x) => x.node.nodeId));
      this.queueActions(m.node);
      if (a.marks.length > 0) {
        this.updatePose();
        this.publish();
      }
    }
  }

  /** Sets the pose (and speed) of a turn or drive to where the profile has it now. */
  private updatePose(): void {
    const a = this.activity;
    const now = this.clock.now();
    if (a.kind === 'turn') {
      const f = a.duration === 0 ? 1 : Math.min(1, (now - a.startedAt) / a.duration);
      const omega = f < 1 ? (Math.sign(angleDelta(a.from, a.to)) * 2 * Math.PI * this.faults.speedFactor) / this.physics.turnSecondsPerRevolution : 0;
      this.setPose({ ...this.here(), theta: normalize(a.from + angleDelta(a.from, a.to) * f) }, { vx: 0, vy: 0, omega });
      return;
    }
    if (a.kind !== 'drive') return;
    const { position, velocity } = trapezoidAt(a.length, a.limits, (now - a.startedAt) / 1000, a.v0);
    const p = pointAlong(a.points, position);
    this.setPose({ x: p.x, y: p.y, theta: a.direction }, { vx: velocity, vy: 0, omega: 0 }, Math.max(0, position - a.passed));
  }

  /**
   * Publishes a visualization now if the last is a period old, and schedules the next one if the
   * move lasts that long (so a short move schedules nothing).
   */
  private visualizeIfDue(): void {
    const a = this.activity;
    if (this.vizIntervalMs === Infinity || (a.kind !== 'turn' && a.kind !== 'drive')) return;
    const now = this.clock.now();
    if (now - this.lastVizAt >= this.vizIntervalMs) {
      this.lastVizAt = now;
      this.fireAndForget(this.vehicle.publishVisualization());
    }
    const nextAt = this.lastVizAt + this.vizIntervalMs;
    if (nextAt >= a.startedAt + a.duration) return;
    this.cancelVisualization?.();
    this.cancelVisualization = this.clock.setTimer(() => {
      this.cancelVisualization = undefined;
      this.updatePose();
      this.visualizeIfDue();
    }, nextAt - now);
  }

  /** The move is complete: stand exactly at its end, report it and go on. */
  private finishMove(): void {
    const a = this.activity;
    this.cancelVisualization?.();
    this.cancelVisualization = undefined;
    this.updateBattery();
    if (a.kind === 'turn') this.setPose({ ...this.here(), theta: normalize(a.to) }, { vx: 0, vy: 0, omega: 0 });
    else if (a.kind === 'drive') {
      const end = a.points[a.points.length - 1] ?? this.here();
      this.setPose({ x: end.x, y: end.y, theta: a.direction }, { vx: 0, vy: 0, omega: 0 }, 0);
    }
    this.activity = { kind: 'idle' };
    this.vehicle.setDriving(false);
    this.publish();
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
      this.clock.setTimer(() => this.asOneEvent(() => this.next()), 0);
    });
    if (this.vehicle.stateField('driving')) {
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
    this.cancelTimer = this.clock.setTimer(() => this.asOneEvent(() => this.finishAction(action)), ms);
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
      this.cancelVisualization?.();
      this.cancelVisualization = undefined;
      this.updateBattery();
      this.reachDue(false);
      this.updatePose();
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
    if (horizonWaiting !== this.vehicle.stateField('newBaseRequest')) {
      this.vehicle.setNewBaseRequest(horizonWaiting);
      this.publish();
    }
    this.atChargerCheck();
  }

  private atChargerCheck(): void {
    // Horizon left is an order still held by master control (its base not extended yet), even
    // with no action pending on it: waiting there is being blocked, not charging.
    if (!this.vehicle.orderActive && this.vehicle.remainingNodes.length === 0 && this.atCharger() && this.battery < 100 && !this.charging) {
      this.setCharging(true);
      this.publish();
    }
  }

  private atCharger(): boolean {
    const node = this.vehicle.stateField('lastNodeId');
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

  /**
   * A state every `stateIntervalMs` whatever else was sent, with the pose of a move brought up
   * to date. (Sending it only into silences saved few messages, and the core's traffic control
   * turned out to move robots on later without the regular beat: kept unconditional.)
   */
  private heartbeat(): void {
    if (this.stopped) return;
    this.cancelHeartbeat = this.clock.setTimer(() => {
      this.updateBattery();
      this.updatePose();
      this.publish();
      this.heartbeat();
    }, this.stateIntervalMs);
  }

  private fail(description: string): void {
    this.vehicle.addError({ errorType: 'navigationError', errorLevel: 'FATAL', errorDescription: description, errorReferences: [{ referenceKey: 'orderId', referenceValue: this.vehicle.stateField('orderId') }] });
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

  /**
   * Sends the state, or within an event notes that it is due: everything one event changes (a
   * move ends at a node and the next move or action starts there, in the same instant) goes out
   * as one state message carrying all those changes, rather than one message per step.
   */
  private publish(): void {
    this.mark();
    if (this.stopped) return;
    if (this.eventDepth > 0) {
      this.statePending = true;
      return;
    }
    this.fireAndForget(this.vehicle.publishState());
  }

  /** Runs one event's handling; the state it published (if any) is sent once, when it is done. */
  private asOneEvent(handle: () => void): void {
    this.eventDepth++;
    try {
      handle();
    } finally {
      this.eventDepth--;
      if (this.eventDepth === 0 && this.statePending) {
        this.statePending = false;
        this.publish();
      }
    }
  }

  private fireAndForget(p: Promise<unknown>): void {
    // Publish failures are counted by the vehicle helper; the next event re-sends state.
    p.catch(() => undefined);
  }
}

function normalize(theta: number): number {
  return angleDelta(0, theta);
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
