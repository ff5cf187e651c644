import { describe, expect, it } from 'vitest';
import { createRng } from './random.js';

describe('seeded random streams', () => {
  it('repeats exactly for the same seed and differs across seeds and forks', () => {
    const draw = (seed: number): number[] => {
      const rng = createRng(seed);
      return Array.from({ length: 5 }, () => rng.next());
    };
    const a = draw(7);
    expect(draw(7)).toEqual(a);
    expect(draw(8)).not.toEqual(a);
    expect(createRng(7).fork('x').next()).not.toBe(createRng(7).fork('y').next());
  });

  it('exponential gaps have the requested mean', () => {
    const rng = createRng(1);
    const n = 20_000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += rng.exponential(10);
    expect(sum / n).toBeGreaterThan(9.5);
    expect(sum / n).toBeLessThan(10.5);
  });

  it('zipf favours low ranks and stays in range', () => {
    const rng = createRng(3);
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const k = rng.zipf(100);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts.reduce((s, c) => s + c, 0)).toBe(10_000);
    expect(counts[0] ?? 0).toBeGreaterThan((counts[10] ?? 0) * 5);
  });
});
