/**
 * Operator control of device tasks (DESIGN §9): cancel or reassign a task, journaled with who
 * did it. Canceling: the device stops the work (cancelOrder / cancelJob through the outbox),
 * later steps of the plan stop (a bin out of storage still goes home), and the line goes back to
 * sourcing like after a failure, attempts counted, with an exception record saying who canceled
 * it and why. Reassigning: a vehicle's trip goes to another vehicle, nothing else changes.
 */
import type { TaskRecord } from '../domain/records.js';
import { PickwireError } from '../errors.js';
import type { CancellationService } from './cancellation.js';
import type { AppContext } from './context.js';
import type { TaskProgressService } from './task-progress.js';
import type { TrafficController } from './traffic-controller.js';
import { runInTransaction } from './unit-of-work.js';

const OPEN: readonly TaskRecord['state'][] = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'];

export class TaskControlService {
  constructor(
    private readonly ctx: AppContext,
    private readonly progress: TaskProgressService,
    private readonly cancellation: CancellationService,
    private readonly onCommandsQueued: () => void,
    private readonly onTasksFreed?: () => void,
    private readonly traffic?: Pick<TrafficController, 'abortTrip'>,
  ) {}

  /**
   * Takes a vehicle's trip away from it and gives it to another: stopped on the vehicle
   * (cancelOrder), back to CREATED with that vehicle excluded, dispatched to the best other free
   * one. Only before the pick: goods on board stay with their vehicle. Fixed equipment cannot
   * hand a bin's step to another machine.
   */
  reassign(taskId: string, reason: string, actor: string): TaskRecord {
    const result = runInTransaction(this.ctx.store, (after) => {
      const task = this.ctx.store.getTask(taskId);
      if (!task) throw new PickwireError('PW_ERR_NOT_FOUND', `no task ${taskId}`);
      if (!OPEN.includes(task.state)) throw new PickwireError('PW_ERR_INVALID_STATE', `task ${taskId} is ${task.state}: only an open task can be reassigned`);
      if (task.deviceClass !== 'amr') throw new PickwireError('PW_ERR_INVALID_STATE', `task ${taskId} is a ${task.kind} step: its bin cannot move to another ${task.deviceClass}; cancel it instead`);
      const line = this.ctx.store.getLine(task.lineId);
      if (line && line.snapshot.context.picked > 0) throw new PickwireError('PW_ERR_INVALID_STATE', `task ${taskId} already picked ${line.snapshot.context.picked} of ${line.id}: the goods are on board`);
      const from = task.deviceId;
      const command = task.state === 'CREATED' ? undefined : this.cancellation.stopOnDevice(task, after);
      const now = this.ctx.clock.now();
      const avoidDevices = [...new Set([...(task.plan.avoidDevices ?? []), ...(from ? [from] : [])])];
      // A fresh command id for the new vehicle: the old vehicle's order is canceled, not reused.
      this.ctx.store.updateTask(task.id, { state: 'CREATED', deviceId: undefined, progress: { applied: [] }, attempts: task.attempts + 1, plan: { ...task.plan, avoidDevices }, updatedAt: now });
      this.ctx.store.appendEvent({
        type: 'task.reassigned',
        aggregateType: 'task',
        aggregateId: task.id,
        orderId: task.orderId,
        actor,
        at: now,
        data: { lineId: task.lineId, kind: task.kind, from: from ?? null, reason, avoid: avoidDevices, command: command ?? null },
      });
      if (from) after(() => this.traffic?.abortTrip(from, task.id));
      after(() => this.ctx.notifier.publish({ type: 'task.updated', at: now, data: { id: task.id, state: 'CREATED', deviceId: null, lineId: task.lineId } }));
      return { task: this.ctx.store.getTask(taskId) ?? task, command };
    });
    this.onCommandsQueued();
    this.onTasksFreed?.();
    return result.task;
  }

  cancel(taskId: string, reason: string, actor: string): TaskRecord {
    const result = runInTransaction(this.ctx.store, (after) => {
      const task = this.ctx.store.getTask(taskId);
      if (!task) throw new PickwireError('PW_ERR_NOT_FOUND', `no task ${taskId}`);
      if (!OPEN.includes(task.state)) throw new PickwireError('PW_ERR_INVALID_STATE', `task ${taskId} is ${task.state}: only an open task can be canceled`);
      const line = this.ctx.store.getLine(task.lineId);
      if (task.deviceClass === 'amr' && line && line.snapshot.context.picked > 0 && line.state === 'PICKED') {
        throw new PickwireError('PW_ERR_INVALID_STATE', `task ${taskId} carries picked goods of ${line.id} to the pack station; cancel the line instead`);
      }
      const command = this.cancellation.stopOnDevice(task, after);
      this.progress.failTask(task, `canceled by ${actor}: ${reason}`, after, { type: 'task-failed', actor, state: 'CANCELED' });
      return { task: this.ctx.store.getTask(taskId) ?? task, command };
    });
    if (result.command) this.onCommandsQueued();
    return result.task;
  }
}
