/**
 * Live ETAs (DESIGN §6). Learns step durations from task progress (the `task.updated` live
 * events, so task progress itself need not know about ETAs), keeps each open order's ETA in
 * memory, recomputes it when one of its tasks or lines changes and once a second while it has
 * work on the floor (a running step's remaining time changes with the clock, and a stalled one
 * must push the ETA later), and publishes `order.eta` when the ETA moved by a second or more.
 *
 * The arithmetic is in src/domain/eta.ts; this file gathers its inputs: the line's current plan,
 * when each running step started (seen live, else read from the journal) and how long its device
 * stood still (paused, unreachable, faulted), the device queues from the open tasks, the release
 * backlog, and how each line ships (site, carrier and distance from the journaled sourcing
 * decision).
 */
import { currentPlan, isPickingStep } from '../domain/execution-plan.js';
import {
  etaMoved,
  KIND_CLASS,
  orderEta,
  queueWait,
  releaseWait,
  remainingSeconds,
  StepDurations,
  StepPhysics,
  stepStatus,
  REFERENCE_PHYSICS,
  ZONE_STEPS,
  type LearnedStep,
  type LineEtaInput,
  type OrderEta,
  type PlanStep,
} from '../domain/eta.js';
import { MS_PER_DAY } from '../domain/geo.js';
import type { DeviceClass, LineRecord, TaskKind, TaskPlan, TaskRecord, TaskState } from '../domain/records.js';
import type { PackTiming } from '../domain/shipment.js';
import type { CarrierProfile, SiteProfile } from '../domain/sourcing.js';
import type { LiveEvent } from '../ports.js';
import type { AppContext } from './context.js';
import type { DeviceRegistry } from './device-registry.js';

export interface EtaServiceOptions {
  /** The release window (config `releaseWindow`): lines the floor works on at once. */
  releaseWindow: number;
  /** How long packing takes (config `packBaseSeconds`, `packSecondsPerUnit`). */
  packTiming: PackTiming;
  /** Wall-clock budget per tick (default TICK_BUDGET_MS); Infinity: every order each tick (fast simulation). */
  tickBudgetMs?: number;
  /** Smallest move of an ETA worth publishing, ms. */
  publishThresholdMs?: number;
  /**
   * Recompute an order's ETA as soon as one of its tasks or the order changed (default), or only
   * on the next tick (a fast simulation run, whose ticks are stretched because nobody watches:
   * its ETAs feed nothing, so recomputing them on every change is wasted work).
   */
  refreshOnEvents?: boolean;
}

/** The ETA as the API and the stream show it: ISO instants, null where unknown. */
export interface EtaView {
  pickedBy: string | null;
  packedBy: string | null;
  shipsAt: string | null;
  deliversBy: string | null;
  lines: { id: string; pickedBy: string | null }[];
}

const OPEN_TASK_STATES: readonly TaskState[] = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'];
/** Open tasks read per floor snapshot: the release window keeps them far below this. */
const FLOOR_SCAN = 10_000;
/** SOURCED lines read to rank the release backlog; a line beyond is placed at its back. */
const RELEASE_SCAN = 5_000;
/** How long a floor snapshot (queues) or a release-queue snapshot stays good for event-driven recomputes. */
const SNAPSHOT_TTL_MS = 1000;
/** An on-demand read recomputes an ETA older than this. */
const FRESH_MS = 1000;
/** RUNNING and FINISHED this close together came from one device report (both applied in one transaction). */
const SAME_REPORT_MS = 100;
/** Orders kept in memory; the least recently computed go first. */
const MAX_ORDERS = 20_000;

interface TaskTrack {
  dispatchedAt: number | undefined;
  runningAt: number | undefined;
  /** Device standstill already over, ms, and the start of the current one. */
  stalledMs: number;
  stalledSince: number | undefined;
}

interface OrderEntry {
  eta: OrderEta | undefined;
  lines: { id: string; pickedBy: number | null }[];
  computedAt: number;
  published: { eta: OrderEta | undefined; lines: Map<string, number | null> } | undefined;
  /** How each line ships, from the journaled sourcing decision; `key` says what it was read for. */
  shipping: Map<string, { key: string; carrier: string | undefined; distanceKm: number | undefined }>;
}

