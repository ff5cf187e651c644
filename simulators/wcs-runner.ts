/**
 * Executes the actions of wcs/v1 jobs for a simulated device: takes each accepted job's
 * actions in arrival order, reports WAITING -> INITIALIZING -> RUNNING -> FINISHED | FAILED
 * through the WcsDevice, and supports the `startPause`/`stopPause` instant actions (a running
 * action freezes and later continues with the time it had left) and `cancelJob` {jobId} (the
 * job's queued actions are dropped, a running one stops where it is; each is reported FAILED
 * with resultDescription `canceled`).
 *
 * A serial runner models one machine (an AS/RS crane, an arm); a parallel one a belt that
 * carries many loads at once. An action is either timed (a duration, optionally a gate it must
 * pass, such as a free slot on a port, and a tail after it) or driven by the device itself (the
 * conveyor moves totes through its own belt model and says when one has arrived).
 *
 * Faults: `halt(reason)` stops motion without a pause command (a jam, a breakdown; several may
 * hold at once), `setSpeedFactor` stretches what is left of every timed action (a slowdown).
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SimClock } from './clock.js';

export interface TimedPlan {
  /** Simulated duration at full speed. */
  durationMs: number;
  /**
   * After `durationMs`: wait until `proceed` is called (e.g. the port has room for the bin).
   * The action stays RUNNING and the device counts the wait as blocked. Returns a cancel.
   */
  gate?(proceed: () => void): () => void;
  /** Runs after the gate opened (e.g. setting the bin down on the port). */
  tailMs?: number;
  /** Result text reported with FINISHED. */
  result?: string;
  /**
   * The action takes its time and then fails with this result (e.g. verification caught a
   * mispick after the arm moved); `onDone` is not called.
   */
  failure?: string;
  /** Called when the action completes, before FINISHED is published. */
  onDone?(): void;
}

export interface DrivenPlan {
  /**
   * The device runs the action by itself and calls `finish` when it is done. Returns an abort
   * (cancelJob, stop). The device stops and restarts it on `onFrozen`.
   */
  drive(finish: (result?: string) => void): () => void;
  /**
   * A job update changed the running action's parameters: apply them, or say why not (the
   * device then reports a `jobUpdateError` and goes on as before). Without it, updates of a
   * running action are refused the same way.
   */
  update?(action: WcsAction): string | undefined;
}

export type ActionPlan = TimedPlan | DrivenPlan;

/** A plan, or the reason the action cannot run (reported as FAILED). */
export type Planner = (jobId: string, action: WcsAction) => ActionPlan | { failed: string };

type Phase = 'timed' | 'gate' | 'tail' | 'driven';

interface Running {
  jobId: string;
  action: WcsAction;
  plan: ActionPlan;
  phase: Phase;
  /** Full-speed milliseconds still to go in the current timed phase, as of `since`. */
  left: number;
  since: number;
  /** Total full-speed milliseconds of the timed phases, for progress. */
  total: number;
  /** A gate opened while the runner was frozen: continue with the tail on thaw. */
  gateOpened?: boolean;
  cancel?: () => void;
}

/** Result text of an action stopped by `cancelJob`. */
export const CANCELED_RESULT = 'canceled';
/** Cancels of jobs not seen yet are remembered (bounded) so a late-arriving job does not run. */
const EARLY_CANCELS_KEPT = 100;

const isDriven = (p: ActionPlan): p is DrivenPlan => 'drive' in p;

export class WcsActionRunner {
  private readonly queue: { jobId: string; action: WcsAction }[] = [];
  private readonly running = new Set<Running>();
  private readonly earlyCancels = new Set<string>();
  private readonly halts = new Set<string>();
  private readonly changeListeners: (() => void)[] = [];
  private readonly frozenListeners: ((frozen: boolean) => void)[] = [];
  private paused = false;
  private stopped = false;
  private speed = 1;
  completed = 0;
  failed = 0;
  canceled = 0;

