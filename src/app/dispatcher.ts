/**
 * Dispatch: turns planned tasks into device commands. A task goes out when its line's previous
 * step has finished, its bin is not in another line's hands, and a reachable device can take it.
 * The command is written to the outbox in the same transaction that marks the task dispatched,
 * so nothing is sent that is not durable and nothing durable is forgotten.
 *
 * AMR trips (issue "Execution" items 3 and 4): most urgent first (earliest promise, priority,
 * age), each to the vehicle of least estimated cost (src/domain/assignment.ts) among those whose
 * vehicle profile's pick and drop they support, with the actions that profile asks for; lines of
 * one order share a trip (one tote, several picks, one drop) up to the batch size; one active
 * trip per tote. Every choice is journaled (`task.assigned`) with the costs behind it. A vehicle
 * that refuses our orders is understood rather than retried: see `observeVehicleState`.
 */
import { encodeVda, encodeWcs, vdaTopic, wcsTopic, type VdaState } from '../../protocols/index.js';
import { actionIdOf, buildStepJob, buildTripOrder, planStopsRoute, tripPlanFor } from '../domain/commands.js';
import { CheapestCandidates, compareUrgency, DEFAULT_ASSIGNMENT_WEIGHTS, orderStops, type AssignmentWeights, type CandidateFacts, type CostBreakdown } from '../domain/assignment.js';
import type { Route } from '../domain/route-graph.js';
import { TravelTimes } from '../domain/travel-times.js';
import { STANDARD_PROFILE } from '../domain/vehicle-profiles.js';
import type { OutboxMessage, TaskRecord, TripPlan } from '../domain/records.js';
import type { AppContext } from './context.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import type { FleetProfiles } from './fleet-profiles.js';
import type { LineService } from './line-service.js';
import type { ReleasePlanner } from './release-planner.js';
import type { TrafficController } from './traffic-controller.js';
import { runInTransaction } from './unit-of-work.js';
import { correlationOf, vdaOrderHeader } from './correlation.js';

export interface DispatcherOptions {
  interfaceName: string;
  /** MQTT 5 message expiry on wcs jobs: stale commands die in the broker (DESIGN §2.2). */
  jobExpirySeconds: number;
  /** Most pick stops of one order's lines on one AMR trip (the tote's room); a profile may allow fewer. */
  tripBatchSize?: number;
  /** Low-battery line (percent) for the assignment cost's battery penalty. */
  lowBatteryPercent?: number;
  weights?: AssignmentWeights;
  /** Wall-clock budget for older waiting trips per pass (default PASS_BUDGET_MS); Infinity: no budget (fast simulation). */
  passBudgetMs?: number;
}

/** A whole message for the outbox: topic, payload and what the device must echo. */
interface FirstCommand {
  topic: string;
  payload: Buffer;
  expirySeconds: number | undefined;
  correlation: string;
}

const ACTIVE = ['DISPATCHED', 'RUNNING', 'PAUSED'] as const;
/** How many waiting fixed-equipment steps one pass looks at; the rest wait for the next pass. */
const STEP_WINDOW = 1000;
/** Waiting trips one pass ranks by urgency: a few per free vehicle, at least enough to batch. */
const TRIP_WINDOW_MIN = 64;
const TRIP_WINDOW_MAX = 1000;
const MIN_PASS_GAP_MS = 5;
/**
 * Work per pass (issue 4's dispatch latency: line released -> first command on the wire). A
 * line's latency is the length of the pass that released it, since its command goes out when
 * that pass commits: every line a pass releases waits for the work of all the others and for
 * the one commit. So a pass releases few lines, commands every line it released, takes older
 * waiting trips only while PASS_BUDGET_MS lasts, commits, hands its commands to the publisher,
 * and the next pass follows at once (setImmediate, so MQTT and HTTP get the event loop in
 * between) while work is left.
 *
 * How few adapts to the queue: one line per pass while only a few wait (the usual case: ~3 ms
 * from release to the wire at 200 lines/s), RELEASE_MAX_PER_PASS while a queue of
 * BACKLOG_LINES or more waits (a steady 200 lines/s on a busy core keeps some lines queued
 * between passes). Measured there: two per pass gave p50 ~3 ms and p99 ~8–10 ms, four gave
 * ~5 ms and 12–18 ms, and doubling up to eight while a deep queue lasted gave p50 ~6 ms — the
 * queue at 200 lines/s is deep enough to trigger it. A backlog (after a restart, a flood of
 * orders) drains at two lines per commit, several hundred lines a second.
 * Counts, not timing: wall time on a crowded machine measures preemption, and a count keeps
 * fast simulation deterministic.
 */
const RELEASE_MAX_PER_PASS = 2;
const BACKLOG_LINES = 8;
const PASS_BUDGET_MS = 4;
/** How often the tote index is rebuilt from the store (it forgets totes no one asks about). */
const TOTE_INDEX_REFRESH_MS = 10_000;
/** Candidates kept in a `task.assigned` journal entry: the chosen one and the runners-up. */
const JOURNALED_CANDIDATES = 3;
/** Orders whose urgency is cached (promise and priority do not change once released). */
const URGENCY_CACHE = 5000;
/** VDA 5050 errors with which a vehicle refuses an order (§6.6). */
const ORDER_REJECTIONS = new Set(['orderError', 'validationError']);
/** How a vehicle says it does not know an action type (result description or error type). */
const UNSUPPORTED = /unsupported|not supported|unknown action|invalid action/i;

