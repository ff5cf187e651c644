/**
 * The time source of the simulated devices. Live runs use the wall clock; discrete-event runs
 * and tests use a virtual clock, so devices never call Date.now() or setTimeout directly.
 */
export interface SimClock {
  /** Milliseconds since the epoch (or since the start of a virtual run). */
  now(): number;
  /** Runs `fn` after `ms` milliseconds of this clock's time; the result cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The wall clock. `now` may be overridden (e.g. a scaled clock) while timers stay real. */
export function realClock(now: () => number = Date.now): SimClock {
  return {
    now,
    setTimer: (fn, ms) => {
      const t = setTimeout(fn, Math.max(0, ms));
      return () => clearTimeout(t);
    },
  };
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A virtual clock advanced explicitly. Timers due at the same instant fire in the order they
 * were set, which keeps runs deterministic.
 */
export class ManualClock implements SimClock {
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const entry: Pending = { at: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.pending.push(entry);
    return () => {
      this.pending = this.pending.filter((p) => p !== entry);
    };
  }

  /** Advances time by `ms`, firing every timer that falls due (including ones set meanwhile). */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (next === undefined) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.current = next.at;
      next.fn();
    }
    this.current = end;
  }

  /** Number of timers not yet fired. */
  get size(): number {
    return this.pending.length;
  }

  private nextDue(end: number): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.pending) {
      if (p.at > end) continue;
      if (best === undefined || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    }
    return best;
  }
}

/**
 * The wall clock sped up by `factor` (e.g. 10: ten simulated seconds per real second), for
 * live demos and tests that should not wait in real time. Time starts at the real now.
 */
export function scaledClock(factor: number, base: () => number = Date.now): SimClock {
  if (!(factor > 0)) throw new RangeError('scale factor must be positive');
  const realStart = base();
  return {
    now: () => realStart + (base() - realStart) * factor,
    setTimer: (fn, ms) => {
      const t = setTimeout(fn, Math.max(0, ms / factor));
      return () => clearTimeout(t);
    },
  };
}
