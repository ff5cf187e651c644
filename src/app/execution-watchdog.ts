/**
 * The floor's watchdog (issue "Execution" item 6): work held by a device that went silent, and
 * work that stopped making progress, does not wait forever.
 *
 * - A vehicle that is unreachable (connection broken or offline, or silent past the registry's
 *   watchdog) loses its trip while the goods are still at the location: the trip fails, the
 *   line is re-sourced and the release pass sends it to another vehicle (attempts counted).
 *   Once the goods are on board, no other vehicle can fetch them: an open exception instead.
 * - Fixed equipment (AS/RS, conveyor, arm) cannot hand a bin to another machine: its outage is
 *   an open exception, once per outage, and its steps wait for it.
 * - A task without progress for `taskTimeoutMs` is canceled on the device and retried elsewhere.
 * - A vehicle that comes back still driving an order the core gave up on gets `cancelOrder`.
 * - A vehicle that echoed a trip's order once but whose states no longer carry it has lost it
 *   (rebooted without memory, often while the core was away): asked for its state once more,
 *   and if a newer state still does not carry the order, the trip is taken back as from a
 *   silent vehicle (see lostOrder).
 * - A fixed-equipment step without progress for a while makes the core ask its device for its
 *   job states (wcs `stateRequest`): a finish reported while the broker was away is not lost.
 */
import type { TaskRecord } from '../domain/records.js';
import type { AppContext } from './context.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import type { FleetProfiles } from './fleet-profiles.js';
import type { ExceptionService } from './exception-service.js';
import type { TaskProgressService } from './task-progress.js';
import type { TrafficController } from './traffic-controller.js';
import { runInTransaction } from './unit-of-work.js';
import { enqueueVdaInstantActions, enqueueWcsInstantActions } from './instant-actions.js';

export interface WatchdogOptions {
  interfaceName: string;
  /** Traffic control: a trip taken back frees the nodes reserved ahead of the silent vehicle. */
  traffic?: Pick<TrafficController, 'abortTrip'>;
  /** A task with no progress for this long is canceled and retried elsewhere. */
  taskTimeoutMs: number;
  /** Vehicle profiles: a vehicle whose profile names a watchdog period is judged by it. */
  profiles?: Pick<FleetProfiles, 'isReachable'>;
}

const HELD = ['DISPATCHED', 'RUNNING', 'PAUSED'] as const;
const isHeld = (t: TaskRecord): boolean => (HELD as readonly string[]).includes(t.state);
/** The store's order of `tasksInStates`: creation time, then id (ASCII, so code-unit order is SQLite's). */
const olderFirst = (a: TaskRecord, b: TaskRecord): number => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** A trip whose vehicle's state stopped carrying its order: when that was noticed, and the state then. */
interface LostOrderSuspicion {
  at: number;
  stateSeenAt: number;
}

