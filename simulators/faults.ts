/**
 * Seeded fault injection for the simulated devices. Off by default: a run switches it on with
 * per-class rates (mean time between faults and mean duration of each kind). Every device gets
 * its own random stream forked from the run seed and its id, and every fault kind its own
 * sub-stream, so the same seed gives the same faults and adding a device or a kind does not
 * move anyone else's.
 *
 * Kinds:
 * - `breakdown`: the device stops and reports a fault until repaired (all classes).
 * - `jam`: a tote jams the belt; everything on it stops until cleared (conveyors).
 * - `disconnect`: the device drops off the broker abruptly (its last will fires) and comes back
 *   later (all classes).
 * - `slowdown`: the device runs at `factor` of its speed for a while (worn drive, a slippery
 *   floor, a cautious arm after a near miss).
 *
 * Tests trigger the same faults explicitly with `device.injectFault({ kind, durationMs })`.
 */
import type { SimClock } from './clock.js';
import { lognormal } from './distributions.js';
import type { Rng } from './random.js';

export const FAULT_KINDS = ['breakdown', 'jam', 'disconnect', 'slowdown'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  /** How long until the device repairs, clears or reconnects by itself. */
  durationMs: number;
  /** `slowdown` only: the speed multiplier, in (0, 1]. */
  factor?: number;
}

export interface FaultRate {
  /** Mean operating hours between two faults of this kind (exponential gaps). */
  mtbfHours: number;
  /** Mean duration in minutes (lognormal, coefficient of variation `durationCv`). */
  meanMinutes: number;
  durationCv?: number;
  /** `slowdown` only; 0.5 by default. */
  factor?: number;
}

export type FaultRates = Partial<Record<FaultKind, FaultRate>>;
export type FaultDeviceClass = 'amr' | 'asrs' | 'conveyor' | 'arm';
/** Per device class; a class left out (or the whole config empty) gets no faults. */
export type FaultConfig = Partial<Record<FaultDeviceClass, FaultRates>>;

/** Which kinds make sense for which class; others are ignored if configured. */
export const FAULT_KINDS_BY_CLASS: Record<FaultDeviceClass, readonly FaultKind[]> = {
  amr: ['breakdown', 'disconnect', 'slowdown'],
  asrs: ['breakdown', 'disconnect', 'slowdown'],
  conveyor: ['breakdown', 'jam', 'disconnect', 'slowdown'],
  arm: ['breakdown', 'disconnect', 'slowdown'],
};

/** A moderate default profile for studies that want faults without tuning them. */
export const TYPICAL_FAULTS: FaultConfig = {
  amr: { breakdown: { mtbfHours: 40, meanMinutes: 15 }, disconnect: { mtbfHours: 20, meanMinutes: 0.5 }, slowdown: { mtbfHours: 10, meanMinutes: 10, factor: 0.6 } },
  asrs: { breakdown: { mtbfHours: 100, meanMinutes: 20 }, disconnect: { mtbfHours: 50, meanMinutes: 0.5 } },
  conveyor: { jam: { mtbfHours: 8, meanMinutes: 3 }, breakdown: { mtbfHours: 200, meanMinutes: 30 } },
  arm: { breakdown: { mtbfHours: 60, meanMinutes: 10 }, slowdown: { mtbfHours: 12, meanMinutes: 15, factor: 0.7 } },
};

export interface FaultEvent extends Fault {
  /** Clock time the fault starts. */
  at: number;
}

/** A device that can suffer faults. */
export interface Faultable {
  readonly faultKinds: readonly FaultKind[];
  injectFault(fault: Fault): void;
  /** Kinds currently in effect. */
  readonly activeFaults: readonly FaultKind[];
}

const HOUR_MS = 3_600_000;
const DEFAULT_CV = 0.5;

function checkRate(kind: FaultKind, r: FaultRate): void {
  if (!(r.mtbfHours > 0)) throw new RangeError(`fault ${kind}: mtbfHours must be positive`);
  if (!(r.meanMinutes > 0)) throw new RangeError(`fault ${kind}: meanMinutes must be positive`);
  if (r.factor !== undefined && !(r.factor > 0 && r.factor <= 1)) throw new RangeError(`fault ${kind}: factor must be in (0, 1]`);
}

/** One draw of a kind's stream: the gap before the fault (counted from the end of the previous one) and the fault. */
function draw(rng: Rng, kind: FaultKind, r: FaultRate): { gapMs: number; fault: Fault } {
  const gapMs = rng.exponential(r.mtbfHours * HOUR_MS);
  const durationMs = Math.max(1000, lognormal(rng, r.meanMinutes * 60_000, r.durationCv ?? DEFAULT_CV));
  const fault: Fault = { kind, durationMs: Math.round(durationMs) };
  if (kind === 'slowdown') fault.factor = r.factor ?? 0.5;
  return { gapMs: Math.round(gapMs), fault };
}