/**
 * What a dispatch pass looks at of one device, as of its last report: a report that leaves all
 * of it as it was cannot make a pass do anything new (see `mattersToDispatch`).
 */
interface DispatchFacts {
  reachable: boolean;
  /** When it was last heard from as of that report: a silence past its watchdog made it unreachable meanwhile. */
  lastSeenAt: number | undefined;
  connection: DeviceView['connection'];
  task: string | undefined;
  orderActive: boolean;
  paused: boolean;
  outOfService: boolean;
  lastNodeId: string | undefined;
  lowBattery: boolean;
  charging: boolean;
  /** The factsheet's list (replaced, never edited, when a new factsheet arrives). */
  supportedActions: readonly string[];
}

/** Why a vehicle takes no trips until its factsheet changes. */
interface Exclusion {
  reason: string;
  /** The factsheet's action list when excluded; a new factsheet lifts the exclusion. */
  actionsKey: string;
}

/** The free vehicles of one pass, as its trips read them (see Dispatcher.scanFleet). */
interface FleetScan {
  vehicles: readonly DeviceView[];
  /** Each vehicle's node in the travel tables; -1 if it has none. */
  at: Int32Array;
  /** The distinct top speeds of their profiles (undefined: the default): one travel table per trip for each. */
  speeds: readonly (number | undefined)[];
  /** Each vehicle's top speed, as an index into `speeds`. */
  speedIndex: Uint16Array;
  /** 1 once a vehicle has a trip in this pass. */
  taken: Uint8Array;
  free: number;
  /** See unseenHomes. */
  homes: ReadonlySet<string>;
}

