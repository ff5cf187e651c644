/**
 * Seeded pseudo-random numbers. Simulation runs must be reproducible from a seed, and each
 * source of randomness (order arrivals, SKU choice, faults, ...) gets its own stream so that
 * adding a robot does not shift the order arrivals.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Integer uniform in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** Exponentially distributed with the given mean (inter-arrival gaps of a Poisson process). */
  exponential(mean: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** Index in [0, n) with Zipf-like popularity: P(i) proportional to 1 / (i + 1)^s. */
  zipf(n: number, s?: number): number;
  /** An independent stream derived from this one and a label. */
  fork(label: string): Rng;
}

/** mulberry32: 32-bit state, fast, good enough statistical quality for a simulator. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const zipfTables = new Map<string, Float64Array>();
  const rng: Rng = {
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    // 1 - u is in (0, 1], so the logarithm is finite.
    exponential: (mean) => -Math.log(1 - next()) * mean,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick from an empty array');
      return items[Math.floor(next() * items.length)] as T;
    },
    zipf: (n, s = 1) => {
      if (n < 1) throw new RangeError('zipf needs n >= 1');
      const key = `${n}:${s}`;
      let cdf = zipfTables.get(key);
      if (cdf === undefined) {
        cdf = new Float64Array(n);
        let sum = 0;
        for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
        for (let i = 0; i < n; i++) cdf[i] = (cdf[i] ?? 0) / sum;
        zipfTables.set(key, cdf);
      }
      const u = next();
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((cdf[mid] ?? 1) < u) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    },
    fork: (label) => createRng(hashSeed(seed, label)),
  };
  return rng;
}

/** FNV-1a over the label mixed with the parent seed: stable across runs and platforms. */
export function hashSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
