/**
 * Executes the actions of wcs/v1 jobs for a simulated device: takes each accepted job's
 * actions in arrival order, reports WAITING -> INITIALIZING -> RUNNING -> FINISHED | FAILED
 * through the WcsDevice, and supports the `startPause`/`stopPause` instant actions (a running
 * action freezes and later continues with the time it had left) and `cancelJob` {jobId} (the
 * job's queued actions are dropped, a running one stops where it is; each is reported FAILED
 * with resultDescription `canceled`).
 *
 * A serial runner models one machine (an AS/RS shuttle, an arm); a parallel one a belt that
 * carries many loads at once.
 */
import type { WcsDevice } from '../devices/index.js';
import type { WcsAction } from '../protocols/index.js';
import type { SimClock } from './clock.js';

export interface ActionPlan {
  /** Simulated duration of the action. */
  durationMs: number;
  /** Result text reported with FINISHED. */
  result?: string;
  /** Called when the action completes, before FINISHED is published. */
  onDone?(): void;
}

/** A plan, or the reason the action cannot run (reported as FAILED). */
export type Planner = (jobId: string, action: WcsAction) => ActionPlan | { failed: string };

interface Running {
  jobId: string;
  action: WcsAction;
  plan: ActionPlan;
  startedAt: number;
  endsAt: number;
  /** Set while paused: milliseconds still to go. */
  left?: number;
  cancel?: () => void;
}

/** Result text of an action stopped by `cancelJob`. */
export const CANCELED_RESULT = 'canceled';
/** Cancels of jobs not seen yet are remembered (bounded) so a late-arriving job does not run. */
const EARLY_CANCELS_KEPT = 100;

export class WcsActionRunner {
  private readonly queue: { jobId: string; action: WcsAction }[] = [];
  private readonly running = new Set<Running>();
  private readonly earlyCancels = new Set<string>();
  private paused = false;
  private halted = false;
  private stopped = false;
  completed = 0;
  failed = 0;
  canceled = 0;

  constructor(
    private readonly device: WcsDevice,
    private readonly clock: SimClock,
    private readonly mode: 'serial' | 'parallel',
    private readonly planner: Planner,
  ) {
    device.onJob((job) => {
      if (this.earlyCancels.delete(job.jobId)) {
        for (const action of job.actions) this.cancelAction(job.jobId, action.actionId);
        return;
      }
      const queued = new Set(this.queue.map((q) => `${q.jobId}\n${q.action.actionId}`));
      for (const r of this.running) queued.add(`${r.jobId}\n${r.action.actionId}`);
      const state = device.jobState(job.jobId);
      for (const action of job.actions) {
        const status = state?.actionStates.find((a) => a.actionId === action.actionId)?.actionStatus;
        if (status === 'WAITING' && !queued.has(`${job.jobId}\n${action.actionId}`)) this.queue.push({ jobId: job.jobId, action });
      }
      this.pump();
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

  /** Actions in progress with their progress in [0, 1]. */
  get inProgress(): { jobId: string; action: WcsAction; progress: number }[] {
    const now = this.clock.now();
    return [...this.running].map((r) => {
      const total = r.endsAt - r.startedAt;
      const left = r.left ?? Math.max(0, r.endsAt - now);
      return { jobId: r.jobId, action: r.action, progress: total <= 0 ? 1 : 1 - left / total };
    });
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
  }

  private cancelAction(jobId: string, actionId: string): void {
    this.canceled++;
    this.report(jobId, actionId, 'FAILED', CANCELED_RESULT);
  }

  private pump(): void {
    while (!this.stopped && !this.paused && !this.halted && this.queue.length > 0 && (this.mode === 'parallel' || this.running.size === 0)) {
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
    const r: Running = { jobId, action, plan, startedAt: now, endsAt: now + plan.durationMs };
    this.running.add(r);
    this.report(jobId, action.actionId, 'INITIALIZING');
    this.report(jobId, action.actionId, 'RUNNING');
    r.cancel = this.clock.setTimer(() => this.finish(r), plan.durationMs);
  }

  private finish(r: Running): void {
    this.running.delete(r);
    r.plan.onDone?.();
    this.completed++;
    this.report(r.jobId, r.action.actionId, 'FINISHED', r.plan.result);
    this.pump();
  }

  /**
   * A fault that stops the device's motion (a jam, an e-stop) without it being paused by
   * command: actions in progress freeze where they are and continue on `restart()`.
   */
  halt(): void {
    if (this.halted) return;
    this.halted = true;
    if (!this.paused) this.freeze();
  }

  restart(): void {
    if (!this.halted) return;
    this.halted = false;
    if (!this.paused) this.thaw();
  }

  get isHalted(): boolean {
    return this.halted;
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (!this.halted) this.freeze();
    void this.device.setPaused(true).catch(() => undefined);
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    void this.device.setPaused(false).catch(() => undefined);
    if (!this.halted) this.thaw();
  }

  private freeze(): void {
    const now = this.clock.now();
    for (const r of this.running) {
      r.cancel?.();
      r.left = Math.max(0, r.endsAt - now);
      this.report(r.jobId, r.action.actionId, 'PAUSED');
    }
  }

  private thaw(): void {
    const now = this.clock.now();
    for (const r of this.running) {
      const left = r.left ?? 0;
      delete r.left;
      r.endsAt = now + left;
      r.startedAt = r.endsAt - r.plan.durationMs;
      this.report(r.jobId, r.action.actionId, 'RUNNING');
      r.cancel = this.clock.setTimer(() => this.finish(r), left);
    }
    this.pump();
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