export class Dispatcher {
  private scheduled = false;
  private lastPassAt = 0;
  private stopped = false;
  private readonly excluded = new Map<string, Exclusion>();
  /** Vehicles that answered a line's trip with noRouteError: its next attempt goes elsewhere. */
  private readonly noRoute = new Map<string, Set<string>>();
  private readonly urgencyOf = new Map<string, { promisedBy: number | undefined; priority: number }>();
  private readonly weights: AssignmentWeights;
  /** Travel seconds between nodes for ranking vehicles, without a route search per vehicle. */
  private readonly travel: TravelTimes;
  /**
   * Tote -> AMR tasks that held it when last seen (one active task per tote). Only this class
   * makes AMR tasks active, so after reading the store once it learns each new holder as it
   * dispatches; a holder that has finished is dropped when its tote is next asked about.
   * Reading every active task each pass instead cost more than the rest of a small pass.
   */
  private toteHolders = new Map<string, Set<string>>();
  private toteIndexBuiltAt: number | undefined;
  /** The last pass stopped at its budget with trips that could go: the next one only dispatches. */
  private tripsLeft = false;
  /** Lines the next pass may release: 1, or RELEASE_MAX_PER_PASS while a queue of BACKLOG_LINES or more waits. */
  private releaseLimit = 1;
  /** Per device, what the dispatcher saw of it at its last report (`mattersToDispatch`). */
  private readonly facts = new Map<string, DispatchFacts>();
  /** Commands the open pass put in the outbox, handed to the publisher once the pass committed. */
  private passCommands: OutboxMessage[] = [];

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly lines: LineService,
    private readonly opts: DispatcherOptions,
    /**
     * Called after a pass committed: `committed` are the first commands that pass wrote to the
     * outbox (durable now, in outbox order), so the publisher can put them on the wire without
     * reading them back; anything else the pass queued (hand-overs) it finds in the outbox.
     */
    private readonly onCommandsQueued: (committed: readonly OutboxMessage[]) => void,
    private readonly release?: ReleasePlanner,
    /** Releases a trip's base only onto nodes reserved for its vehicle; without it, all at once. */
    private readonly traffic?: TrafficController,
    /** Vendors' vehicle profiles; without them, the VDA 5050 standard pick and drop for every vehicle. */
    private readonly profiles?: FleetProfiles,
  ) {
    this.weights = opts.weights ?? DEFAULT_ASSIGNMENT_WEIGHTS;
    this.travel = new TravelTimes(ctx.layout);
  }

  /**
   * Whether a device's report changed anything a dispatch pass looks at — it became reachable
   * or unreachable (a silence past its watchdog included), freed or took a task or order,
   * paused, moved to another node, crossed the low-battery line, started or stopped charging,
   * sent a new factsheet, went in or out of service — and the device is not holding a task.
   * Every vehicle reports about once a second; kicking a pass for each idle vehicle's unchanged
   * state made hundreds of empty passes a second. Anything that changes without a report (a
   * task finishing, operator commands) kicks on its own, and the periodic tick covers the rest.
   */
  mattersToDispatch(v: DeviceView): boolean {
    const now = this.ctx.clock.now();
    const reachable = v.class === 'amr' && this.profiles ? this.profiles.isReachable(v, now) : this.registry.isReachable(v, now);
    const watchdogMs = v.class === 'amr' && this.profiles ? this.profiles.watchdogMs(v) : this.registry.watchdogMs;
    const lowBattery = this.registry.isLowOnBattery(v);
    const was = this.facts.get(v.id);
    // Reachable at its last report, but silent past its watchdog since: unreachable until now.
    const wasReachable = was !== undefined && was.reachable && was.lastSeenAt !== undefined && now - was.lastSeenAt <= watchdogMs;
    const changed =
      was === undefined ||
      wasReachable !== reachable ||
      was.connection !== v.connection ||
      was.task !== v.task ||
      was.orderActive !== v.orderActive ||
      was.paused !== v.paused ||
      was.outOfService !== v.outOfService ||
      was.lastNodeId !== v.lastNodeId ||
      was.lowBattery !== lowBattery ||
      was.charging !== v.charging ||
      was.supportedActions !== v.supportedActions;
    if (was === undefined) {
      this.facts.set(v.id, { reachable, lastSeenAt: v.lastSeenAt, connection: v.connection, task: v.task, orderActive: v.orderActive, paused: v.paused, outOfService: v.outOfService, lastNodeId: v.lastNodeId, lowBattery, charging: v.charging, supportedActions: v.supportedActions });
      return v.task === undefined;
    }
    // Updated in place (every vehicle reports about once a second): no object per report.
    was.reachable = reachable;
    was.lastSeenAt = v.lastSeenAt;
    was.connection = v.connection;
    was.task = v.task;
    was.orderActive = v.orderActive;
    was.paused = v.paused;
    was.outOfService = v.outOfService;
    was.lastNodeId = v.lastNodeId;
    was.lowBattery = lowBattery;
    was.charging = v.charging;
    was.supportedActions = v.supportedActions;
    return changed && v.task === undefined;
  }

  /** Asks for a dispatch pass soon; many kicks in one tick make one pass. */
  kick(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // Under a burst of intake every group commit kicks; a pass every few ms serves them all.
    const wait = this.lastPassAt + MIN_PASS_GAP_MS - this.ctx.clock.now();
    if (wait > 0) this.ctx.clock.setTimer(wait, () => this.pass());
    else setImmediate(() => this.pass());
  }

  private pass(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.lastPassAt = this.ctx.clock.now();
    let more = false;
    try {
      more = this.runPass().more;
    } catch (err) {
      this.ctx.logger.error({ err }, 'dispatch pass failed');
    }
    // Work left over from a capped pass goes next, after whatever I/O is waiting.
    if (more && !this.scheduled && !this.stopped) {
      this.scheduled = true;
      setImmediate(() => this.pass());
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Passes until nothing is left to release or dispatch now; returns how many tasks were dispatched. */
  runOnce(): number {
    let dispatched = 0;
    for (;;) {
      const pass = this.runPass();
      dispatched += pass.dispatched;
      if (!pass.more) return dispatched;
    }
  }

  /**
   * One pass: release a few lines, dispatch waiting tasks within the pass budget, commit once
   * (each commit is an fsync: one per pass, not one per trip), hand the commands to the
   * publisher. `more`: it stopped at its limits with work left that could go now.
   */
  private runPass(): { dispatched: number; more: boolean } {
    const deadline = performance.now() + (this.opts.passBudgetMs ?? PASS_BUDGET_MS);
    // Lines released but not yet commanded are what the latency measures: none are released
    // while an earlier pass's trips still wait for their turn.
    const releaseLimit = this.tripsLeft ? 0 : this.releaseLimit;
    const fresh = new Set<string>();
    this.passCommands = [];
    const { released, dispatched, more, tripsLeft } = this.ctx.store.tx(() => {
      const released = this.release?.runOnce(releaseLimit, fresh) ?? 0;
      const trips = this.dispatchTrips(deadline, fresh);
      const steps = this.dispatchSteps();
      return { released, dispatched: trips.dispatched + steps, more: (releaseLimit > 0 && released >= releaseLimit) || trips.more, tripsLeft: trips.more };
    });
    this.tripsLeft = tripsLeft;
    if (releaseLimit > 0 && this.release) this.releaseLimit = this.release.waiting >= BACKLOG_LINES ? RELEASE_MAX_PER_PASS : 1;
    const committed = this.passCommands;
    this.passCommands = [];
    // Hand-overs to other sites are outbox messages too.
    if (dispatched > 0 || released > 0) this.onCommandsQueued(committed);
    return { dispatched, more };
  }

  /** Vehicles excluded from trips now, with why (for views and tests). */
  exclusions(): { deviceId: string; reason: string }[] {
    return [...this.excluded].map(([deviceId, e]) => ({ deviceId, reason: e.reason }));
  }

  // -- vehicles refusing work --------------------------------------------------------------------

  /**
   * Sees every VDA state before task progress does (which fails the refused trip, so its line is
   * tried again with attempts counted). What the refusal means for the next try is decided here:
   * - `orderError` / `validationError` on our trip, or a pick or drop FAILED as unsupported: the
   *   vehicle does not take our trips as its profile describes them. It gets no trips until its
   *   factsheet changes, so the line goes to another vehicle instead of back to this one.
   * - `noRouteError`: the vehicle's own map has no way there; that line avoids it from now on,
   *   and once every vehicle has said so the line's attempts run out and it is UNROUTABLE.
   * Each is journaled on the device with the vehicle's own words.
   */
  observeVehicleState(deviceId: string, s: VdaState): void {
    for (const e of s.errors) {
      const orderId = e.errorReferences?.find((r) => r.referenceKey === 'orderId')?.referenceValue;
      const task = orderId !== undefined ? this.ourTrip(deviceId, String(orderId)) : undefined;
      if (!task) continue;
      const words = `${e.errorType}${e.errorDescription ? ` (${e.errorDescription})` : ''}`;
      if (e.errorType === 'noRouteError') this.avoidForLine(deviceId, task, words);
      // Refused while still running another order (one given up on while the core was down, its
      // cancel not through yet): busy, not unable — the trip is retried, the vehicle kept.
      else if (busyWithOther(s, String(orderId))) continue;
      else if (ORDER_REJECTIONS.has(e.errorType) || UNSUPPORTED.test(e.errorType)) this.exclude(deviceId, task, `refused trip ${task.id}: ${words}`);
    }
    // Every vehicle reports about once a second: the store is read only for a failed action that
    // says "unsupported", the one case below that concerns us.
    if (!s.orderId || !s.actionStates.some((a) => a.actionStatus === 'FAILED' && UNSUPPORTED.test(a.resultDescription ?? ''))) return;
    const task = this.ourTrip(deviceId, s.orderId);
    if (!task) return;
    const own = new Set([actionIdOf.drop(task.id), ...(task.progress.trip?.picks ?? [{ taskId: task.id }]).map((p) => actionIdOf.pick(p.taskId))]);
    const unsupported = s.actionStates.find((a) => a.actionStatus === 'FAILED' && own.has(a.actionId) && UNSUPPORTED.test(a.resultDescription ?? ''));
    if (unsupported) this.exclude(deviceId, task, `failed ${unsupported.actionType} of trip ${task.id}: ${unsupported.resultDescription ?? ''}`);
  }

  /** The open trip of ours that the vehicle holds under this VDA order id, if any. */
  private ourTrip(deviceId: string, orderId: string): TaskRecord | undefined {
    const task = this.ctx.store.getTask(orderId);
    return task && task.deviceId === deviceId && task.deviceClass === 'amr' && (ACTIVE as readonly string[]).includes(task.state) ? task : undefined;
  }

  private exclude(deviceId: string, task: TaskRecord, reason: string): void {
    const v = this.registry.get(deviceId);
    if (!v || this.excluded.has(deviceId)) return;
    this.excluded.set(deviceId, { reason, actionsKey: actionsKey(v) });
    this.ctx.logger.warn({ deviceId, taskId: task.id, reason }, 'vehicle excluded from trips');
    runInTransaction(this.ctx.store, () =>
      this.journalDevice(deviceId, 'device.tripsExcluded', { reason, taskId: task.id, lineId: task.lineId, kind: task.kind, profile: this.profiles?.of(v).manufacturer ?? '*', supportedActions: v.supportedActions }),
    );
  }

  private avoidForLine(deviceId: string, task: TaskRecord, words: string): void {
    const lineIds = [task.lineId, ...(task.progress.trip?.picks ?? []).map((p) => this.ctx.store.getTask(p.taskId)?.lineId ?? task.lineId)];
    for (const lineId of new Set(lineIds)) {
      const set = this.noRoute.get(lineId) ?? new Set<string>();
      if (set.has(deviceId)) continue;
      set.add(deviceId);
      this.noRoute.set(lineId, set);
    }
    if (this.noRoute.size > URGENCY_CACHE) this.noRoute.delete(this.noRoute.keys().next().value as string);
    runInTransaction(this.ctx.store, () => this.journalDevice(deviceId, 'device.noRoute', { taskId: task.id, lineId: task.lineId, pickNodeId: task.plan.pickNodeId ?? null, dropNodeId: task.plan.dropNodeId ?? null, report: words }));
  }

  private journalDevice(deviceId: string, type: string, data: Record<string, unknown>): void {
    this.ctx.store.appendEvent({ type, aggregateType: 'device', aggregateId: deviceId, orderId: undefined, actor: undefined, at: this.ctx.clock.now(), data });
  }

  // -- AMR trips --------------------------------------------------------------------------------

  /** Vehicles that may take a trip now: placed on the map, reachable under their own watchdog, idle, able, not excluded. */
  private freeVehicles(now: number): DeviceView[] {
    // The cheap field tests first: most vehicles of a busy fleet fail one of them.
    return this.registry.list().filter(
      (d) =>
        d.class === 'amr' &&
        d.task === undefined &&
        !d.orderActive &&
        !d.paused &&
        d.lastNodeId !== undefined &&
        this.ctx.graph.has(d.lastNodeId) &&
        (this.profiles ? this.profiles.isReachable(d, now) : this.registry.isReachable(d, now)) &&
        !this.registry.isLowOnBattery(d) &&
        this.canRunTrips(d) &&
        !this.isExcluded(d),
    );
  }

  private canRunTrips(v: DeviceView): boolean {
    if (this.profiles) return this.profiles.canRunTrips(v);
    // A silent factsheet means standard actions only (DESIGN §2.1), and pick/drop are standard.
    return v.supportedActions.length === 0 || (v.supportedActions.includes('pick') && v.supportedActions.includes('drop'));
  }

  private isExcluded(v: DeviceView): boolean {
    const e = this.excluded.get(v.id);
    if (!e) return false;
    if (e.actionsKey === actionsKey(v)) return true;
    // A new factsheet: the vehicle gets another chance, journaled like the exclusion was.
    this.excluded.delete(v.id);
    runInTransaction(this.ctx.store, () => this.journalDevice(v.id, 'device.tripsAllowed', { reason: 'its factsheet changed since it refused our trips', supportedActions: v.supportedActions }));
    return false;
  }

  /**
   * Trips, most urgent first, each to the vehicle of least cost; lines of one order batched.
   * Past `deadline` (performance.now) only trips of lines in `fresh` (released by this pass)
   * still go; `more` says others that could go now were left for the next pass.
   */
  private dispatchTrips(deadline: number, fresh: ReadonlySet<string>): { dispatched: number; more: boolean } {
    const { store, clock } = this.ctx;
    const now = clock.now();
    // Most passes (the periodic tick, tasks finishing) find nothing waiting: ask that first — unless
    // this pass released lines, whose trips are waiting for sure.
    if (fresh.size === 0 && store.amrTripsWaiting(1).length === 0) return { dispatched: 0, more: false };
    const vehicles = this.freeVehicles(now);
    if (vehicles.length === 0) return { dispatched: 0, more: false };
    const limit = Math.min(TRIP_WINDOW_MAX, Math.max(TRIP_WINDOW_MIN, vehicles.length * 8));
    const waiting = store.amrTripsWaiting(limit);
    if (waiting.length === 0) return { dispatched: 0, more: false };
    this.refreshToteIndex(now);
    const ranked = waiting
      .map((task) => ({ task, ...this.urgency(task.orderId) }))
      .sort((a, b) => compareUrgency({ ...a, id: a.task.id, createdAt: a.task.createdAt }, { ...b, id: b.task.id, createdAt: b.task.createdAt }))
      .map((r) => r.task);
    const fleet = this.scanFleet(vehicles);
    const taken = new Set<string>();
    let dispatched = 0;
    let more = false;
    for (const task of ranked) {
      if (fleet.free === 0) break;
      if (taken.has(task.id)) continue;
      if (dispatched > 0 && !fresh.has(task.lineId) && performance.now() >= deadline) {
        more = true;
        continue;
      }
      // One active task per tote: a tote on a vehicle cannot be on a second one.
      if (task.plan.toteId !== undefined && this.toteBusy(task.plan.toteId)) continue;
      const trip = this.assignTrip(task, ranked, taken, fleet);
      if (!trip) continue;
      for (const t of trip.tasks) taken.add(t.id);
      if (task.plan.toteId !== undefined) this.holdTote(task.plan.toteId, (trip.tasks[0] as TaskRecord).id);
      fleet.taken[trip.vehicleIndex] = 1;
      fleet.free--;
      dispatched += trip.tasks.length;
    }
    return { dispatched, more };
  }

  /** Rebuilds the tote index from the store on the first pass and every so often after. */
  private refreshToteIndex(now: number): void {
    if (this.toteIndexBuiltAt !== undefined && now - this.toteIndexBuiltAt < TOTE_INDEX_REFRESH_MS && now >= this.toteIndexBuiltAt) return;
    this.toteIndexBuiltAt = now;
    this.toteHolders = new Map();
    for (const t of this.ctx.store.tasksInStates(ACTIVE, { devices: 'amr' })) if (t.plan.toteId) this.holdTote(t.plan.toteId, t.id);
  }

  private holdTote(toteId: string, taskId: string): void {
    const holders = this.toteHolders.get(toteId);
    if (holders) holders.add(taskId);
    else this.toteHolders.set(toteId, new Set([taskId]));
  }

  /** Whether a task holding the tote is still active; holders that are not are forgotten. */
  private toteBusy(toteId: string): boolean {
    const holders = this.toteHolders.get(toteId);
    if (!holders) return false;
    for (const id of holders) {
      const t = this.ctx.store.getTask(id);
      if (t && (ACTIVE as readonly string[]).includes(t.state)) return true;
      holders.delete(id);
    }
    this.toteHolders.delete(toteId);
    return false;
  }

  private urgency(orderId: string): { promisedBy: number | undefined; priority: number } {
    let u = this.urgencyOf.get(orderId);
    if (!u) {
      const order = this.ctx.store.getOrder(orderId);
      u = { promisedBy: order?.promisedBy, priority: order?.priority ?? 0 };
      if (this.urgencyOf.size >= URGENCY_CACHE) this.urgencyOf.clear();
      this.urgencyOf.set(orderId, u);
    }
    return u;
  }

  /**
   * Chooses the vehicle for `task` by cost, adds the order's other waiting lines its tote has
   * room for, and sends the trip. Undefined when no vehicle can take it now.
   */
  private assignTrip(
    task: TaskRecord,
    ranked: readonly TaskRecord[],
    taken: ReadonlySet<string>,
    fleet: FleetScan,
  ): { vehicleIndex: number; tasks: TaskRecord[] } | undefined {
    const { graph } = this.ctx;
    const { pickNodeId, dropNodeId } = task.plan;
    // Most lines avoid no vehicle: then every free one is allowed, with no test per vehicle.
    const avoiding = (task.plan.avoidDevices?.length ?? 0) > 0 || this.noRoute.has(task.lineId);
    const allowed = (i: number): boolean => fleet.taken[i] === 0 && !(avoiding && this.avoids(task, (fleet.vehicles[i] as DeviceView).id));
    if (!fleet.vehicles.some((_, i) => allowed(i))) return undefined;
    const onward = pickNodeId !== undefined && dropNodeId !== undefined && this.travel.seconds(pickNodeId, dropNodeId) !== undefined;
    const { ranked: costs, considered } = onward ? this.rankCandidates(fleet, allowed, pickNodeId) : new CheapestCandidates(JOURNALED_CANDIDATES, this.weights);
    const best = costs[0];
    if (!best) {
      // Placed vehicles exist but none can reach the pick and drop: waiting will not help.
      this.failUnroutable(task, 'no route from any free vehicle to the pick and drop nodes');
      return undefined;
    }
    const vehicleIndex = fleet.vehicles.findIndex((v, i) => fleet.taken[i] === 0 && v.id === best.vehicleId);
    const vehicle = fleet.vehicles[vehicleIndex] as DeviceView;
    const profile = this.profiles?.of(vehicle);
    const room = Math.max(1, Math.min(this.opts.tripBatchSize ?? 1, profile?.maxPicksPerTrip ?? Number.POSITIVE_INFINITY));
    const companions =
      room > 1 && task.plan.toteId !== undefined
        ? ranked.filter(
            (t) => t.id !== task.id && !taken.has(t.id) && t.plan.toteId === task.plan.toteId && t.plan.dropNodeId === dropNodeId && t.plan.pickNodeId !== undefined && graph.has(t.plan.pickNodeId) && !this.avoids(t, vehicle.id),
          ).slice(0, room - 1)
        : [];
    const maxSpeed = profile?.maxSpeed;
    const from = vehicle.lastNodeId as string;
    const { homes } = fleet;
    // Clear of where vehicles not heard from yet will appear, where there is a way; else straight.
    const routeVia = (stops: string[]): Route | undefined => planStopsRoute(graph, from, stops, maxSpeed, homes) ?? planStopsRoute(graph, from, stops, maxSpeed);
    let tasks = [task];
    let route: Route | undefined;
    if (companions.length > 0) {
      const stops = orderStops(from, [task, ...companions].map((t) => ({ task: t, nodeId: t.plan.pickNodeId as string })), (a, b) => this.travel.seconds(a, b, maxSpeed));
      route = stops && routeVia([...stops.map((s) => s.nodeId), dropNodeId as string]);
      if (stops && route) tasks = stops.map((s) => s.task);
    }
    route ??= routeVia([pickNodeId as string, dropNodeId as string]);
    if (!route) return undefined;
    const trip = tripPlanFor(profile ?? STANDARD_PROFILE, tasks);
    // The task first visited names the VDA order; the others ride on it.
    const lead = tasks[0] as TaskRecord;
    const releasedUpTo = this.traffic?.startTrip(vehicle, lead, route);
    try {
      this.sendTrip(tasks, trip, vehicle, route, releasedUpTo, { chosen: best, candidates: costs, considered, urgency: this.urgency(task.orderId), rankedFirst: task.id });
    } catch (err) {
      this.traffic?.abortTrip(vehicle.id, lead.id);
      throw err;
    }
    return { vehicleIndex, tasks };
  }

  /**
   * What every trip of a pass asks of the free vehicles, read once per pass: where each stands
   * in the travel tables and its top speed. Vehicles given a trip are marked taken rather than
   * removed, so the arrays stay aligned.
   */
  private scanFleet(vehicles: DeviceView[]): FleetScan {
    const at = new Int32Array(vehicles.length);
    const speeds: (number | undefined)[] = [];
    const speedIndex = new Uint16Array(vehicles.length);
    vehicles.forEach((v, i) => {
      at[i] = this.travel.indexOf(v.lastNodeId as string) ?? -1;
      const top = this.profiles?.of(v).maxSpeed;
      let k = speeds.indexOf(top);
      if (k < 0) k = speeds.push(top) - 1;
      speedIndex[i] = k;
    });
    return { vehicles, at, speeds, speedIndex, taken: new Uint8Array(vehicles.length), free: vehicles.length, homes: this.unseenHomes() };
  }

  /**
   * The cheapest vehicles for a trip whose first pick is `pickNodeId` (the winner and a few
   * runners-up for the journal). What the cost needs to know of each vehicle goes into one facts
   * object, refilled per vehicle: its travel time to the pick read from the travel table into the
   * pick node (one table per top speed in the fleet).
   */
  private rankCandidates(fleet: FleetScan, allowed: (i: number) => boolean, pickNodeId: string): CheapestCandidates {
    const ranking = new CheapestCandidates(JOURNALED_CANDIDATES, this.weights);
    const tables = fleet.speeds.map((top) => this.travel.tableInto(pickNodeId, top));
    const facts: CandidateFacts = { vehicleId: '', travelSeconds: undefined, queueLength: 0, battery: undefined, lowBatteryPercent: this.opts.lowBatteryPercent, capable: true };
    const { vehicles, at, speedIndex } = fleet;
    for (let i = 0; i < vehicles.length; i++) {
      if (!allowed(i)) continue;
      const v = vehicles[i] as DeviceView;
      const table = tables[speedIndex[i] as number];
      const index = at[i] as number;
      const seconds = index < 0 ? undefined : table?.[index];
      facts.vehicleId = v.id;
      facts.travelSeconds = seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined;
      facts.queueLength = v.task !== undefined || v.orderActive ? 1 : 0;
      facts.battery = v.battery;
      ranking.offer(facts);
    }
    return ranking;
  }

  /**
   * The home nodes (layout `startNode`) of declared vehicles whose state the core has not seen
   * yet. A vehicle powering up after the core appears there; traffic control cannot hold a node
   * for one trip while another vehicle stands on it unseen, so trips keep clear of them.
   */
  private unseenHomes(): Set<string> {
    const homes = new Set<string>();
    for (const a of this.ctx.layout.devices.amrs) {
      const v = this.registry.get(a.serialNumber);
      if (v && v.stateSeenAt === undefined && !v.outOfService && v.connection !== 'OFFLINE') homes.add(a.startNode);
    }
    return homes;
  }

  private avoids(task: TaskRecord, vehicleId: string): boolean {
    return task.plan.avoidDevices?.includes(vehicleId) === true || this.noRoute.get(task.lineId)?.has(vehicleId) === true;
  }

  private sendTrip(
    tasks: readonly TaskRecord[],
    trip: TripPlan,
    v: DeviceView,
    route: Route,
    releasedUpTo: number | undefined,
    decision: { chosen: CostBreakdown; candidates: CostBreakdown[]; considered: number; urgency: { promisedBy: number | undefined; priority: number }; rankedFirst: string },
  ): void {
    const { graph, layout, store, clock } = this.ctx;
    const serialNumber = v.serialNumber ?? v.id;
    const manufacturer = v.manufacturer ?? '';
    const now = clock.now();
    const lead = { ...(tasks[0] as TaskRecord) };
    lead.progress = { ...lead.progress, trip };
    this.keepCommandsOnlyIfCommitted(() => runInTransaction(store, (after) => {
      const order = buildTripOrder({
        header: vdaOrderHeader(this.ctx, serialNumber),
        vehicle: { manufacturer, serialNumber },
        graph,
        mapId: layout.site.mapId,
        task: lead,
        route,
        orderUpdateId: 0,
        ...(releasedUpTo !== undefined ? { releasedUpTo } : {}),
      });
      this.enqueueFirstCommand(lead, {
        topic: vdaTopic({ interfaceName: this.opts.interfaceName, manufacturer, serialNumber }, 'order'),
        payload: Buffer.from(encodeVda('order', order)),
        expirySeconds: undefined,
        correlation: correlationOf.vda(serialNumber, order.orderId, order.orderUpdateId),
      });
      const batch = tasks.map((t) => t.id);
      // The route is journaled so traffic control can extend the trip after a restart.
      this.markDispatched(lead, v.id, { commandId: order.orderId, updateId: 0 }, { routeLength: route.length, travelTime: route.travelTime, nodes: route.nodes.length, route: route.nodes, ...(batch.length > 1 ? { batch } : {}) }, after);
      for (const member of tasks.slice(1)) {
        this.markDispatched({ ...member, progress: { ...member.progress, tripOf: lead.id } }, v.id, { commandId: order.orderId, updateId: 0 }, { tripOf: lead.id }, after, false);
      }
      this.journalAssignment(lead, v.id, decision, batch, now);
    }));
  }

  /** Runs `fn` (a savepoint of the pass); commands it queued are forgotten again if it rolls back. */
  private keepCommandsOnlyIfCommitted(fn: () => void): void {
    const mark = this.passCommands.length;
    try {
      fn();
    } catch (err) {
      this.passCommands.length = mark;
      throw err;
    }
  }

  /**
   * The assignment and why: the chosen vehicle's cost, the next best ones, the trip's urgency.
   * Compact on purpose (a few candidates, not the fleet): one entry per trip, every trip.
   */
  private journalAssignment(
    lead: TaskRecord,
    deviceId: string,
    d: { chosen: CostBreakdown; candidates: CostBreakdown[]; considered: number; urgency: { promisedBy: number | undefined; priority: number }; rankedFirst: string },
    batch: string[],
    at: number,
  ): void {
    this.ctx.store.appendEvent({
      type: 'task.assigned',
      aggregateType: 'task',
      aggregateId: lead.id,
      orderId: lead.orderId,
      actor: undefined,
      at,
      data: {
        lineId: lead.lineId,
        deviceId,
        cost: d.chosen,
        candidates: d.candidates,
        considered: d.considered,
        promisedBy: d.urgency.promisedBy ?? null,
        priority: d.urgency.priority,
        rankedFirst: d.rankedFirst,
        batch,
      },
    });
  }

  /**
   * AS/RS, conveyor and arm steps: a step goes when its line's previous step has finished and
   * its bin is not in another line's hands. Devices queue jobs, so only reachability matters.
   */
  private dispatchSteps(): number {
    const { store, clock } = this.ctx;
    const now = clock.now();
    const reachable = this.registry
      .list()
      .filter((d) => d.class !== 'amr' && this.registry.isReachable(d, now))
      .map((d) => d.id);
    if (reachable.length === 0) return 0;
    const ready = store.readySteps(reachable, STEP_WINDOW);
    if (ready.length === 0) return 0;
    // A bin belongs to the line that retrieved it until that line stored it back: any line
    // with a step past its first, or one under way, holds its bin. Ready steps come oldest
    // first and a line's steps share its creation time, so a line already under way is never
    // beyond the window while a newer line for its bin is inside it.
    const binOwner = new Map<string, string>();
    for (const t of store.tasksInStates(ACTIVE, { devices: 'fixed' })) if (t.loadId) binOwner.set(t.loadId, t.lineId);
    for (const t of ready) if (t.loadId && t.step > 0) binOwner.set(t.loadId, t.lineId);
    let dispatched = 0;
    for (const task of ready) {
      const owner = task.loadId ? binOwner.get(task.loadId) : undefined;
      if (owner !== undefined && owner !== task.lineId) continue;
      if (!this.dispatchStep(task, now)) continue;
      dispatched++;
      if (task.loadId) binOwner.set(task.loadId, task.lineId);
    }
    return dispatched;
  }

  private dispatchStep(task: TaskRecord, now: number): boolean {
    const deviceId = task.plan.deviceId ?? task.deviceId;
    if (!deviceId) return false;
    const device = this.registry.get(deviceId);
    if (!device || !this.registry.isReachable(device, now)) return false;
    const { store } = this.ctx;
    this.keepCommandsOnlyIfCommitted(() => runInTransaction(store, (after) => {
      const job = buildStepJob({
        header: { headerId: store.nextId(`wcs:${deviceId}:job`), timestamp: new Date(now).toISOString() },
        site: this.ctx.siteId,
        task,
        jobUpdateId: 0,
      });
      this.enqueueFirstCommand(task, {
        topic: wcsTopic({ site: this.ctx.siteId, deviceClass: task.deviceClass as 'asrs' | 'conveyor' | 'arm', deviceId }, 'job'),
        payload: Buffer.from(encodeWcs('job', job)),
        expirySeconds: this.opts.jobExpirySeconds,
        correlation: correlationOf.wcs(deviceId, job.jobId, job.jobUpdateId),
      });
      this.markDispatched(task, deviceId, { commandId: job.jobId, updateId: 0 }, { action: job.actions[0]?.actionType }, after);
    }));
    return true;
  }

  /**
   * The one place a task's first command enters the outbox (a VDA order for a trip, a wcs job
   * for a step), inside the transaction that marks the task dispatched. Later commands (order
   * updates, re-sends, cancels) come from traffic control, the outbox and the operators.
   */
  private enqueueFirstCommand(_task: TaskRecord, cmd: FirstCommand): void {
    const row = { topic: cmd.topic, payload: cmd.payload, qos: 1 as const, retain: false, expirySeconds: cmd.expirySeconds, correlation: cmd.correlation };
    const seq = this.ctx.store.enqueue(row);
    // The row as the outbox holds it; it reaches the publisher only if the pass commits.
    this.passCommands.push({ ...row, seq, createdAt: this.ctx.clock.now(), sentAt: undefined, attempts: 0, confirmedAt: undefined });
  }

  private markDispatched(
    task: TaskRecord,
    deviceId: string,
    command: { commandId: string; updateId: number },
    data: Record<string, unknown>,
    after: (effect: () => void) => void,
    /** The task the vehicle holds (a batch's lead), as opposed to one riding along. */
    holds = true,
  ): void {
    const { store, clock } = this.ctx;
    const now = clock.now();
    store.updateTask(task.id, { state: 'DISPATCHED', deviceId, progress: { ...task.progress, ...command }, updatedAt: now });
    store.appendEvent({
      type: 'task.dispatched',
      aggregateType: 'task',
      aggregateId: task.id,
      orderId: task.orderId,
      actor: undefined,
      at: now,
      data: { lineId: task.lineId, kind: task.kind, deviceId, ...data },
    });
    after(() => {
      if (holds) this.registry.assign(deviceId, task.deviceClass === 'amr' ? task.id : undefined);
      this.ctx.notifier.publish({ type: 'task.updated', at: now, data: { id: task.id, state: 'DISPATCHED', deviceId, lineId: task.lineId } });
    });
  }

  private failUnroutable(task: TaskRecord, reason: string): void {
    runInTransaction(this.ctx.store, (after) => {
      this.ctx.store.updateTask(task.id, { state: 'FAILED', progress: { ...task.progress, failure: reason }, updatedAt: this.ctx.clock.now() });
      this.ctx.store.appendEvent({ type: 'task.failed', aggregateType: 'task', aggregateId: task.id, orderId: task.orderId, actor: undefined, data: { reason } });
      const line = this.ctx.store.getLine(task.lineId);
      if (line) this.lines.fail(line, reason, after);
    });
  }
}

/** A vehicle's factsheet actions as one comparable string. */
function actionsKey(v: DeviceView): string {
  return [...v.supportedActions].sort().join(',');
}

/** The vehicle's state shows another order still in progress (nodes left or actions not ended). */
function busyWithOther(s: VdaState, orderId: string): boolean {
  return s.orderId !== '' && s.orderId !== orderId && (s.nodeStates.length > 0 || s.actionStates.some((a) => a.actionStatus !== 'FINISHED' && a.actionStatus !== 'FAILED'));
}