  constructor(
    private readonly device: WcsDevice,
    private readonly clock: SimClock,
    private readonly mode: 'serial' | 'parallel',
    private readonly planner: Planner,
  ) {
    device.onJob((job, isUpdate) => {
      if (this.earlyCancels.delete(job.jobId)) {
        for (const action of job.actions) this.cancelAction(job.jobId, action.actionId);
        return;
      }
      if (isUpdate) for (const action of job.actions) this.applyUpdate(job.jobId, job.jobUpdateId, action);
      const queued = new Set(this.queue.map((q) => `${q.jobId}\n${q.action.actionId}`));
      for (const r of this.running) queued.add(`${r.jobId}\n${r.action.actionId}`);
      const state = device.jobState(job.jobId);
      for (const action of job.actions) {
        const status = state?.actionStates.find((a) => a.actionId === action.actionId)?.actionStatus;
        if (status === 'WAITING' && !queued.has(`${job.jobId}\n${action.actionId}`)) this.queue.push({ jobId: job.jobId, action });
      }
      this.pump();
      this.changed();
    });
    device.onInstantActions((msg) => {
      for (const a of msg.actions) {
        if (a.actionType === 'startPause') this.pause();
        else if (a.actionType === 'stopPause') this.resume();
        else if (a.actionType === 'cancelJob') {
          const jobId = a.actionParameters.find((p) => p.key === 'jobId')?.value;
          if (jobId !== undefined) this.cancelJob(jobId);
        }
      }
    });
  }

