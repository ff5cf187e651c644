/**
 * Applies what devices report about their commands to tasks, lines and stock. Idempotent: a
 * repeated or re-sent state changes nothing twice (applied action ids are remembered per task),
 * and reports about commands that are not ours, or no longer current, are ignored.
 */
import type { VdaState, WcsJobState } from '../../protocols/index.js';
import { actionIdOf } from '../domain/commands.js';
import { currentPlan, isPickingStep, RETURN_KINDS, stepsToAbort } from '../domain/execution-plan.js';
import type { TaskRecord, TaskState } from '../domain/records.js';
import type { AppContext } from './context.js';
import { correlationOf } from './correlation.js';
import type { DeviceRegistry } from './device-registry.js';
import type { AfterCommit, FailureCause, LineService } from './line-service.js';
import { runInReportTransaction } from './unit-of-work.js';
import type { ExceptionService } from './exception-service.js';

const DONE: readonly TaskState[] = ['FINISHED', 'FAILED', 'CANCELED'];
/** How an arm station reports a wrong item caught by its verification (scale or vision). */
const MISPICK = /^mispick\b/i;
/** Picks of one step, the first included, before a line is re-sourced instead. */
const MAX_REPICKS = 3;
/** VDA 5050 errors with which a vehicle refuses an order (§6.6). */
const REJECTIONS = new Set(['orderError', 'orderUpdateError', 'noRouteError', 'validationError']);

/**
 * A vehicle's last VDA state that was applied in full, and its task as it stood afterwards. The
 * same state again (a vehicle reports about once a second, mostly unchanged) against the same
 * task cannot change anything: every step below is idempotent for it.
 */
interface AppliedState {
  /** Everything of the state that applying it reads: order and update ids, action states, errors. */
  signature: string;
  taskId: string;
  task: TaskVersion;
  /** Tasks whose records applying the state read: the task, and the other lines of a batched trip. */
  reads: readonly string[];
  /**
   * The task has not been written since `task` was read (task writes followed, see
   * followTaskWrites): a repeat of the state is skipped without reading the task again.
   */
  unwritten: boolean;
}

/** The parts of a task that applying a state reads and other parts of the core may change. */
interface TaskVersion {
  state: TaskState;
  deviceId: string | undefined;
  updatedAt: number;
  updateId: number;
  applied: number;
}

