/**
 * Cancellation of an order or of one line before SHIPPED (DESIGN §3, issue 3 item 7). Each
 * request runs in ONE store transaction: the line's device work is stopped (commands written
 * to the outbox, never published directly), its stock given back, its machine moved to
 * CANCELED, and the order header canceled once no line is left. Idempotent: a line already
 * CANCELED is left as it is, so repeating a cancel changes nothing and answers the same.
 *
 * Per line:
 * - tasks not yet dispatched (CREATED) become CANCELED;
 * - an active AMR trip becomes CANCELED and its vehicle gets a VDA `cancelOrder` instant action;
 *   the vehicle's assignment is cleared after commit, so it takes new work once it reports idle;
 * - an active AS/RS, conveyor or arm step becomes CANCELED and its device gets a wcs `cancelJob`;
 * - the reservation not yet consumed is released; goods already picked are restocked on hand at
 *   the line's location (stock is conserved: the tote's content goes back where it came from).
 * - a line whose tote is at the pack station, or in a parcel being packed or packed, leaves it;
 *   the parcel is canceled with its last line (pack-service.ts, through `onLinesCanceled`).
 * A canceled task's outstanding command is retired (marked confirmed) so that the outbox stops
 * re-sending it: a vehicle or device that missed it must not start it after the cancel.
 */
import { currentPlan, stepsToAbort } from '../domain/execution-plan.js';
import { LINE_SHIPPED_OR_LATER } from '../domain/line-machine.js';
import { applyEvent } from '../domain/machine-runner.js';
import { orderMachine } from '../domain/order-machine.js';
import type { LineRecord, TaskRecord, TaskState } from '../domain/records.js';
import { PickwireError } from '../errors.js';
import type { AppContext } from './context.js';
import { correlationOf } from './correlation.js';
import { enqueueVdaInstantActions, enqueueWcsInstantActions } from './instant-actions.js';
import type { DeviceRegistry } from './device-registry.js';
import type { AfterCommit, LineService } from './line-service.js';
import { orderView, type OrderView } from './queries.js';
import { runInTransaction } from './unit-of-work.js';

export interface CancellationOptions {
  /** VDA 5050 interface name for topics (`uagv` by default). */
  interfaceName: string;
}

export interface CancellationHooks {
  /** Commands were written to the outbox: drain it. */
  onCommandsQueued: () => void;
  /** Devices or bins were freed: run a dispatch pass. */
  onTasksFreed: () => void;
  /**
   * Inside the transaction, once every targeted line is CANCELED: their totes leave the pack
   * station's consolidation and any parcel being packed or packed (pack-service.ts).
   */
  onLinesCanceled?: (orderId: string, lines: readonly LineRecord[], actor: string | undefined, after: AfterCommit) => void;
}

const ACTIVE: readonly TaskState[] = ['DISPATCHED', 'RUNNING', 'PAUSED'];