  get queueLength(): number {
    return this.queue.length;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Halted by a fault (jam, breakdown), as opposed to paused by command. */
  get isHalted(): boolean {
    return this.halts.size > 0;
  }

  /** Paused or halted: nothing moves. */
  get isFrozen(): boolean {
    return this.paused || this.halts.size > 0;
  }

  get speedFactor(): number {
    return this.speed;
  }

  /** Running actions that wait at their gate (the machine is blocked, not working). */
  get gatedCount(): number {
    let n = 0;
    for (const r of this.running) if (r.phase === 'gate') n++;
    return n;
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Actions in progress with their progress in [0, 1] (timed ones; driven ones report 0). */
  get inProgress(): { jobId: string; action: WcsAction; progress: number }[] {
    return [...this.running].map((r) => ({ jobId: r.jobId, action: r.action, progress: this.progressOf(r) }));
  }

  /** Called after anything that may change what the device is doing (for its utilization meter). */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Called when motion stops (pause or fault) or starts again; driven plans stop with it. */
  onFrozen(listener: (frozen: boolean) => void): void {
    this.frozenListeners.push(listener);
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.running) r.cancel?.();
    this.running.clear();
  }

  /**
   * Drops the job's queued actions and stops its running ones where they are (no `onDone`: the
   * action's effect did not happen). Each is reported FAILED `canceled`. Finished actions stay
   * finished; a job this device has not seen yet is failed as soon as it arrives.
   */
  cancelJob(jobId: string): void {
    const state = this.device.jobState(jobId);
    if (state === undefined) {
      this.earlyCancels.add(jobId);
      if (this.earlyCancels.size > EARLY_CANCELS_KEPT) this.earlyCancels.delete(this.earlyCancels.values().next().value as string);
      return;
    }
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]?.jobId === jobId) this.queue.splice(i, 1);
    for (const r of [...this.running]) {
      if (r.jobId !== jobId) continue;
      r.cancel?.();
      this.running.delete(r);
    }
    for (const a of state.actionStates) {
      if (a.actionStatus !== 'FINISHED' && a.actionStatus !== 'FAILED') this.cancelAction(jobId, a.actionId);
    }
    this.pump();
    this.changed();
  }

  /**
   * A fault that stops the device's motion (a jam, an e-stop, a breakdown) without it being
   * paused by command: actions in progress freeze where they are and continue once every halt
   * is lifted with `restart(reason)`.
   */
  halt(reason = 'jam'): void {
    if (this.halts.has(reason)) return;
    const wasFrozen = this.isFrozen;
    this.halts.add(reason);
    if (!wasFrozen) this.freeze();
    this.changed();
  }

  restart(reason = 'jam'): void {
    if (!this.halts.delete(reason)) return;
    if (!this.isFrozen) this.thaw();
    this.changed();
  }

  /** Runs at `factor` of full speed from now on; what is left of each timed action stretches. */
  setSpeedFactor(factor: number): void {
    if (!(factor > 0)) throw new RangeError('speed factor must be positive');
    if (factor === this.speed) return;
    if (!this.isFrozen) {
      const now = this.clock.now();
      for (const r of this.running) {
        if (r.phase !== 'timed' && r.phase !== 'tail') continue;
        r.cancel?.();
        r.left = Math.max(0, r.left - (now - r.since) * this.speed);
        r.since = now;
      }
      this.speed = factor;
      for (const r of this.running) if (r.phase === 'timed' || r.phase === 'tail') this.armTimer(r);
    } else {
      this.speed = factor;
    }
    this.changed();
  }

  /**
   * An accepted job update: a queued action runs with the new parameters; a running one only if
   * its plan can take them (a conveyor re-routing a tote), else the device says why.
   */
  private applyUpdate(jobId: string, jobUpdateId: number, action: WcsAction): void {
    const queued = this.queue.find((q) => q.jobId === jobId && q.action.actionId === action.actionId);
    if (queued !== undefined) {
      queued.action = action;
      return;
    }
    const running = [...this.running].find((r) => r.jobId === jobId && r.action.actionId === action.actionId);
    if (running === undefined || sameParameters(running.action, action)) return;
    const refusal = isDriven(running.plan) && running.plan.update ? running.plan.update(action) : 'the running action cannot change';
    if (refusal === undefined) {
      running.action = action;
      return;
    }
    this.device
      .reportError(jobId, {
        errorType: 'jobUpdateError',
        errorLevel: 'WARNING',
        errorDescription: `update ${jobUpdateId} not applied to ${action.actionId}: ${refusal}`,
        errorReferences: [
          { referenceKey: 'jobId', referenceValue: jobId },
          { referenceKey: 'jobUpdateId', referenceValue: String(jobUpdateId) },
          { referenceKey: 'actionId', referenceValue: action.actionId },
        ],
      })
      .catch(() => undefined);
  }

  private cancelAction(jobId: string, actionId: string): void {
    this.canceled++;
    this.report(jobId, actionId, 'FAILED', CANCELED_RESULT);
  }

  private pump(): void {
    while (!this.stopped && !this.isFrozen && this.queue.length > 0 && (this.mode === 'parallel' || this.running.size === 0)) {
      const next = this.queue.shift();
      if (next !== undefined) this.start(next.jobId, next.action);
    }
  }

  private start(jobId: string, action: WcsAction): void {
    // Planned at start, not at arrival: the machine's position then is what counts.
    const plan = this.planner(jobId, action);
    if ('failed' in plan) {
      this.failed++;
      this.report(jobId, action.actionId, 'FAILED', plan.failed);
      return;
    }
    const now = this.clock.now();
    const timed = isDriven(plan) ? 0 : plan.durationMs + (plan.tailMs ?? 0);
    const r: Running = { jobId, action, plan, phase: isDriven(plan) ? 'driven' : 'timed', left: isDriven(plan) ? 0 : plan.durationMs, since: now, total: timed };
    this.running.add(r);
    this.report(jobId, action.actionId, 'INITIALIZING');
    this.report(jobId, action.actionId, 'RUNNING');
    if (isDriven(plan)) r.cancel = plan.drive((result) => this.finish(r, result));
    else this.armTimer(r);
  }

  private armTimer(r: Running): void {
    r.since = this.clock.now();
    r.cancel = this.clock.setTimer(() => this.phaseDone(r), r.left / this.speed);
  }

  private phaseDone(r: Running): void {
    if (!this.running.has(r) || isDriven(r.plan)) return;
    const plan = r.plan;
    if (r.phase === 'timed' && plan.gate !== undefined) {
      r.phase = 'gate';
      r.left = 0;
      let opened = false;
      const cancelGate = plan.gate(() => {
        if (opened || !this.running.has(r)) return;
        opened = true;
        this.afterGate(r);
      });
      if (!opened) r.cancel = cancelGate;
      this.changed();
      return;
    }
    if (r.phase === 'timed' && (plan.tailMs ?? 0) > 0) return this.startTail(r);
    this.finish(r, plan.result);
  }

  private afterGate(r: Running): void {
    if (this.isFrozen) {
      r.gateOpened = true;
      return;
    }
    this.startTail(r);
    this.changed();
  }

  private startTail(r: Running): void {
    const plan = r.plan as TimedPlan;
    r.phase = 'tail';
    r.left = plan.tailMs ?? 0;
    this.armTimer(r);
  }

  private finish(r: Running, result: string | undefined): void {
    if (!this.running.delete(r)) return;
    const failure = isDriven(r.plan) ? undefined : r.plan.failure;
    if (failure !== undefined) {
      this.failed++;
      this.report(r.jobId, r.action.actionId, 'FAILED', failure);
    } else {
      if (!isDriven(r.plan)) r.plan.onDone?.();
      this.completed++;
      this.report(r.jobId, r.action.actionId, 'FINISHED', result);
    }
    this.pump();
    this.changed();
  }

  private pause(): void {
    if (this.paused) return;
    const wasFrozen = this.isFrozen;
    this.paused = true;
    if (!wasFrozen) this.freeze();
    void this.device.setPaused(true).catch(() => undefined);
    this.changed();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    void this.device.setPaused(false).catch(() => undefined);
    if (!this.isFrozen) this.thaw();
    this.changed();
  }

  private freeze(): void {
    const now = this.clock.now();
    for (const r of this.running) {
      if (r.phase === 'timed' || r.phase === 'tail') {
        r.cancel?.();
        r.left = Math.max(0, r.left - (now - r.since) * this.speed);
        r.since = now;
      }
      this.report(r.jobId, r.action.actionId, 'PAUSED');
    }
    for (const l of this.frozenListeners) l(true);
  }

  private thaw(): void {
    for (const r of this.running) {
      this.report(r.jobId, r.action.actionId, 'RUNNING');
      if (r.phase === 'timed' || r.phase === 'tail') this.armTimer(r);
      else if (r.phase === 'gate' && r.gateOpened === true) {
        delete r.gateOpened;
        this.startTail(r);
      }
    }
    for (const l of this.frozenListeners) l(false);
    this.pump();
  }

  private progressOf(r: Running): number {
    if (r.total <= 0) return r.phase === 'driven' ? 0 : 1;
    const plan = r.plan as TimedPlan;
    const moving = !this.isFrozen && (r.phase === 'timed' || r.phase === 'tail');
    const left = Math.max(0, r.left - (moving ? (this.clock.now() - r.since) * this.speed : 0));
    const done = r.phase === 'timed' ? plan.durationMs - left : r.phase === 'gate' ? plan.durationMs : plan.durationMs + (plan.tailMs ?? 0) - left;
    return Math.min(1, Math.max(0, done / r.total));
  }

  private changed(): void {
    for (const l of this.changeListeners) l();
  }

  private report(jobId: string, actionId: string, status: 'INITIALIZING' | 'RUNNING' | 'PAUSED' | 'FINISHED' | 'FAILED', result?: string): void {
    // Publish failures are counted by the device; its state is re-sent on reconnect.
    this.device.setActionStatus(jobId, actionId, status, result).catch(() => undefined);
  }
}

