/**
 * Where a simulated device's time went: busy, idle, charging, blocked, or down with a fault.
 * Each device keeps one meter and exposes `utilization()`, which the simulation runner reads
 * for its KPIs (snapshot at the end of the warm-up, subtract from the snapshot at the end).
 * The meter reads the device's SimClock, so it works the same in virtual and real time.
 */
import type { SimClock } from './clock.js';

export const UTILIZATION_STATES = ['busy', 'idle', 'charging', 'blocked', 'fault'] as const;
export type UtilizationState = (typeof UTILIZATION_STATES)[number];

/** Milliseconds spent in each state since the device started; the five add up to its age. */
export interface Utilization {
  busyMs: number;
  idleMs: number;
  chargingMs: number;
  /** Waiting for something outside itself: an occupied node, more released path, a full port or belt. */
  blockedMs: number;
  /** Broken down, jammed or disconnected by an injected fault. */
  faultMs: number;
}

/** What every simulated device offers the runner. */
export interface HasUtilization {
  utilization(): Utilization;
}

export class UtilizationMeter {
  private state: UtilizationState;
  private since: number;
  private readonly totals: Record<UtilizationState, number> = { busy: 0, idle: 0, charging: 0, blocked: 0, fault: 0 };

  constructor(
    private readonly clock: Pick<SimClock, 'now'>,
    initial: UtilizationState = 'idle',
  ) {
    this.state = initial;
    this.since = clock.now();
  }

  get current(): UtilizationState {
    return this.state;
  }

  /** Books the time since the last change to the old state and switches to `state`. */
  set(state: UtilizationState): void {
    if (state === this.state) return;
    this.book();
    this.state = state;
  }

  snapshot(): Utilization {
    this.book();
    const t = this.totals;
    return { busyMs: t.busy, idleMs: t.idle, chargingMs: t.charging, blockedMs: t.blocked, faultMs: t.fault };
  }

  private book(): void {
    const now = this.clock.now();
    this.totals[this.state] += Math.max(0, now - this.since);
    this.since = now;
  }
}

/** The difference of two snapshots: what happened between them (e.g. after the warm-up). */
export function utilizationBetween(before: Utilization, after: Utilization): Utilization {
  return {
    busyMs: after.busyMs - before.busyMs,
    idleMs: after.idleMs - before.idleMs,
    chargingMs: after.chargingMs - before.chargingMs,
    blockedMs: after.blockedMs - before.blockedMs,
    faultMs: after.faultMs - before.faultMs,
  };
}