export class CancellationService {
  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly lines: LineService,
    private readonly opts: CancellationOptions,
    private readonly hooks: CancellationHooks,
  ) {}

  /** Cancels every line of the order; all or nothing (409 if any line shipped). */
  cancelOrder(orderId: string, reason: string, actor?: string): OrderView {
    return this.cancel(orderId, undefined, reason, actor);
  }

  /** Cancels one line; the order header follows when it was the last live line. */
  cancelLine(orderId: string, lineId: string, reason: string, actor?: string): OrderView {
    return this.cancel(orderId, lineId, reason, actor);
  }

  private cancel(orderId: string, lineId: string | undefined, reason: string, actor: string | undefined): OrderView {
    const { store, clock } = this.ctx;
    let queued = false;
    const view = runInTransaction(store, (after) => {
      const order = store.getOrder(orderId);
      if (!order) throw new PickwireError('PW_ERR_NOT_FOUND', `no order ${orderId}`);
      const lines = store.linesOf(orderId);
      const targets = lineId === undefined ? lines : lines.filter((l) => l.id === lineId);
      if (lineId !== undefined && targets.length === 0) throw new PickwireError('PW_ERR_NOT_FOUND', `order ${orderId} has no line ${lineId}`);
      const shipped = targets.filter((l) => LINE_SHIPPED_OR_LATER.includes(l.state));
      if (shipped.length > 0) {
        throw new PickwireError('PW_ERR_INVALID_STATE', `line ${shipped.map((l) => `${l.id} is ${l.state}`).join(', line ')}: a shipped line can no longer be canceled`, {
          details: shipped.map((l) => ({ path: `/lines/${l.id}`, problem: `line ${l.id} is ${l.state}` })),
        });
      }
      const open = targets.filter((l) => l.state !== 'CANCELED');
      if (open.length === 0) return orderView(order, lines, store.holdsOf(orderId));
      const now = clock.now();

      // The header goes first when no line will be left: once every line is CANCELED the line
      // service would otherwise close the order (CLOSED) instead of canceling it.
      const openIds = new Set(open.map((l) => l.id));
      const noneLeft = lines.every((l) => l.state === 'CANCELED' || openIds.has(l.id));
      const header = noneLeft ? applyEvent(orderMachine, order.snapshot, { type: 'order.cancel', reason }) : undefined;
      if (header?.changed) {
        store.updateOrder(orderId, { status: 'CANCELED', fulfilment: order.fulfilment, snapshot: header.next, updatedAt: now });
      }

      for (const line of open) {
        const { commands, tasks } = this.cancelTasks(line, reason, actor, now, after);
        queued ||= commands > 0;
        const stock = this.lines.compensateStock(line, after, actor);
        const current = store.getLine(line.id) ?? line;
        this.lines.apply(current, { type: 'line.cancel', reason }, after, { actor, data: { reason, canceledTasks: tasks, ...stock } });
      }
      this.hooks.onLinesCanceled?.(orderId, open, actor, after);

      if (header?.changed) {
        store.appendEvent({
          type: 'order.canceled',
          aggregateType: 'order',
          aggregateId: orderId,
          orderId,
          actor,
          at: now,
          data: { from: header.from, to: header.to, reason },
        });
      }
      this.lines.refreshOrder(orderId, after);
      after(() => this.ctx.logger.info({ orderId, lines: open.map((l) => l.id), reason, actor }, 'canceled'));
      const stored = store.getOrder(orderId) ?? order;
      return orderView(stored, store.linesOf(orderId), store.holdsOf(orderId));
    });
    if (queued) this.hooks.onCommandsQueued();
    this.hooks.onTasksFreed();
    return view;
  }

  /**
   * Stops the line's device work. For an AS/RS line whose bin has already left storage (the
   * current plan's retrieve is no longer CREATED), the return steps (conveyor.toPort,
   * asrs.store) are NOT canceled: only the steps up to and including the arm pick are, so the
   * bin still rides back and is stored, and the dispatcher keeps it owned by this line until
   * then (other lines for the same bin wait, as they would anyway). A retrieve that is running
   * is left to finish too: the crane is carrying the bin and must set it down at the port. When
   * the retrieve has not started, every step is canceled and the bin never moves.
   */
  private cancelTasks(line: LineRecord, reason: string, actor: string | undefined, now: number, after: AfterCommit): { commands: number; tasks: string[] } {
    let commands = 0;
    const canceled: string[] = [];
    for (const task of stepsToAbort(currentPlan(this.ctx.store.tasksOfLine(line.id)))) {
      const active = ACTIVE.includes(task.state);
      let command: string | undefined;
      if (active) {
        command = this.stopOnDevice(task, after);
        if (command) commands++;
      }
      this.ctx.store.updateTask(task.id, { state: 'CANCELED', updatedAt: now });
      this.ctx.store.appendEvent({
        type: 'task.canceled',
        aggregateType: 'task',
        aggregateId: task.id,
        orderId: task.orderId,
        actor,
        at: now,
        data: { lineId: task.lineId, kind: task.kind, deviceId: task.deviceId ?? null, reason, from: task.state, command: command ?? null },
      });
      canceled.push(task.id);
      after(() => this.ctx.notifier.publish({ type: 'task.updated', at: now, data: { id: task.id, state: 'CANCELED', deviceId: task.deviceId ?? null, lineId: task.lineId } }));
    }
    return { commands, tasks: canceled };
  }

  /** Stops one task's work on its device (cancelOrder or cancelJob); returns the command sent, if any. */
  stopOnDevice(task: TaskRecord, after: AfterCommit): string | undefined {
    if (!task.deviceId || !ACTIVE.includes(task.state)) return undefined;
    const now = this.ctx.clock.now();
    return task.deviceClass === 'amr' ? this.cancelTrip(task, task.deviceId, now, after) : this.cancelStep(task, task.deviceId, now);
  }

  /** VDA `cancelOrder` to the vehicle through the outbox; the trip's own order stops being re-sent. */
  private cancelTrip(task: TaskRecord, deviceId: string, now: number, after: AfterCommit): string | undefined {
    const { store } = this.ctx;
    after(() => {
      if (this.registry.get(deviceId)?.task === task.id) this.registry.assign(deviceId, undefined);
    });
    const view = this.registry.get(deviceId);
    const serialNumber = view?.serialNumber ?? deviceId;
    const manufacturer = view?.manufacturer;
    store.confirm(correlationOf.vda(serialNumber, task.progress.commandId ?? task.id, task.progress.updateId ?? 0), now);
    if (manufacturer === undefined) {
      this.ctx.logger.warn({ task: task.id, deviceId }, 'cancel: vehicle has no known manufacturer; no cancelOrder sent');
      return undefined;
    }
    enqueueVdaInstantActions(this.ctx, this.opts.interfaceName, { manufacturer, serialNumber }, [
      { actionId: `${task.id}-cancel`, actionType: 'cancelOrder', blockingType: 'HARD' },
    ]);
    return 'cancelOrder';
  }

  /** wcs `cancelJob` {jobId} to the AS/RS, conveyor or arm through the outbox. */
  private cancelStep(task: TaskRecord, deviceId: string, now: number): string {
    const { store } = this.ctx;
    const jobId = task.progress.commandId ?? task.id;
    store.confirm(correlationOf.wcs(deviceId, jobId, task.progress.updateId ?? 0), now);
    enqueueWcsInstantActions(this.ctx, { deviceClass: task.deviceClass as 'asrs' | 'conveyor' | 'arm', deviceId }, [
      { actionId: `${task.id}-cancel`, actionType: 'cancelJob', blockingType: 'HARD', actionParameters: [{ key: 'jobId', value: jobId }] },
    ]);
    return 'cancelJob';
  }
}

/**
 * The tasks of the line's current plan: a line that failed and was re-planned keeps its old
 * (FAILED/CANCELED) tasks, and the newest plan starts at the last step-0 task created.
 */