export class ExecutionWatchdog {
  /** Devices whose outage already has an open exception; cleared when they are back. */
  private readonly reportedOutages = new Set<string>();
  /** Tasks whose stranded goods already have an open exception. */
  private readonly reportedStranded = new Set<string>();
  /** Orders already told to stop, per vehicle, so a returning vehicle is told once. */
  private readonly stopped = new Set<string>();
  /** Held trips whose vehicle's state no longer carries their order, by task id. */
  private readonly suspectedLost = new Map<string, LostOrderSuspicion>();
  /** When a fixed machine with a stalled step was last asked for its job states, by device id. */
  private readonly askedJobStates = new Map<string, number>();
  /** The last order each vehicle's state carried, and when (any non-empty orderId). */
  private readonly lastEcho = new Map<string, { orderId: string; at: number }>();
  /**
   * When this core started: a task cannot have stalled while no core was watching it, so time
   * spent down (a crash, a restart) does not count toward its timeout.
   */
  private readonly startedAt: number;

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly progress: TaskProgressService,
    private readonly exceptions: ExceptionService,
    private readonly opts: WatchdogOptions,
    private readonly onCommandsQueued: () => void,
  ) {
    this.startedAt = ctx.clock.now();
    // Every state, stale or fresh, passes here first: a real echo after a suspicion clears it.
    progress.watchVdaStates((deviceId, _serialNumber, s) => {
      if (s.orderId) this.lastEcho.set(deviceId, { orderId: s.orderId, at: this.ctx.clock.now() });
    });
  }

  /**
   * Keep the held tasks between sweeps and re-read only those written since (`subscribe` is the
   * store's watchTaskWrites): a sweep a second then costs a read per task written, not a read of
   * every held task. Without it every sweep reads them all.
   */
  followTaskWrites(subscribe: (watcher: (taskId: string) => void) => void): void {
    this.writtenSince = new Set();
    subscribe((taskId) => this.writtenSince?.add(taskId));
  }

  /** Ids of tasks written since the last sweep; undefined when writes are not followed. */
  private writtenSince: Set<string> | undefined;
  /** Held tasks as of the last sweep, by id (only when writes are followed). */
  private held: Map<string, TaskRecord> | undefined;

  /** Held tasks, oldest first (as `tasksInStates` lists them): from the kept set, refreshed, when writes are followed. */
  private heldTasks(): TaskRecord[] {
    const written = this.writtenSince;
    if (written === undefined) return this.ctx.store.tasksInStates(HELD);
    if (this.held === undefined) {
      written.clear();
      this.held = new Map(this.ctx.store.tasksInStates(HELD).map((t) => [t.id, t]));
    } else {
      for (const id of written) {
        const t = this.ctx.store.getTask(id);
        if (t !== undefined && isHeld(t)) this.held.set(id, t);
        else this.held.delete(id);
      }
      written.clear();
    }
    return [...this.held.values()].sort(olderFirst);
  }

  /** One sweep over held tasks and devices; returns how many tasks were taken back. */
  sweep(): number {
    const now = this.ctx.clock.now();
    let takenBack = 0;
    let queued = false;
    // Read first: stopping an abandoned order only queues a command, it changes no task.
    const held = this.heldTasks();
    const heldIds = new Set<string>();
    for (const t of held) heldIds.add(t.id);
    for (const d of this.registry.list()) {
      if (this.isUnreachable(d, now)) continue;
      this.reportedOutages.delete(d.id);
      queued = this.stopAbandonedOrder(d, heldIds) || queued;
    }
    for (const task of held) {
      const device = task.deviceId === undefined ? undefined : this.registry.get(task.deviceId);
      if (!device) continue;
      const lost = this.isUnreachable(device, now) ? 'no' : this.lostOrder(task, device, now);
      if (lost === 'asked') queued = true;
      if (this.isUnreachable(device, now)) {
        if (task.deviceClass === 'amr') takenBack += this.takeBackTrip(task, device) ? 1 : 0;
        else this.reportOutage(device, task);
      } else if (lost === 'lost') {
        takenBack += this.takeBackLostTrip(task, device) ? 1 : 0;
      } else if (task.deviceClass !== 'amr' && this.askJobStatesIfStalled(task, device, now)) {
        queued = true;
      } else if (now - Math.max(task.updatedAt, this.startedAt) > this.opts.taskTimeoutMs && !this.ridesOnHeldTrip(task)) {
        takenBack += this.timeOut(task, device, now) ? 1 : 0;
        queued = true;
      }
    }
    if (this.suspectedLost.size > 0 || this.askedJobStates.size > 0) {
      const ids = new Set(held.map((t) => t.id));
      for (const id of this.suspectedLost.keys()) if (!ids.has(id)) this.suspectedLost.delete(id);
      const devices = new Set(held.map((t) => t.deviceId));
      for (const id of this.askedJobStates.keys()) if (!devices.has(id)) this.askedJobStates.delete(id);
    }
    if (queued || takenBack > 0) this.onCommandsQueued();
    return takenBack;
  }

  /**
   * Whether a reachable vehicle has lost a trip it once acknowledged. One state without the
   * order may be a stale one delivered late, so the first sighting only asks the vehicle for
   * its state (`asked`); the trip counts as `lost` once a newer state still lacks the order and
   * no state has carried it since the question. A trip never acknowledged is left to the
   * outbox, which re-sends its order until the vehicle echoes it.
   */
  private lostOrder(task: TaskRecord, device: DeviceView, now: number): 'no' | 'asked' | 'lost' {
    // A line riding on another task's trip is carried by that trip's order.
    const orderId = task.progress.tripOf ?? task.id;
    if (task.deviceClass !== 'amr' || task.progress.acknowledged !== true || device.stateSeenAt === undefined || device.orderId === orderId) {
      this.suspectedLost.delete(task.id);
      return 'no';
    }
    const suspicion = this.suspectedLost.get(task.id);
    if (suspicion === undefined) {
      this.suspectedLost.set(task.id, { at: now, stateSeenAt: device.stateSeenAt });
      this.askForState(device, task.id);
      return 'asked';
    }
    const echo = this.lastEcho.get(device.id);
    if (echo !== undefined && echo.orderId === orderId && echo.at >= suspicion.at) {
      this.suspectedLost.delete(task.id);
      return 'no';
    }
    return device.stateSeenAt > suspicion.stateSeenAt ? 'lost' : 'no';
  }

  /**
   * The vehicle forgot the trip: while the goods are still at the location the trip fails and
   * the line is re-sourced, as for a silent vehicle, but nothing is canceled on the vehicle —
   * it runs none of this order, and may already run a new one. With goods on board, an open
   * exception: only people can find the tote.
   */
  private takeBackLostTrip(task: TaskRecord, device: DeviceView): boolean {
    const line = this.ctx.store.getLine(task.lineId);
    if (!line) return false;
    const carried = device.orderId === undefined ? 'no order' : `order ${device.orderId}`;
    if (line.snapshot.context.picked > 0) {
      this.raiseOnce(
        'task-failed',
        task,
        device,
        `${device.id} lost ${task.id} (its state shows ${carried}) with ${line.snapshot.context.picked} × ${line.sku} of ${line.id} on board`,
        { orderId: device.orderId ?? null, lastNodeId: device.lastNodeId ?? null, picked: line.snapshot.context.picked },
        'the trip stays with the vehicle: the goods are on board; recover the tote, then cancel the line or resolve',
      );
      return false;
    }
    this.suspectedLost.delete(task.id);
    // The dispatcher may have given the vehicle a new trip meanwhile; failing this one must not free it.
    const holds = device.task !== task.id ? device.task : undefined;
    runInTransaction(this.ctx.store, (after) => {
      this.progress.failTask(task, `${device.id} lost the order (its state shows ${carried}; rebooted?)`, after, { type: 'task-failed' });
      after(() => this.opts.traffic?.abortTrip(device.id, task.id));
      if (holds !== undefined) after(() => this.registry.assign(device.id, holds));
    });
    return true;
  }

  /**
   * A job state sent while the broker was down (say, FINISHED) is gone, and the device says it
   * only once. A step quiet for a quarter of the task timeout (at most 15 s) makes the core ask
   * the device for its job states, then again each such period, before the timeout raises an
   * exception; devices keep their recently finished jobs to answer this. One question per device
   * and period, however many of its steps wait: the answer covers all its jobs.
   */
  private askJobStatesIfStalled(task: TaskRecord, device: DeviceView, now: number): boolean {
    const every = Math.min(15_000, this.opts.taskTimeoutMs / 4);
    if (now - task.updatedAt < every || now - (this.askedJobStates.get(device.id) ?? 0) < every) return false;
    this.askedJobStates.set(device.id, now);
    const deviceClass = device.class as 'asrs' | 'conveyor' | 'arm';
    runInTransaction(this.ctx.store, () =>
      enqueueWcsInstantActions(this.ctx, { deviceClass, deviceId: device.id }, [{ actionId: `${task.id}-stateRequest-${now}`, actionType: 'stateRequest', blockingType: 'NONE', actionParameters: [] }]),
    );
    return true;
  }

  private askForState(device: DeviceView, taskId: string): void {
    if (device.manufacturer === undefined || device.serialNumber === undefined) return;
    const vehicle = { manufacturer: device.manufacturer, serialNumber: device.serialNumber };
    runInTransaction(this.ctx.store, () =>
      enqueueVdaInstantActions(this.ctx, this.opts.interfaceName, vehicle, [{ actionId: `${taskId}-stateRequest-${this.ctx.clock.now()}`, actionType: 'stateRequest', blockingType: 'NONE' }]),
    );
  }

  /** Connection lost or silent too long; a device taken out of service on purpose is not "unreachable". */
  private isUnreachable(d: DeviceView, now: number): boolean {
    if (d.outOfService) return false;
    if (d.connection === 'OFFLINE' || d.connection === 'CONNECTIONBROKEN') return true;
    return d.lastSeenAt !== undefined && !(this.opts.profiles ? this.opts.profiles.isReachable(d, now) : this.registry.isReachable(d, now));
  }

  /** A line riding on another task's trip (batched) has no clock of its own while that trip is held. */
  private ridesOnHeldTrip(task: TaskRecord): boolean {
    if (task.progress.tripOf === undefined) return false;
    const lead = this.ctx.store.getTask(task.progress.tripOf);
    return lead !== undefined && lead.deviceId === task.deviceId && (HELD as readonly string[]).includes(lead.state);
  }

  private takeBackTrip(task: TaskRecord, device: DeviceView): boolean {
    const line = this.ctx.store.getLine(task.lineId);
    if (!line) return false;
    if (line.snapshot.context.picked > 0) {
      this.raiseOnce(
        'device-unreachable',
        task,
        device,
        `${device.id} is unreachable with ${line.snapshot.context.picked} × ${line.sku} of ${line.id} on board`,
        { connection: device.connection, lastSeenAt: device.lastSeenAt ?? null, lastNodeId: device.lastNodeId ?? null, picked: line.snapshot.context.picked },
        'the trip stays with the vehicle: the goods are on board; recover the vehicle or its tote, then resolve',
      );
      return false;
    }
    runInTransaction(this.ctx.store, (after) => {
      this.progress.failTask(task, `${device.id} unreachable (${device.connection === 'UNKNOWN' || device.connection === 'ONLINE' ? 'silent' : device.connection.toLowerCase()})`, after, { type: 'device-unreachable' });
      // It still stands where it stopped; the nodes reserved ahead of it are free for others.
      after(() => this.opts.traffic?.abortTrip(device.id, task.id));
      // Sent now for a vehicle on a persistent session; one on a clean session is told again
      // when it reports the abandoned order (stopAbandonedOrder).
      this.stopOnDevice(device, task.id, false);
    });
    return true;
  }

  private reportOutage(device: DeviceView, task: TaskRecord): void {
    if (this.reportedOutages.has(device.id)) return;
    this.reportedOutages.add(device.id);
    this.raiseOnce(
      'device-unreachable',
      task,
      device,
      `${device.id} (${device.class}) is unreachable while holding ${task.id}`,
      { connection: device.connection, lastSeenAt: device.lastSeenAt ?? null, kind: task.kind },
      `its steps wait: a bin cannot move to another ${device.class}; restore the device or cancel the line`,
    );
  }

  /** No progress for too long: stop it on the device and try again elsewhere. */
  private timeOut(task: TaskRecord, device: DeviceView, now: number): boolean {
    const minutes = Math.round((now - task.updatedAt) / 6000) / 10;
    if (task.deviceClass !== 'amr') {
      // A fixed machine's step cannot go elsewhere; the operator decides.
      this.raiseOnce(
        'task-timeout',
        task,
        device,
        `${task.id} (${task.kind}) on ${device.id} made no progress for ${minutes} min`,
        { state: task.state, since: task.updatedAt },
        'left with the device; check it, then cancel the line or resolve',
      );
      return false;
    }
    const line = this.ctx.store.getLine(task.lineId);
    if (!line) return false;
    if (line.snapshot.context.picked > 0) {
      // No other vehicle can fetch goods that are on board: the trip stays, the operator is told.
      this.raiseOnce(
        'task-timeout',
        task,
        device,
        `${task.id} on ${device.id} made no progress for ${minutes} min with ${line.snapshot.context.picked} × ${line.sku} of ${line.id} on board`,
        { state: task.state, since: task.updatedAt, lastNodeId: device.lastNodeId ?? null, picked: line.snapshot.context.picked },
        'the trip stays with the vehicle: the goods are on board; check the vehicle, then resolve',
      );
      return false;
    }
    runInTransaction(this.ctx.store, (after) => {
      this.stopOnDevice(device, task.id);
      after(() => this.opts.traffic?.abortTrip(device.id, task.id));
      this.progress.failTask(task, `no progress on ${device.id} for ${minutes} min: canceled there, to be retried elsewhere`, after, { type: 'task-timeout' });
    });
    return true;
  }

  /** An open exception about a held task, once per task: the operator decides. */
  private raiseOnce(type: 'device-unreachable' | 'task-timeout' | 'task-failed', task: TaskRecord, device: DeviceView, summary: string, detail: Record<string, unknown>, action: string): void {
    if (this.reportedStranded.has(task.id)) return;
    this.reportedStranded.add(task.id);
    runInTransaction(this.ctx.store, (after) =>
      this.exceptions.raise({ type, status: 'open', orderId: task.orderId, lineId: task.lineId, taskId: task.id, deviceId: device.id, summary, detail, actions: [action] }, after),
    );
  }

  /** The vehicle reports an order whose task the core gave up on: tell it to stop, once. */
  private stopAbandonedOrder(d: DeviceView, heldIds: ReadonlySet<string>): boolean {
    if (d.class !== 'amr' || !d.orderActive || d.orderId === undefined) return false;
    // The usual case, every sweep for every busy vehicle: its order is a held trip, so neither
    // failed nor canceled — no need to read the task again.
    if (heldIds.has(d.orderId)) return false;
    const key = `${d.id}/${d.orderId}`;
    if (this.stopped.has(key)) return false;
    const task = this.ctx.store.getTask(d.orderId);
    if (!task || task.deviceId !== d.id || (task.state !== 'FAILED' && task.state !== 'CANCELED')) return false;
    runInTransaction(this.ctx.store, () => this.stopOnDevice(d, task.id));
    return true;
  }

  private stopOnDevice(device: DeviceView, taskId: string, remember = true): void {
    if (remember) this.stopped.add(`${device.id}/${taskId}`);
    if (device.manufacturer === undefined || device.serialNumber === undefined) return;
    enqueueVdaInstantActions(this.ctx, this.opts.interfaceName, { manufacturer: device.manufacturer, serialNumber: device.serialNumber }, [
      { actionId: `${taskId}-cancel-${this.ctx.clock.now()}`, actionType: 'cancelOrder', blockingType: 'HARD' },
    ]);
  }
}
