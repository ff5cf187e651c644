/**
 * Service-time distributions over a seeded stream. Manual and robotic handling times are
 * right-skewed (most picks near the mean, a long tail of awkward ones), so they are drawn from
 * a lognormal parameterised by its mean and coefficient of variation rather than by mu/sigma.
 */
import type { Rng } from './random.js';

/** Standard normal by Box-Muller; two uniforms per draw keeps the stream easy to reason about. */
export function standardNormal(rng: Rng): number {
  const u = 1 - rng.next(); // (0, 1]: the logarithm stays finite
  const v = rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal with the given mean and coefficient of variation (stddev / mean); cv 0 is the mean. */
export function lognormal(rng: Rng, mean: number, cv: number): number {
  if (!(mean > 0)) throw new RangeError('lognormal needs a positive mean');
  if (cv <= 0) return mean;
  const sigma2 = Math.log(1 + cv * cv);
  const mu = Math.log(mean) - sigma2 / 2;
  return Math.exp(mu + Math.sqrt(sigma2) * standardNormal(rng));
}
