/**
 * Operator control of device tasks (DESIGN §9): cancel a task, journaled with who did it. The
 * device stops the work (cancelOrder / cancelJob through the outbox), later steps of the plan
 * stop (a bin out of storage still goes home), and the line goes back to sourcing like after a
 * failure, attempts counted, with an exception record saying who canceled it and why.
 */
import type { TaskRecord } from '../domain/records.js';
import { PickwireError } from '../errors.js';
import type { CancellationService } from './cancellation.js';
import type { AppContext } from './context.js';
import type { TaskProgressService } from './task-progress.js';
import { runInTransaction } from './unit-of-work.js';

const OPEN: readonly TaskRecord['state'][] = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'];

export class TaskControlService {
  constructor(
    private readonly ctx: AppContext,
    private readonly progress: TaskProgressService,
    private readonly cancellation: CancellationService,
    private readonly onCommandsQueued: () => void,
  ) {}

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
