/**
 * The statistics a simulation report needs: means with 95 % confidence intervals across
 * independent replications (Student t, since a study has a handful of replications, not
 * hundreds), percentiles, and the congestion knee of a throughput-vs-robots curve.
 */
import type { Estimate } from './types.js';

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Sample standard deviation (n - 1 in the denominator); 0 for fewer than two values. */
export function sampleStdDev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/** Two-sided 95 % quantiles t(0.975, df) for df = 1..30. */
const T975 = [
  12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.13145,
  2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.04523, 2.042272,
];

/**
 * t(0.975, df): exact table up to 30 degrees of freedom, beyond that the Cornish-Fisher
 * expansion around the normal quantile (error below 1e-5 for df > 30).
 */
export function tQuantile975(df: number): number {
  if (!(df >= 1)) throw new RangeError('degrees of freedom must be >= 1');
  const d = Math.floor(df);
  if (d <= 30) return T975[d - 1] as number;
  const z = 1.959963985;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return z + (z3 + z) / (4 * d) + (5 * z5 + 16 * z3 + 3 * z) / (96 * d * d) + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d * d * d);
}

/**
 * Mean and 95 % confidence half-width over replications: t(0.975, n-1) x s / sqrt(n). One
 * replication gives no interval (half-width 0, n 1); none gives NaN with n 0. Non-finite values
 * (a KPI a replication could not measure) are left out.
 */
export function estimate(values: readonly number[]): Estimate {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return { mean: NaN, halfWidth95: NaN, n: 0 };
  if (xs.length === 1) return { mean: xs[0] as number, halfWidth95: 0, n: 1 };
  return { mean: mean(xs), halfWidth95: (tQuantile975(xs.length - 1) * sampleStdDev(xs)) / Math.sqrt(xs.length), n: xs.length };
}

/** Percentile p (0..100) with linear interpolation between order statistics (type 7, as numpy and R). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const xs = [...values].sort((a, b) => a - b);
  return percentileOfSorted(xs, p);
}

export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * Math.min(100, Math.max(0, p)) / 100;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return a + (b - a) * (h - lo);
}

export function percentiles(values: readonly number[], ps: readonly number[]): number[] {
  const xs = [...values].sort((a, b) => a - b);
  return ps.map((p) => percentileOfSorted(xs, p));
}

export interface HistogramBin {
  from: number;
  to: number;
  count: number;
}

/** Equal-width bins from the minimum to `upTo` (default: the maximum); values above land in the last bin. */
export function histogram(values: readonly number[], bins: number, upTo?: number): HistogramBin[] {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0 || bins < 1) return [];
  const lo = Math.min(...xs);
  const hi = Math.max(lo, upTo ?? Math.max(...xs));
  const width = hi > lo ? (hi - lo) / bins : 1;
  const out: HistogramBin[] = Array.from({ length: bins }, (_, i) => ({ from: lo + i * width, to: lo + (i + 1) * width, count: 0 }));
  for (const x of xs) {
    const i = Math.min(bins - 1, Math.floor((x - lo) / width));
    (out[i] as HistogramBin).count++;
  }
  return out;
}

export interface CurvePoint {
  x: number;
  y: number;
}

export interface Knee {
  /** The x (e.g. robots) after which adding more pays off less than `fraction` of the start. */
  x: number;
  y: number;
  index: number;
  /** Slope of the first segment that fell below the threshold, and the reference slope. */
  slope: number;
  initialSlope: number;
}

/**
 * The congestion knee of a throughput curve: the first point after which the marginal gain per
 * unit of x (throughput per added robot) falls below `fraction` of the curve's initial slope,
 * the gain per robot between the first two points. Undefined for fewer than three points, when
 * the curve never flattens that much, or when it does not rise at first (no knee to speak of).
 */
export function kneeOf(points: readonly CurvePoint[], fraction = 0.5): Knee | undefined {
  const pts = [...points].filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
  if (pts.length < 3) return undefined;
  const slope = (i: number): number => {
    const a = pts[i - 1] as CurvePoint;
    const b = pts[i] as CurvePoint;
    return (b.y - a.y) / (b.x - a.x);
  };
  const initialSlope = slope(1);
  if (!(initialSlope > 0)) return undefined;
  for (let i = 2; i < pts.length; i++) {
    const s = slope(i);
    if (s < fraction * initialSlope) {
      const at = pts[i - 1] as CurvePoint;
      return { x: at.x, y: at.y, index: i - 1, slope: s, initialSlope };
    }
  }
  return undefined;
}
