/**
 * Order arrivals as a non-homogeneous Poisson process: a base rate shaped by 24 hourly
 * multipliers (the day's curve: quiet night, lunch peak, evening peak). Sampled by thinning
 * (Lewis and Shedler): candidates at the peak rate, each kept with probability rate(t) / peak.
 * The process owns its random stream, so nothing else in a run can shift the arrivals.
 */
import { createRng } from '../random.js';

export interface ArrivalOptions {
  /** Orders per hour at multiplier 1. */
  ratePerHour: number;
  /** 24 multipliers, hour 0..23 of the day; absent: 1 all day (a homogeneous process). */
  hourlyProfile?: readonly number[];
  /** Hour of day the run starts at (0..24, fractional allowed); default 0. */
  startHour?: number;
  seed: number;
}

export interface ArrivalProcess {
  /** Seconds since the run start of the next arrival; Infinity when the rate is zero all day. */
  next(): number;
  /** Orders per hour in force at `t` seconds since the start. */
  rateAt(t: number): number;
  /** Expected arrivals in [from, to) seconds: the integral of the rate. */
  expected(from: number, to: number): number;
}

/** A typical B2C web-shop day: low at night, a lunch bump and the evening peak (mean 1). */
export const ECOMMERCE_DAY: readonly number[] = normalize([
  0.35, 0.2, 0.12, 0.1, 0.1, 0.15, 0.35, 0.65, 0.9, 1.05, 1.15, 1.25, 1.3, 1.25, 1.2, 1.2, 1.25, 1.35, 1.5, 1.7, 1.8, 1.6, 1.15, 0.7,
]);

function normalize(profile: number[]): number[] {
  const mean = profile.reduce((a, b) => a + b, 0) / profile.length;
  return profile.map((p) => Math.round((p / mean) * 1000) / 1000);
}

export function createArrivalProcess(opts: ArrivalOptions): ArrivalProcess {
  const profile = opts.hourlyProfile ?? Array.from({ length: 24 }, () => 1);
  if (profile.length !== 24) throw new RangeError(`hourlyProfile needs 24 multipliers, got ${profile.length}`);
  if (profile.some((m) => !(m >= 0))) throw new RangeError('hourlyProfile multipliers must be >= 0');
  if (!(opts.ratePerHour >= 0)) throw new RangeError('ratePerHour must be >= 0');
  const startHour = opts.startHour ?? 0;
  const rng = createRng(opts.seed).fork('arrivals');
  const peak = opts.ratePerHour * Math.max(...profile);
  const rateAt = (t: number): number => {
    const hour = Math.floor(startHour + t / 3600) % 24;
    return opts.ratePerHour * (profile[hour] ?? 0);
  };
  let t = 0;
  return {
    rateAt,
    next() {
      if (peak <= 0) return Infinity;
      for (;;) {
        t += rng.exponential(3600 / peak);
        if (rng.next() * peak < rateAt(t)) return t;
      }
    },
    expected(from, to) {
      // Piecewise constant per hour of day: sum the pieces.
      let total = 0;
      let a = from;
      while (a < to) {
        const hourEnd = (Math.floor(startHour + a / 3600) + 1 - startHour) * 3600;
        // max(): float rounding must never stall the walk at an hour boundary.
        const b = Math.min(to, Math.max(hourEnd, a + 1e-6));
        total += (rateAt(a) * (b - a)) / 3600;
        a = b;
      }
      return total;
    },
  };
}