/**
 * The faults one device will see in [startMs, startMs + horizonMs), in time order. Pure: the
 * same stream and rates give the same list. Faults of one kind never overlap (the next gap
 * starts when the previous one is over); different kinds may.
 */
export function faultSchedule(rng: Rng, rates: FaultRates, startMs: number, horizonMs: number, kinds: readonly FaultKind[] = FAULT_KINDS): FaultEvent[] {
  const events: FaultEvent[] = [];
  for (const kind of FAULT_KINDS) {
    const r = rates[kind];
    if (r === undefined || !kinds.includes(kind)) continue;
    checkRate(kind, r);
    const stream = rng.fork(kind);
    let t = startMs;
    for (;;) {
      const { gapMs, fault } = draw(stream, kind, r);
      t += gapMs;
      if (t >= startMs + horizonMs) break;
      events.push({ ...fault, at: t });
      t += fault.durationMs;
    }
  }
  return events.sort((a, b) => a.at - b.at || FAULT_KINDS.indexOf(a.kind) - FAULT_KINDS.indexOf(b.kind));
}

/**
 * Drives a device's faults on its clock, drawing lazily (no horizon needed, nothing held in
 * memory but the next timer per kind). The draws are the ones `faultSchedule` returns for the
 * same stream. Returns a function that stops further faults.
 */
export function scheduleFaults(clock: SimClock, rng: Rng, rates: FaultRates, device: Faultable): () => void {
  const cancels: (() => void)[] = [];
  let stopped = false;
  for (const kind of FAULT_KINDS) {
    const r = rates[kind];
    if (r === undefined || !device.faultKinds.includes(kind)) continue;
    checkRate(kind, r);
    const stream = rng.fork(kind);
    const arm = (): void => {
      const { gapMs, fault } = draw(stream, kind, r);
      const i = cancels.length;
      cancels[i] = clock.setTimer(() => {
        if (stopped) return;
        device.injectFault(fault);
        cancels[i] = clock.setTimer(() => {
          if (!stopped) arm();
        }, fault.durationMs);
      }, gapMs);
    };
    arm();
  }
  return () => {
    stopped = true;
    for (const c of cancels) c();
  };
}

/**
 * Bookkeeping shared by the devices: which faults are in effect, the current speed factor,
 * and a timer per fault that ends it. `onChange` runs after every start and end so the device
 * can stop, resume and report.
 */
export class FaultState {
  private readonly active = new Map<FaultKind, { fault: Fault; cancel: () => void }>();
  private readonly listeners: ((kind: FaultKind, started: boolean) => void)[] = [];
  /** Faults injected so far, per kind (for reports and tests). */
  readonly counts: Record<FaultKind, number> = { breakdown: 0, jam: 0, disconnect: 0, slowdown: 0 };

  constructor(
    private readonly clock: SimClock,
    readonly kinds: readonly FaultKind[],
  ) {}

  onChange(listener: (kind: FaultKind, started: boolean) => void): void {
    this.listeners.push(listener);
  }

  get activeKinds(): FaultKind[] {
    return [...this.active.keys()];
  }

  has(kind: FaultKind): boolean {
    return this.active.has(kind);
  }

  /** True while a fault stops the device (breakdown or jam). */
  get stopped(): boolean {
    return this.active.has('breakdown') || this.active.has('jam');
  }

  /** Speed multiplier from an active slowdown; 1 otherwise. */
  get speedFactor(): number {
    return this.active.get('slowdown')?.fault.factor ?? 1;
  }

  /** Starts `fault` (a repeat of an active kind extends it); unsupported kinds are ignored. */
  inject(fault: Fault): void {
    if (!this.kinds.includes(fault.kind)) return;
    if (fault.kind === 'slowdown' && !(fault.factor !== undefined && fault.factor > 0 && fault.factor <= 1)) throw new RangeError('a slowdown needs a factor in (0, 1]');
    const previous = this.active.get(fault.kind);
    previous?.cancel();
    this.counts[fault.kind]++;
    const cancel = Number.isFinite(fault.durationMs) ? this.clock.setTimer(() => this.end(fault.kind), Math.max(0, fault.durationMs)) : () => undefined;
    this.active.set(fault.kind, { fault, cancel });
    if (previous === undefined) for (const l of this.listeners) l(fault.kind, true);
  }

  /** Ends a fault early (an operator clears a jam); no-op when it is not active. */
  end(kind: FaultKind): void {
    const entry = this.active.get(kind);
    if (entry === undefined) return;
    entry.cancel();
    this.active.delete(kind);
    for (const l of this.listeners) l(kind, false);
  }

  /** Cancels every timer (device stopping). */
  dispose(): void {
    for (const { cancel } of this.active.values()) cancel();
    this.active.clear();
  }
}
