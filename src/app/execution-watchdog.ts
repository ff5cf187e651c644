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
 */
import type { TaskRecord } from '../domain/records.js';
import type { AppContext } from './context.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import type { ExceptionService } from './exception-service.js';
import type { TaskProgressService } from './task-progress.js';
import type { TrafficController } from './traffic-controller.js';
import { runInTransaction } from './unit-of-work.js';
import { enqueueVdaInstantActions } from './instant-actions.js';

export interface WatchdogOptions {
  interfaceName: string;
  /** Traffic control: a trip taken back frees the nodes reserved ahead of the silent vehicle. */
  traffic?: Pick<TrafficController, 'abortTrip'>;
  /** A task with no progress for this long is canceled and retried elsewhere. */
  taskTimeoutMs: number;
}

const HELD = ['DISPATCHED', 'RUNNING', 'PAUSED'] as const;

export class ExecutionWatchdog {
  /** Devices whose outage already has an open exception; cleared when they are back. */
  private readonly reportedOutages = new Set<string>();
  /** Tasks whose stranded goods already have an open exception. */
  private readonly reportedStranded = new Set<string>();
  /** Orders already told to stop, per vehicle, so a returning vehicle is told once. */
  private readonly stopped = new Set<string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly progress: TaskProgressService,
    private readonly exceptions: ExceptionService,
    private readonly opts: WatchdogOptions,
    private readonly onCommandsQueued: () => void,
  ) {}

  /** One sweep over held tasks and devices; returns how many tasks were taken back. */
  sweep(): number {
    const now = this.ctx.clock.now();
    let takenBack = 0;
    let queued = false;
    for (const d of this.registry.list()) {
      if (this.isUnreachable(d, now)) continue;
      this.reportedOutages.delete(d.id);
      queued = this.stopAbandonedOrder(d) || queued;
    }
    for (const task of this.ctx.store.tasksInStates(HELD)) {
      const device = task.deviceId === undefined ? undefined : this.registry.get(task.deviceId);
      if (!device) continue;
      if (this.isUnreachable(device, now)) {
        if (task.deviceClass === 'amr') takenBack += this.takeBackTrip(task, device) ? 1 : 0;
        else this.reportOutage(device, task);
      } else if (now - task.updatedAt > this.opts.taskTimeoutMs) {
        takenBack += this.timeOut(task, device, now) ? 1 : 0;
        queued = true;
      }
    }
    if (queued || takenBack > 0) this.onCommandsQueued();
    return takenBack;
  }

  /** Connection lost or silent too long; a device taken out of service on purpose is not "unreachable". */
  private isUnreachable(d: DeviceView, now: number): boolean {
    if (d.outOfService) return false;
    if (d.connection === 'OFFLINE' || d.connection === 'CONNECTIONBROKEN') return true;
    return d.lastSeenAt !== undefined && !this.registry.isReachable(d, now);
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
    if (!line || line.snapshot.context.picked > 0) return false;
    runInTransaction(this.ctx.store, (after) => {
      this.stopOnDevice(device, task.id);
      after(() => this.opts.traffic?.abortTrip(device.id, task.id));
      this.progress.failTask(task, `no progress on ${device.id} for ${minutes} min: canceled there, to be retried elsewhere`, after, { type: 'task-timeout' });
    });
    return true;
  }

  /** An open exception about a held task, once per task: the operator decides. */
  private raiseOnce(type: 'device-unreachable' | 'task-timeout', task: TaskRecord, device: DeviceView, summary: string, detail: Record<string, unknown>, action: string): void {
    if (this.reportedStranded.has(task.id)) return;
    this.reportedStranded.add(task.id);
    runInTransaction(this.ctx.store, (after) =>
      this.exceptions.raise({ type, status: 'open', orderId: task.orderId, lineId: task.lineId, taskId: task.id, deviceId: device.id, summary, detail, actions: [action] }, after),
    );
  }

  /** The vehicle reports an order whose task the core gave up on: tell it to stop, once. */
  private stopAbandonedOrder(d: DeviceView): boolean {
    if (d.class !== 'amr' || !d.orderActive || d.orderId === undefined) return false;
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