/** The string value of an action parameter. */
export function param(action: WcsAction, key: string): string | undefined {
  return action.actionParameters.find((p) => p.key === key)?.value;
}

/** Supported instant actions every simulated wcs device declares in its factsheet. */
export const PAUSE_ACTIONS = [
  { actionType: 'startPause', parameterKeys: [], description: 'instant: freeze running actions' },
  { actionType: 'stopPause', parameterKeys: [], description: 'instant: continue' },
  { actionType: 'cancelJob', parameterKeys: ['jobId'], description: 'instant: drop or stop the actions of a job (reported FAILED canceled)' },
];

/** Publishes telemetry every `periodMs` until the returned function is called. */
export function every(clock: SimClock, periodMs: number, fn: () => void): () => void {
  let cancel: (() => void) | undefined;
  let stopped = false;
  const loop = (): void => {
    if (stopped) return;
    fn();
    cancel = clock.setTimer(loop, periodMs);
  };
  cancel = clock.setTimer(loop, periodMs);
  return () => {
    stopped = true;
    cancel?.();
  };
}

function sameParameters(a: WcsAction, b: WcsAction): boolean {
  const key = (x: WcsAction): string => JSON.stringify([...x.actionParameters].sort((p, q) => (p.key < q.key ? -1 : p.key > q.key ? 1 : 0)));
  return a.actionType === b.actionType && key(a) === key(b);
}