interface ReadyEntry {
  createdAt: number;
  id: string;
  lineId: string;
}

interface Floor {
  at: number;
  truncated: boolean;
  openIds: Set<string>;
  orders: Set<string>;
  active: Map<DeviceClass, number>;
  /** Per class: CREATED tasks that are their line's next step, in dispatch order (oldest first). */
  ready: Map<DeviceClass, ReadyEntry[]>;
  servers: Map<DeviceClass, number>;
}

interface ReleaseQueue {
  at: number;
  rank: Map<string, number>;
  /** amrBefore[i]: AMR-zone lines among the first i of the queue. */
  amrBefore: number[];
  length: number;
  activeLines: number;
}

const CLASSES: readonly DeviceClass[] = ['amr', 'asrs', 'conveyor', 'arm'];

/** Wall time one periodic pass may spend; the rest of the floor's orders follow on the next. */
const TICK_BUDGET_MS = 4;

export class EtaService {
  private tickCursor = 0;
  readonly durations: StepDurations;
  private readonly sites: Map<string, SiteProfile>;
  private readonly tracks = new Map<string, TaskTrack>();
  private readonly orders = new Map<string, OrderEntry>();
  private readonly dirty = new Set<string>();
  private pending: LiveEvent[] = [];
  private flushScheduled = false;
  private floor: Floor | undefined;
  private releaseQueue: ReleaseQueue | undefined;
  private readonly packNode: string | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    sites: readonly SiteProfile[],
    private readonly opts: EtaServiceOptions,
  ) {
    this.durations = new StepDurations(new StepPhysics(ctx.layout, ctx.graph));
    this.sites = new Map(sites.map((s) => [s.id, s]));
    this.packNode = ctx.layout.stations.find((s) => s.kind === 'pack' && s.nodeId !== undefined)?.nodeId;
    this.unsubscribe = ctx.notifier.subscribe((e) => this.onEvent(e));
  }

  close(): void {
    this.unsubscribe();
  }

  /** The learned step durations, for operators and tests. */
  learned(): LearnedStep[] {
    return this.durations.snapshot();
  }

  /** The order's ETA as of now (cached when fresh); null when it has none (closed, canceled, nothing estimable). */
  etaOf(orderId: string): EtaView | null {
    const now = this.ctx.clock.now();
    const cached = this.orders.get(orderId);
    const entry = cached && now - cached.computedAt < FRESH_MS ? cached : this.refresh(orderId, now);
    return entry?.eta ? view(entry.eta, entry.lines) : null;
  }

  /**
   * Once a second: new queue snapshot, then every order with work on the floor (lines RELEASED or
   * PICKING here, so at most the release window's worth), plus any changed since the last pass.
   */
  tick(): void {
    this.flush(true);
    const now = this.ctx.clock.now();
    const floor = this.floorAt(now, true);
    if (!floor.truncated) for (const id of this.tracks.keys()) if (!floor.openIds.has(id)) this.tracks.delete(id);
    // A time budget per tick, continuing where the last one stopped: hundreds of orders on the
    // floor must not hold the event loop (and so intake and dispatch) for tens of milliseconds.
    const orders = [...floor.orders];
    if (orders.length === 0) return;
    const started = performance.now();
    const first = this.tickCursor % orders.length;
    for (let k = 0; k < orders.length; k++) {
      this.refreshSafely(orders[(first + k) % orders.length] as string, now);
      this.tickCursor = first + k + 1;
      if (performance.now() - started > (this.opts.tickBudgetMs ?? TICK_BUDGET_MS)) break;
    }
  }

  // ---- events -------------------------------------------------------------------------------

  private onEvent(e: LiveEvent): void {
    if (e.type !== 'task.updated' && e.type !== 'order.updated') return;
    // Listeners run inside the publisher's after-commit: note it, work later in one batch.
    this.pending.push(e);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.ctx.clock.setTimer(0, () => this.flush());
  }

  private flush(ticking = false): void {
    this.flushScheduled = false;
    const events = this.pending;
    this.pending = [];
    for (const e of events) {
      try {
        if (e.type === 'order.updated') {
          if (typeof e.data.id === 'string') this.dirty.add(e.data.id);
        } else this.onTaskEvent(e);
      } catch (err) {
        this.ctx.logger.warn({ err, event: e.type }, 'ETA: event not applied');
      }
    }
    if (this.dirty.size === 0 || (!ticking && this.opts.refreshOnEvents === false)) return;
    const now = this.ctx.clock.now();
    const orders = [...this.dirty];
    this.dirty.clear();
    for (const orderId of orders) this.refreshSafely(orderId, now);
  }

  /** One order's trouble (say, a record it cannot read) must not keep the others' ETAs from moving. */
  private refreshSafely(orderId: string, now: number): void {
    try {
      this.refresh(orderId, now);
    } catch (err) {
      this.ctx.logger.warn({ err, orderId }, 'ETA: recompute failed');
    }
  }

  private onTaskEvent(e: LiveEvent): void {
    const id = e.data.id;
    const state = e.data.state as TaskState | undefined;
    if (typeof id !== 'string' || !state) return;
    const task = this.ctx.store.getTask(id);
    if (!task) return;
    if (state === 'DISPATCHED') this.tracks.set(id, { dispatchedAt: e.at, runningAt: undefined, stalledMs: 0, stalledSince: undefined });
    else if (state === 'RUNNING') {
      const track = this.trackOf(task);
      // A repeated RUNNING (progress on the same step) changes nothing the tick will not see.
      if (track.runningAt !== undefined) return;
      track.runningAt = e.at;
    } else if (state === 'FINISHED') {
      this.learn(task, e.at);
      this.tracks.delete(id);
    } else if (state === 'FAILED' || state === 'CANCELED') this.tracks.delete(id);
    this.dirty.add(task.orderId);
  }

  /**
   * A finished step teaches its kind: work time from RUNNING (else DISPATCHED) to FINISHED,
   * without the time its device stood still. A RUNNING seen only with the finish (one device
   * report carried both) says nothing about the start, so the dispatch time stands in.
   */
  private learn(task: TaskRecord, finishedAt: number): void {
    const track = this.trackOf(task);
    this.noteStall(track, task, finishedAt);
    const together = track.runningAt === undefined || finishedAt - track.runningAt < SAME_REPORT_MS;
    const start = together ? (track.dispatchedAt ?? track.runningAt) : track.runningAt;
    if (start === undefined) return;
    const seconds = (finishedAt - start - track.stalledMs) / 1000;
    if (!(seconds > 0)) return;
    this.durations.observe(task.kind, task.plan, seconds);
    this.ctx.metrics.stepSeconds.observe({ class: task.deviceClass, kind: task.kind }, seconds);
  }

  /** The live record of a task's start; after a restart (or a missed event) read from the journal once. */
  private trackOf(task: TaskRecord): TaskTrack {
    let track = this.tracks.get(task.id);
    if (track) return track;
    track = { dispatchedAt: undefined, runningAt: undefined, stalledMs: 0, stalledSince: undefined };
    for (const e of this.ctx.store.aggregateEvents('task', task.id)) {
      if (e.type === 'task.dispatched') track.dispatchedAt = e.at;
      if (e.type === 'task.running') track.runningAt = e.at;
    }
    this.tracks.set(task.id, track);
    return track;
  }

  /** Whether the task's device is standing still now; accumulates standstill on the track. */
  private noteStall(track: TaskTrack, task: TaskRecord, now: number): void {
    const d = task.deviceId ? this.registry.get(task.deviceId) : undefined;
    const stalled = task.state === 'PAUSED' || !d || d.paused || d.deviceState === 'FAULT' || !this.registry.isReachable(d, now);
    if (stalled && track.stalledSince === undefined) track.stalledSince = now;
    if (!stalled && track.stalledSince !== undefined) {
      track.stalledMs += now - track.stalledSince;
      track.stalledSince = undefined;
    }
  }

  /** Seconds the running step has worked so far: since it started, less its device's standstill. */
  private workedSeconds(task: TaskRecord, now: number): number {
    const track = this.trackOf(task);
    this.noteStall(track, task, now);
    const start = track.runningAt ?? track.dispatchedAt ?? task.updatedAt;
    const stalled = track.stalledMs + (track.stalledSince === undefined ? 0 : now - track.stalledSince);
    return Math.max(0, now - start - stalled) / 1000;
  }

  // ---- recompute ----------------------------------------------------------------------------

  /** Recomputes one order's ETA, publishes it when it moved, and caches it (or forgets the order). */
  private refresh(orderId: string, now: number): OrderEntry | undefined {
    const previous = this.orders.get(orderId);
    const entry: OrderEntry = previous ?? { eta: undefined, lines: [], computedAt: now, published: undefined, shipping: new Map() };
    const computed = this.compute(orderId, now, entry);
    entry.eta = computed?.eta;
    entry.lines = computed?.lines ?? [];
    entry.computedAt = now;
    if (this.moved(entry)) {
      entry.published = { eta: entry.eta, lines: new Map(entry.lines.map((l) => [l.id, l.pickedBy])) };
      this.ctx.notifier.publish({
        type: 'order.eta',
        at: now,
        data: { id: orderId, eta: entry.eta ? etaFields(entry.eta) : null, lines: entry.lines.map((l) => ({ id: l.id, pickedBy: iso(l.pickedBy) })) },
      });
    }
    this.orders.delete(orderId);
    if (!computed) return undefined;
    // Re-inserted so the Map's order is least recently computed first.
    this.orders.set(orderId, entry);
    if (this.orders.size > MAX_ORDERS) {
      const oldest = this.orders.keys().next().value;
      if (oldest !== undefined) this.orders.delete(oldest);
    }
    return entry;
  }

  private moved(entry: OrderEntry): boolean {
    const threshold = this.opts.publishThresholdMs ?? 1000;
    const last = entry.published;
    if (!last) return entry.eta !== undefined;
    if (etaMoved(last.eta, entry.eta, threshold)) return true;
    if (entry.lines.length !== last.lines.size) return true;
    return entry.lines.some((l) => {
      const before = last.lines.get(l.id);
      if (before === undefined) return true;
      return before === null || l.pickedBy === null ? before !== l.pickedBy : Math.abs(before - l.pickedBy) >= threshold;
    });
  }

  private compute(orderId: string, now: number, entry: OrderEntry): { eta: OrderEta | undefined; lines: { id: string; pickedBy: number | null }[] } | undefined {
    const { store, siteId } = this.ctx;
    const order = store.getOrder(orderId);
    if (!order || order.status === 'CLOSED' || order.status === 'CANCELED' || order.status === 'REJECTED') return undefined;
    const records = store.linesOf(orderId);
    let decisions: ShippingDecision[] | undefined;
    const decided = (): ShippingDecision[] => (decisions ??= sourcingDecisions(store.orderEvents(orderId)));
    const inputs: LineEtaInput[] = [];
    const lines: { id: string; pickedBy: number | null }[] = [];
    for (const line of records) {
      const promise = line.snapshot.context.promiseDate ?? undefined;
      const local = line.site === siteId;
      const pickedBy = local ? this.linePickedBy(line, now) : undefined;
      lines.push({ id: line.id, pickedBy: pickedBy === undefined ? null : Math.round(pickedBy) });
      if (line.state === 'CANCELED' || line.state === 'UNROUTABLE' || line.state === 'CREATED') continue;
      const site = line.site ? this.sites.get(line.site) : undefined;
      inputs.push({
        lineId: line.id,
        units: line.quantity,
        pickedBy: pickedBy === undefined ? undefined : Math.round(pickedBy),
        shipping: pickedBy !== undefined && site ? this.shippingOf(line, site, entry, decided) : undefined,
        promiseDate: promise,
      });
    }
    return { eta: orderEta(inputs, this.opts.packTiming), lines };
  }

  /**
   * When this site's floor will have picked the line (ms), by its state; undefined when unknown.
   * Picked means the picking step is done: an AMR trip has dropped the tote at the pack station
   * (the line turns PICKED earlier, at the shelf), an arm has picked into the order tote — so the
   * goods are where packing starts, and the learned trip durations measure the same thing.
   */
  private linePickedBy(line: LineRecord, now: number): number | undefined {
    switch (line.state) {
      case 'PICKED':
      case 'PACKED':
      case 'SHIPPED':
      case 'DELIVERED': {
        const plan = livePlan(this.ctx.store.tasksOfLine(line.id));
        const picking = plan.find((t) => isPickingStep(t.kind));
        if (!picking) return line.updatedAt;
        // A FINISHED task is not written again: its updatedAt is when it finished.
        if (picking.state === 'FINISHED') return picking.updatedAt;
        return stepStatus(picking.state) === 'done' ? line.updatedAt : now + this.planRemaining(line, plan, now) * 1000;
      }
      case 'RELEASED':
      case 'PICKING': {
        const plan = livePlan(this.ctx.store.tasksOfLine(line.id));
        return plan.length === 0 ? this.notReleased(line, now) : now + this.planRemaining(line, plan, now) * 1000;
      }
      case 'SOURCED':
        return this.notReleased(line, now);
      case 'BACKORDERED': {
        // Stock comes back after the site's lead time, counted from when the line was backordered.
        const days = (line.site ? this.sites.get(line.site)?.replenishmentDays : undefined) ?? 0;
        const back = Math.max(now, line.updatedAt + days * MS_PER_DAY);
        return back + this.zonePlanSeconds(line) * 1000;
      }
      default:
        return undefined;
    }
  }

  private planRemaining(line: LineRecord, plan: readonly TaskRecord[], now: number): number {
    const floor = this.floorAt(now);
    const steps: PlanStep[] = plan.map((t) => {
      // A vehicle starts a trip when it gets it; a fixed device queues jobs, and a job it has not
      // started yet is still waiting (durations are learned from RUNNING on, so this matches).
      const status = t.state === 'DISPATCHED' && t.deviceClass !== 'amr' ? 'waiting' : stepStatus(t.state);
      if (status === 'done') return { kind: t.kind, status };
      const expected = this.durations.expected(t.kind, t.plan);
      if (status === 'running') return { kind: t.kind, status, expected, elapsed: this.workedSeconds(t, now) };
      const cls = KIND_CLASS[t.kind];
      const ahead = this.aheadOf(floor, cls, { createdAt: t.createdAt, id: t.id, lineId: line.id }, plan);
      return { kind: t.kind, status, expected, queueWait: queueWait(ahead, floor.servers.get(cls) ?? 1, this.durations.classMean(cls)) };
    });
    return remainingSeconds(steps);
  }

  /**
   * A line not yet on the floor: its whole plan, after the release backlog ahead of it — the work
   * of the active and earlier-ranked lines on each device class it needs (the bottleneck
   * decides), and at least the wait for a slot in the release window.
   */
  private notReleased(line: LineRecord, now: number): number {
    const floor = this.floorAt(now);
    const queue = this.releaseQueueAt(now);
    const rank = queue.rank.get(line.id) ?? queue.length;
    const amrAhead = queue.amrBefore[Math.min(rank, queue.length)] ?? 0;
    const aheadByZone = { amr: amrAhead, asrs: rank - amrAhead };
    const kinds = this.zoneKinds(line);
    const steps: PlanStep[] = kinds.map((kind) => {
      const cls = KIND_CLASS[kind];
      const backlog = (['amr', 'asrs'] as const).reduce((n, zone) => n + aheadByZone[zone] * ZONE_STEPS[zone].filter((k) => KIND_CLASS[k] === cls).length, 0);
      const ahead = (floor.active.get(cls) ?? 0) + (floor.ready.get(cls)?.length ?? 0) + backlog;
      return { kind, status: 'waiting', expected: this.durations.expected(kind, this.planGuess(line, kind)), queueWait: queueWait(ahead, floor.servers.get(cls) ?? 1, this.durations.classMean(cls)) };
    });
    const planSeconds = remainingSeconds(steps.map((s) => (s.status === 'waiting' ? { ...s, queueWait: 0 } : s)));
    const windowWait = releaseWait({ linesAhead: rank, activeLines: queue.activeLines, window: this.opts.releaseWindow, meanLineSeconds: planSeconds });
    const deviceWait = remainingSeconds(steps) - planSeconds;
    return now + (planSeconds + Math.max(windowWait, deviceWait)) * 1000;
  }

  private zoneKinds(line: LineRecord): readonly TaskKind[] {
    return ZONE_STEPS[line.zone ?? 'amr'];
  }

  /** Expected seconds of the line's whole plan up to its pick, with no queue. */
  private zonePlanSeconds(line: LineRecord): number {
    return remainingSeconds(this.zoneKinds(line).map((kind) => ({ kind, status: 'waiting', expected: this.durations.expected(kind, this.planGuess(line, kind)), queueWait: 0 })));
  }

  /** What a task's plan will say, as far as the line's location tells before planning. */
  private planGuess(line: LineRecord, kind: TaskKind): Partial<TaskPlan> {
    const loc = line.location ? this.ctx.locations.get(line.location) : undefined;
    if (kind === 'amr.pickTrip') return { pickNodeId: loc?.nodeId, dropNodeId: this.packNode };
    if (kind === 'asrs.retrieve' || kind === 'asrs.store') return { location: line.location };
    if (kind === 'arm.pick') return { quantity: line.quantity };
    return {};
  }

  /** Tasks ahead of `key` on a device class, the line's own tasks left out. */
  private aheadOf(floor: Floor, cls: DeviceClass, key: ReadyEntry, own: readonly TaskRecord[]): number {
    const ownActive = own.filter((t) => KIND_CLASS[t.kind] === cls && stepStatus(t.state) === 'running').length;
    const ready = floor.ready.get(cls) ?? [];
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = ready[mid] as ReadyEntry;
      if (e.createdAt < key.createdAt || (e.createdAt === key.createdAt && e.id < key.id)) lo = mid + 1;
      else hi = mid;
    }
    const ownBefore = ready.slice(0, lo).filter((e) => e.lineId === key.lineId).length;
    return Math.max(0, (floor.active.get(cls) ?? 0) - ownActive) + lo - ownBefore;
  }

  // ---- snapshots of the floor ---------------------------------------------------------------

  private floorAt(now: number, rebuild = false): Floor {
    if (!rebuild && this.floor && now - this.floor.at < SNAPSHOT_TTL_MS) return this.floor;
    const open = this.ctx.store.tasksInStates(OPEN_TASK_STATES, { limit: FLOOR_SCAN });
    const next = new Map<string, TaskRecord>();
    for (const t of open) {
      const first = next.get(t.lineId);
      if (!first || t.step < first.step) next.set(t.lineId, t);
    }
    const floor: Floor = {
      at: now,
      truncated: open.length >= FLOOR_SCAN,
      openIds: new Set(),
      orders: new Set(),
      active: new Map(),
      ready: new Map(CLASSES.map((c) => [c, []])),
      servers: this.servers(now),
    };
    // Oldest first already, which is the order dispatch serves them in.
    for (const t of open) {
      floor.openIds.add(t.id);
      floor.orders.add(t.orderId);
      if (t.state !== 'CREATED') floor.active.set(t.deviceClass, (floor.active.get(t.deviceClass) ?? 0) + 1);
      else if (next.get(t.lineId) === t) floor.ready.get(t.deviceClass)?.push({ createdAt: t.createdAt, id: t.id, lineId: t.lineId });
    }
    this.floor = floor;
    return floor;
  }

  /**
   * Devices that can work now, per class (a conveyor counts once per tote it can carry). A class
   * with none reachable counts its layout devices: they may just not have reported yet, and the
   * stalled steps already push the ETAs.
   */
  private servers(now: number): Map<DeviceClass, number> {
    const { layout } = this.ctx;
    const totes = (id: string): number => {
      const c = layout.devices.conveyors.find((x) => x.id === id);
      return c ? Math.max(1, Math.floor(c.length / REFERENCE_PHYSICS.totePitch)) : 1;
    };
    const up = new Map<DeviceClass, number>();
    for (const d of this.registry.list()) {
      if (!this.registry.isReachable(d, now) || (d.class === 'amr' && d.paused)) continue;
      up.set(d.class, (up.get(d.class) ?? 0) + (d.class === 'conveyor' ? totes(d.id) : 1));
    }
    const declared: Record<DeviceClass, number> = {
      amr: layout.devices.amrs.length,
      asrs: layout.devices.asrs.length,
      conveyor: layout.devices.conveyors.reduce((n, c) => n + totes(c.id), 0),
      arm: layout.devices.arms.length,
    };
    return new Map(CLASSES.map((c) => [c, Math.max(1, up.get(c) ?? declared[c])]));
  }

  private releaseQueueAt(now: number): ReleaseQueue {
    if (this.releaseQueue && now - this.releaseQueue.at < SNAPSHOT_TTL_MS) return this.releaseQueue;
    const { store, siteId } = this.ctx;
    // Ids and zones only: parsing thousands of full line rows each second held the event loop ~100 ms.
    const lines = store.releaseQueue({ site: siteId, limit: RELEASE_SCAN });
    const rank = new Map<string, number>();
    const amrBefore = [0];
    lines.forEach((l, i) => {
      rank.set(l.id, i);
      amrBefore.push((amrBefore[i] ?? 0) + (l.zone === 'asrs' ? 0 : 1));
    });
    this.releaseQueue = { at: now, rank, amrBefore, length: lines.length, activeLines: store.countActiveLines(siteId) };
    return this.releaseQueue;
  }

  // ---- shipping -----------------------------------------------------------------------------

  /**
   * The carrier and distance sourcing chose for the line (its latest journaled decision), else
   * those of another line of the order shipping from the same site, else the site's first carrier
   * at an unknown distance (its minimum transit days).
   */
  private shippingOf(line: LineRecord, site: SiteProfile, entry: OrderEntry, decided: () => ShippingDecision[]): { site: SiteProfile; carrier: CarrierProfile; distanceKm: number } | undefined {
    const key = `${line.site ?? ''}|${line.location ?? ''}|${line.snapshot.context.attempts}|${line.state === 'BACKORDERED' ? 'b' : ''}`;
    let known = entry.shipping.get(line.id);
    if (known?.key !== key) {
      const all = decided();
      const own = all.find((d) => d.lineIds.includes(line.id) && d.site === line.site);
      const sibling = all.find((d) => d.site === line.site && d.carrier !== undefined);
      const pick = own?.carrier !== undefined ? own : sibling;
      known = { key, carrier: pick?.carrier, distanceKm: pick?.distanceKm ?? own?.distanceKm };
      entry.shipping.set(line.id, known);
    }
    const carrier = site.carriers.find((c) => c.id === known.carrier) ?? site.carriers[0];
    if (!carrier) return undefined;
    return { site, carrier, distanceKm: known.distanceKm ?? 0 };
  }
}

