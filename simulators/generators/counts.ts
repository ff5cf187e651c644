/**
 * Small count distributions for order shapes: lines per order and units per line. Every draw is
 * an integer >= 1 and at most `max` (values above the cap are clipped to it, as a channel's
 * basket limit would). Shifted forms put the mass at 1 where real e-commerce orders have it.
 */
import type { Rng } from '../random.js';

export type CountDistribution =
  | { kind: 'fixed'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  /** 1 + Geometric: P(k) = p (1-p)^(k-1), mean `mean` (>= 1) before the cap. */
  | { kind: 'geometric'; mean: number; max: number }
  /** 1 + Poisson(mean - 1): mean `mean` (>= 1) before the cap. */
  | { kind: 'poisson'; mean: number; max: number }
  /** P(k) proportional to weights[k - 1]. */
  | { kind: 'empirical'; weights: number[] };

export function validateCount(d: CountDistribution): void {
  const bad = (why: string): never => {
    throw new RangeError(`count distribution ${d.kind}: ${why}`);
  };
  switch (d.kind) {
    case 'fixed':
      if (!Number.isInteger(d.value) || d.value < 1) bad('value must be an integer >= 1');
      break;
    case 'uniform':
      if (!Number.isInteger(d.min) || !Number.isInteger(d.max) || d.min < 1 || d.max < d.min) bad('needs integers 1 <= min <= max');
      break;
    case 'geometric':
    case 'poisson':
      if (!(d.mean >= 1) || !Number.isInteger(d.max) || d.max < 1) bad('needs mean >= 1 and an integer max >= 1');
      break;
    case 'empirical':
      if (d.weights.length === 0 || d.weights.some((w) => !(w >= 0)) || !d.weights.some((w) => w > 0)) bad('needs non-negative weights, one of them positive');
      break;
  }
}

export function sampleCount(d: CountDistribution, rng: Rng): number {
  switch (d.kind) {
    case 'fixed':
      return d.value;
    case 'uniform':
      return rng.int(d.min, d.max);
    case 'geometric': {
      if (d.mean <= 1) return 1;
      const p = 1 / d.mean;
      // Inversion: the number of trials up to the first success.
      const k = 1 + Math.floor(Math.log(1 - rng.next()) / Math.log(1 - p));
      return Math.min(k, d.max);
    }
    case 'poisson':
      return Math.min(1 + poisson(d.mean - 1, rng), d.max);
    case 'empirical': {
      const total = d.weights.reduce((a, b) => a + b, 0);
      let u = rng.next() * total;
      for (let i = 0; i < d.weights.length; i++) {
        u -= d.weights[i] ?? 0;
        if (u < 0) return i + 1;
      }
      // Rounding left u at zero: the last category with weight.
      for (let i = d.weights.length - 1; i >= 0; i--) if ((d.weights[i] ?? 0) > 0) return i + 1;
      return 1;
    }
  }
}

/** Knuth's multiplication method: fine for the small means of order shapes (lambda < ~30). */
export function poisson(lambda: number, rng: Rng): number {
  if (lambda <= 0) return 0;
  const limit = Math.exp(-lambda);
  let k = 0;
  let product = rng.next();
  while (product > limit) {
    k++;
    product *= rng.next();
  }
  return k;
}

/** Exact mean of a count distribution, cap included (for sizing and for the tests). */
export function meanCount(d: CountDistribution): number {
  switch (d.kind) {
    case 'fixed':
      return d.value;
    case 'uniform':
      return (d.min + d.max) / 2;
    case 'empirical': {
      const total = d.weights.reduce((a, b) => a + b, 0);
      return d.weights.reduce((sum, w, i) => sum + w * (i + 1), 0) / total;
    }
    case 'geometric':
    case 'poisson': {
      // Sum the pmf up to the cap; the cap takes the remaining tail mass.
      let mean = 0;
      let mass = 0;
      for (let k = 1; k < d.max; k++) {
        const p = pmf(d, k);
        mean += k * p;
        mass += p;
      }
      return mean + d.max * (1 - mass);
    }
  }
}

function pmf(d: Extract<CountDistribution, { kind: 'geometric' | 'poisson' }>, k: number): number {
  if (d.kind === 'geometric') {
    if (d.mean <= 1) return k === 1 ? 1 : 0;
    const p = 1 / d.mean;
    return p * Math.pow(1 - p, k - 1);
  }
  const lambda = d.mean - 1;
  let p = Math.exp(-lambda);
  for (let i = 1; i <= k - 1; i++) p *= lambda / i;
  return p;
}