export class TaskProgressService {
  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly lines: LineService,
    private readonly onTaskDone: () => void,
    private readonly exceptions: ExceptionService,
  ) {}

  /**
   * Vehicle orders that are not tasks (an operator's charge order, see device-commands.ts) end
   * by what the vehicle reports too: watchers see every state before task progress does.
   */
  private readonly vdaWatchers: ((deviceId: string, serialNumber: string, s: VdaState) => void)[] = [];

  watchVdaStates(watcher: (deviceId: string, serialNumber: string, s: VdaState) => void): void {
    this.vdaWatchers.push(watcher);
  }

  /** Per vehicle, the last state applied and what its task looked like then (see `AppliedState`). */
  private readonly lastApplied = new Map<string, AppliedState>();
  /** The same entries by task id, while unwritten; undefined when task writes are not followed. */
  private unwrittenByTask: Map<string, AppliedState> | undefined;

  /**
   * Learn of every task write (`subscribe` is the store's watchTaskWrites): a vehicle's repeated
   * state (most of them) is then skipped without the read by key that otherwise proves its task
   * unchanged.
   */
  followTaskWrites(subscribe: (watcher: (taskId: string) => void) => void): void {
    const byTask = new Map<string, AppliedState>();
    this.unwrittenByTask = byTask;
    subscribe((taskId) => {
      this.taskWrites++;
      const entry = byTask.get(taskId);
      if (entry === undefined) return;
      entry.unwritten = false;
      byTask.delete(taskId);
    });
  }

  /** Task writes seen so far (only counted when followed). */
  private taskWrites = 0;

  private remember(deviceId: string, entry: AppliedState): void {
    this.lastApplied.set(deviceId, entry);
    const byTask = this.unwrittenByTask;
    if (byTask === undefined) return;
    for (const id of entry.reads) {
      // Another vehicle's entry reading the same task (a task handed over) is no longer trusted alone.
      const other = byTask.get(id);
      if (other !== undefined) other.unwritten = false;
      byTask.set(id, entry);
    }
  }

  private forget(deviceId: string): void {
    const last = this.lastApplied.get(deviceId);
    if (last === undefined) return;
    this.lastApplied.delete(deviceId);
    const byTask = this.unwrittenByTask;
    if (byTask !== undefined) for (const id of last.reads) if (byTask.get(id) === last) byTask.delete(id);
  }

  /**
   * Called inside the transaction whenever a picking step (an AMR trip's drop, an arm's pick into
   * the order tote) finished: the order tote is at packing (pack-service.ts consolidates it).
   */
  private readonly packingWatchers: ((task: TaskRecord, after: AfterCommit) => void)[] = [];

  watchToteArrivals(watcher: (task: TaskRecord, after: AfterCommit) => void): void {
    this.packingWatchers.push(watcher);
  }

  onVdaState(deviceId: string, serialNumber: string, s: VdaState): void {
    for (const watch of this.vdaWatchers) watch(deviceId, serialNumber, s);
    const rejected = s.errors.find(
      (e) => REJECTIONS.has(e.errorType) && e.errorReferences?.some((r) => r.referenceKey === 'orderId'),
    );
    const orderId = rejected?.errorReferences?.find((r) => r.referenceKey === 'orderId')?.referenceValue ?? s.orderId;
    if (!orderId) return;
    // Nothing new since the last state applied, and nothing else touched the task since: the
    // transaction below would write nothing. One read by key is all it costs to be sure.
    const signature = stateSignature(s);
    const last = this.lastApplied.get(deviceId);
    if (last !== undefined && last.unwritten && last.signature === signature && last.taskId === String(orderId)) return;
    const task = this.ctx.store.getTask(String(orderId));
    // (A batched trip's entry is trusted only while unwritten: its members' versions are not kept.)
    if (last !== undefined && last.reads.length === 1 && last.signature === signature && task !== undefined && last.taskId === task.id && sameVersion(last.task, task)) return;
    this.forget(deviceId);
    if (!task || task.deviceId !== deviceId) return;
    const following = this.unwrittenByTask !== undefined;
    const writesBefore = this.taskWrites;
    this.applyVdaState(deviceId, serialNumber, s, String(orderId), rejected, task);
    const wroteNoTask = following && this.taskWrites === writesBefore;
    const picks = task.progress.trip?.picks ?? [];
    if (picks.length >= 2) {
      // Batched trips read their members' records too: the same state again is known to change
      // nothing only once applying it wrote no task (lead and members as they are now), and only
      // while writes to all of them are followed.
      if (wroteNoTask) this.remember(deviceId, { signature, taskId: task.id, task: versionOf(task), reads: [task.id, ...picks.map((p) => p.taskId).filter((id) => id !== task.id)], unwritten: true });
      return;
    }
    const after = wroteNoTask ? task : this.ctx.store.getTask(task.id);
    // A state that ended the task is applied once more: on an ended task it confirms the
    // command it echoes (which may not be the one confirmed while the task ran).
    if (after && after.deviceId === deviceId && DONE.includes(task.state) === DONE.includes(after.state)) {
      this.remember(deviceId, { signature, taskId: task.id, task: versionOf(after), reads: [task.id], unwritten: following });
    }
  }

  private applyVdaState(deviceId: string, serialNumber: string, s: VdaState, orderId: string, rejected: VdaState['errors'][number] | undefined, task: TaskRecord): void {
    if (DONE.includes(task.state)) {
      // The echo still confirms the command, or the outbox would re-send it forever (unsynced:
      // a confirmation lost in a power cut only means one more re-send, which devices ignore).
      this.ctx.store.txUnsynced(() => this.ctx.store.confirm(correlationOf.vda(serialNumber, task.id, s.orderUpdateId), this.ctx.clock.now()));
      // Lines that rode on the trip cannot be picked without it: they are tried again.
      const stranded = this.tripMembers(task, deviceId);
      if (stranded.length > 0) runInReportTransaction(this.ctx.store, (after) => stranded.forEach((m) => this.failTask(m, `the trip it rode on (${task.id}) ended ${task.state.toLowerCase()}`, after)));
      return;
    }
    runInReportTransaction(this.ctx.store, (after) => {
      const members = this.tripMembers(task, deviceId);
      if (rejected && orderId !== s.orderId) {
        this.ctx.store.confirm(correlationOf.vda(serialNumber, task.id, task.progress.updateId ?? 0), this.ctx.clock.now());
        const reason = `vehicle rejected the order: ${rejected.errorType}${rejected.errorDescription ? ` (${rejected.errorDescription})` : ''}`;
        for (const m of members) this.failTask(m, reason, after);
        this.failTask(task, reason, after);
        return;
      }
      if (s.orderUpdateId >= (task.progress.updateId ?? 0)) {
        this.ctx.store.confirm(correlationOf.vda(serialNumber, task.id, task.progress.updateId ?? 0), this.ctx.clock.now());
      }
      let current = this.markRunning(task, after);
      const byId = new Map(s.actionStates.map((a) => [a.actionId, a]));
      const pick = byId.get(actionIdOf.pick(task.id));
      const drop = byId.get(actionIdOf.drop(task.id));
      for (const m of members) this.onTripMember(m, byId, drop, after);
      if (pick?.actionStatus === 'FAILED' || drop?.actionStatus === 'FAILED') {
        const failed = pick?.actionStatus === 'FAILED' ? pick : drop;
        this.failTask(current, `${failed?.actionType ?? 'action'} failed${failed?.resultDescription ? `: ${failed.resultDescription}` : ''}`, after);
        return;
      }
      if (pick?.actionStatus === 'FINISHED') current = this.applyPick(current, pick.actionId, pickedQuantity(pick.resultDescription, current.plan.quantity), after);
      if (drop?.actionStatus === 'FINISHED' && current.progress.applied.includes(actionIdOf.pick(task.id))) {
        this.finishTask(current, after);
      }
    });
  }

  /** The other open tasks of a batched trip led by `lead` (its order carries their picks). */
  private tripMembers(lead: TaskRecord, deviceId: string): TaskRecord[] {
    const picks = lead.progress.trip?.picks ?? [];
    if (picks.length < 2) return [];
    return picks.flatMap((p) => {
      if (p.taskId === lead.id) return [];
      const t = this.ctx.store.getTask(p.taskId);
      return t && t.deviceId === deviceId && t.progress.tripOf === lead.id && !DONE.includes(t.state) ? [t] : [];
    });
  }

  /**
   * One line of a batched trip: its own pick action is applied as it finishes (stock and line
   * move at once), and it is done with the trip's one drop. A drop without its pick (a re-route
   * left its stop out) fails the line's task so it is tried again.
   */
  private onTripMember(member: TaskRecord, byId: ReadonlyMap<string, VdaState['actionStates'][number]>, drop: VdaState['actionStates'][number] | undefined, after: AfterCommit): void {
    let current = this.markRunning(member, after);
    const pick = byId.get(actionIdOf.pick(member.id));
    if (pick?.actionStatus === 'FAILED' || drop?.actionStatus === 'FAILED') {
      const failed = pick?.actionStatus === 'FAILED' ? pick : drop;
      this.failTask(current, `${failed?.actionType ?? 'action'} failed${failed?.resultDescription ? `: ${failed.resultDescription}` : ''}`, after);
      return;
    }
    if (pick?.actionStatus === 'FINISHED') current = this.applyPick(current, pick.actionId, pickedQuantity(pick.resultDescription, current.plan.quantity), after);
    if (drop?.actionStatus !== 'FINISHED') return;
    if (current.progress.applied.includes(actionIdOf.pick(member.id))) this.finishTask(current, after);
    else this.failTask(current, `the trip dropped its tote without picking ${member.lineId} (its stop was left out)`, after);
  }

  /** Job states of fixed equipment, to watchers first (station re-routing), then to task progress. */
  private readonly wcsWatchers: ((deviceId: string, s: WcsJobState) => void)[] = [];

  watchWcsJobStates(watcher: (deviceId: string, s: WcsJobState) => void): void {
    this.wcsWatchers.push(watcher);
  }

  onWcsJobState(deviceId: string, s: WcsJobState): void {
    for (const watch of this.wcsWatchers) watch(deviceId, s);
    const task = this.ctx.store.getTask(s.jobId);
    if (!task || task.deviceId !== deviceId) return;
    if (DONE.includes(task.state)) {
      this.ctx.store.txUnsynced(() => this.ctx.store.confirm(correlationOf.wcs(deviceId, task.id, s.jobUpdateId), this.ctx.clock.now()));
      return;
    }
    if (s.jobUpdateId < (task.progress.updateId ?? 0)) return;
    runInReportTransaction(this.ctx.store, (after) => {
      this.ctx.store.confirm(correlationOf.wcs(deviceId, task.id, s.jobUpdateId), this.ctx.clock.now());
      const action = s.actionStates.find((a) => a.actionId === actionIdOf.wcs(task.id));
      const fatal = s.errors.find((e) => e.errorLevel === 'FATAL' && e.errorReferences.some((r) => r.referenceValue === task.id));
      if (action?.actionStatus === 'FAILED' && task.kind === 'arm.pick' && MISPICK.test(action.resultDescription ?? '') && task.attempts + 1 < MAX_REPICKS) {
        this.repick(task, action.resultDescription ?? 'mispick', after);
        return;
      }
      if (action?.actionStatus === 'FAILED' || fatal) {
        this.failTask(task, action?.resultDescription ?? fatal?.errorDescription ?? fatal?.errorType ?? 'device reported failure', after);
        return;
      }
      if (!action || action.actionStatus === 'WAITING') return;
      let current = this.markRunning(task, after);
      if (action.actionStatus !== 'FINISHED') return;
      if (task.kind === 'arm.pick') current = this.applyPick(current, action.actionId, pickedQuantity(action.resultDescription, task.plan.quantity), after);
      this.finishTask(current, after);
    });
  }

  private markRunning(task: TaskRecord, after: AfterCommit): TaskRecord {
    if (task.state !== 'DISPATCHED') return task;
    const now = this.ctx.clock.now();
    const next: TaskRecord = { ...task, state: 'RUNNING', progress: { ...task.progress, acknowledged: true }, updatedAt: now };
    this.ctx.store.updateTask(task.id, { state: next.state, progress: next.progress, updatedAt: now });
    this.journal(task, 'task.running', {}, now);
    this.ctx.metrics.commandAckSeconds.observe({ family: task.deviceClass === 'amr' ? 'vda5050' : 'wcs' }, Math.max(0, now - task.updatedAt) / 1000);
    if (task.step === 0) {
      const line = this.ctx.store.getLine(task.lineId);
      if (line) this.lines.apply(line, { type: 'line.startPicking' }, after, { data: { taskId: task.id, deviceId: task.deviceId } });
    }
    after(() => this.notifyTask(next));
    return next;
  }

  private applyPick(task: TaskRecord, actionId: string, quantity: number, after: AfterCommit): TaskRecord {
    if (task.progress.applied.includes(actionId) || !isPickingStep(task.kind)) return task;
    // Fewer than planned: the location held less than the books said. The line is re-sourced
    // for the rest once this plan's last step (a bin's trip home) is done.
    const shortBy = Math.max(0, task.plan.quantity - quantity);
    const progress = { ...task.progress, applied: [...task.progress.applied, actionId], ...(shortBy > 0 ? { shortBy } : {}) };
    this.ctx.store.updateTask(task.id, { progress, updatedAt: this.ctx.clock.now() });
    const line = this.ctx.store.getLine(task.lineId);
    if (line) this.lines.recordPick(line, quantity, after, { taskId: task.id, deviceId: task.deviceId, actionId });
    return { ...task, progress };
  }

  private finishTask(task: TaskRecord, after: AfterCommit): void {
    const now = this.ctx.clock.now();
    this.ctx.store.updateTask(task.id, { state: 'FINISHED', updatedAt: now });
    this.journal(task, 'task.finished', {}, now);
    this.resourceShortfall(task, after);
    // After the shortfall check: a line re-sourced for its missing units is not at packing yet.
    if (isPickingStep(task.kind)) for (const watch of this.packingWatchers) watch(task, after);
    after(() => {
      // Only the task the vehicle holds frees it (not a line riding along on its trip).
      if (task.deviceId && task.deviceClass === 'amr' && task.progress.tripOf === undefined) this.registry.assign(task.deviceId, undefined);
      this.notifyTask({ ...task, state: 'FINISHED' });
      this.onTaskDone();
    });
  }

  /**
   * The station's verification caught a wrong item before it reached the order tote: nothing
   * was booked, the source tote is still at the station, so the same step is simply queued
   * again for the same arm (attempts counted on the task; after MAX_REPICKS the step fails and
   * the line is re-sourced like any failure).
   */
  private repick(task: TaskRecord, reason: string, after: AfterCommit): void {
    const now = this.ctx.clock.now();
    this.ctx.store.updateTask(task.id, { state: 'FAILED', progress: { ...task.progress, failure: reason }, updatedAt: now });
    this.journal(task, 'task.failed', { reason }, now);
    const again: TaskRecord = {
      ...task,
      id: `T-${String(this.ctx.store.nextId('task')).padStart(8, '0')}`,
      state: 'CREATED',
      progress: { applied: [] },
      attempts: task.attempts + 1,
      createdAt: now,
      updatedAt: now,
    };
    this.ctx.store.insertTask(again);
    this.journal(again, 'task.created', { retryOf: task.id, reason }, now);
    this.exceptions.raise(
      {
        type: 'mispick',
        status: 'handled',
        orderId: task.orderId,
        lineId: task.lineId,
        taskId: task.id,
        deviceId: task.deviceId,
        summary: `${task.deviceId ?? 'the arm'} picked the wrong item for ${task.lineId}; verification caught it`,
        detail: { sku: task.plan.sku, quantity: task.plan.quantity, report: reason, attempt: again.attempts },
        actions: ['nothing booked: the item went back to the source tote', `re-pick queued as ${again.id} (attempt ${again.attempts + 1} of ${MAX_REPICKS})`],
      },
      after,
    );
    after(() => {
      this.notifyTask({ ...task, state: 'FAILED' });
      this.onTaskDone();
    });
  }

  /**
   * When the last step of a line's plan is done and the line still has units to pick, the
   * device picked short: the rest is re-sourced (another location or site, else a backorder)
   * and the location's books corrected, with an exception record of both.
   */
  private resourceShortfall(finished: TaskRecord, after: AfterCommit): void {
    const plan = currentPlan(this.ctx.store.tasksOfLine(finished.lineId));
    if (!plan.some((t) => t.id === finished.id)) return;
    if (plan.some((t) => t.id !== finished.id && !DONE.includes(t.state))) return;
    const line = this.ctx.store.getLine(finished.lineId);
    if (!line || (line.state !== 'RELEASED' && line.state !== 'PICKING')) return;
    const missing = line.quantity - line.snapshot.context.picked;
    if (missing <= 0) return;
    const picker = plan.find((t) => isPickingStep(t.kind));
    const reported = plan.reduce((n, t) => n + (t.progress.shortBy ?? 0), 0);
    this.lines.fail(line, `short pick: ${picker?.deviceId ?? 'the device'} picked ${line.snapshot.context.picked} of ${line.quantity} at ${line.location ?? '?'}`, after, {
      taskId: picker?.id,
      deviceId: picker?.deviceId,
      shortBy: reported > 0 ? Math.min(reported, missing) : missing,
    });
  }

  /**
   * A failed step ends the line's current plan: later steps are canceled, the line re-sourced.
   * Also used by the execution watchdog for tasks whose device went silent or that timed out.
   */
  failTask(task: TaskRecord, reason: string, after: AfterCommit, cause: Pick<FailureCause, 'type'> & { actor?: string; state?: 'FAILED' | 'CANCELED' } = {}): void {
    const now = this.ctx.clock.now();
    const state = cause.state ?? 'FAILED';
    this.ctx.store.updateTask(task.id, { state, progress: { ...task.progress, failure: reason }, updatedAt: now });
    this.journal(task, state === 'FAILED' ? 'task.failed' : 'task.canceled', { reason }, now, cause.actor);
    // Later steps stop — but a bin out of storage still comes home, unless its trip home failed.
    const plan = currentPlan(this.ctx.store.tasksOfLine(task.lineId)).map((t) => (t.id === task.id ? { ...t, state: 'FAILED' as const } : t));
    for (const later of stepsToAbort(plan, !RETURN_KINDS.includes(task.kind))) {
      if (later.state !== 'CREATED') continue;
      this.ctx.store.updateTask(later.id, { state: 'CANCELED', updatedAt: now });
      this.journal(later, 'task.canceled', { reason: `step ${task.step} failed` }, now);
    }
    const line = this.ctx.store.getLine(task.lineId);
    if (line) this.lines.fail(line, reason, after, { taskId: task.id, deviceId: task.deviceId, type: cause.type });
    after(() => {
      if (task.deviceId && task.deviceClass === 'amr' && task.progress.tripOf === undefined) this.registry.assign(task.deviceId, undefined);
      this.notifyTask({ ...task, state });
      this.onTaskDone();
    });
  }

  private journal(task: TaskRecord, type: string, data: Record<string, unknown>, at: number, actor?: string): void {
    this.ctx.store.appendEvent({
      type,
      aggregateType: 'task',
      aggregateId: task.id,
      orderId: task.orderId,
      actor,
      at,
      data: { lineId: task.lineId, kind: task.kind, deviceId: task.deviceId ?? null, ...data },
    });
  }

  private notifyTask(task: TaskRecord): void {
    this.ctx.notifier.publish({
      type: 'task.updated',
      at: this.ctx.clock.now(),
      data: { id: task.id, state: task.state, deviceId: task.deviceId ?? null, lineId: task.lineId },
    });
  }
}