/**
 * The line's current plan without its failed or canceled steps: a failed step either ends the
 * plan (the line goes back to sourcing) or is queued again as a new task (an arm's re-pick),
 * which is the one that counts.
 */
function livePlan(tasks: readonly TaskRecord[]): TaskRecord[] {
  return currentPlan(tasks).filter((t) => t.state !== 'FAILED' && t.state !== 'CANCELED');
}

interface ShippingDecision {
  site: string;
  carrier: string | undefined;
  distanceKm: number | undefined;
  lineIds: string[];
}

/** The shipments of the order's journaled sourcing decisions, newest first. */
function sourcingDecisions(events: readonly { type: string; data: Record<string, unknown> }[]): ShippingDecision[] {
  const out: ShippingDecision[] = [];
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e?.type !== 'order.sourcingDecided') continue;
    const chosen = e.data.chosen as { shipments?: unknown[] } | null | undefined;
    const backorders = e.data.backorders as unknown[] | undefined;
    for (const s of [...(chosen?.shipments ?? []), ...(backorders ?? [])]) {
      const r = s as { site?: unknown; carrier?: unknown; distanceKm?: unknown; lineIds?: unknown };
      if (typeof r.site !== 'string' || !Array.isArray(r.lineIds)) continue;
      out.push({
        site: r.site,
        carrier: typeof r.carrier === 'string' ? r.carrier : undefined,
        distanceKm: typeof r.distanceKm === 'number' ? r.distanceKm : undefined,
        lineIds: r.lineIds.filter((x): x is string => typeof x === 'string'),
      });
    }
  }
  return out;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function etaFields(eta: OrderEta): Omit<EtaView, 'lines'> {
  return { pickedBy: iso(eta.pickedBy), packedBy: iso(eta.packedBy), shipsAt: iso(eta.shipsAt), deliversBy: iso(eta.deliversBy) };
}

function view(eta: OrderEta, lines: readonly { id: string; pickedBy: number | null }[]): EtaView {
  return { ...etaFields(eta), lines: lines.map((l) => ({ id: l.id, pickedBy: iso(l.pickedBy) })) };
}