/** What applying a VDA state reads of it, as one comparable string (header and position left out). */
function stateSignature(s: VdaState): string {
  let sig = `${s.orderId}\u0000${s.orderUpdateId}`;
  for (const a of s.actionStates) sig += `\u0000a${a.actionId}\u0001${a.actionType ?? ''}\u0001${a.actionStatus}\u0001${a.resultDescription ?? ''}`;
  for (const e of s.errors) {
    sig += `\u0000e${e.errorType}\u0001${e.errorLevel}\u0001${e.errorDescription ?? ''}`;
    for (const r of e.errorReferences ?? []) sig += `\u0001${r.referenceKey}=${String(r.referenceValue)}`;
  }
  return sig;
}

function versionOf(t: TaskRecord): TaskVersion {
  return { state: t.state, deviceId: t.deviceId, updatedAt: t.updatedAt, updateId: t.progress.updateId ?? 0, applied: t.progress.applied.length };
}

function sameVersion(v: TaskVersion, t: TaskRecord): boolean {
  return v.state === t.state && v.deviceId === t.deviceId && v.updatedAt === t.updatedAt && v.updateId === (t.progress.updateId ?? 0) && v.applied === t.progress.applied.length;
}

/** Arms report `picked=<n>`; anything else means the planned quantity. */
function pickedQuantity(resultDescription: string | undefined, planned: number): number {
  const m = /picked=(\d+)/.exec(resultDescription ?? '');
  return m ? Math.min(planned, Number(m[1])) : planned;
}
