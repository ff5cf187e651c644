import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { OrderInputSchema } from '../../src/domain/order-input.js';
import type { SiteLayout } from '../../src/index.js';
import { createRng } from '../random.js';
import { createArrivalProcess, ECOMMERCE_DAY } from './arrivals.js';
import { meanCount, sampleCount, type CountDistribution } from './counts.js';
import { ABC_80_15_5, createOrderMix, popularity } from './order-mix.js';
import { createOrderSource, DEFAULT_ORDER_SHAPE } from './order-source.js';

const catalogue = (n: number): Pick<SiteLayout, 'skus' | 'stock'> => ({
  skus: Array.from({ length: n }, (_, i) => ({ sku: `SKU-${i + 1}`, name: `item ${i + 1}` })),
  stock: Array.from({ length: n }, (_, i) => ({ sku: `SKU-${i + 1}`, location: `L-${i + 1}`, onHand: 100 })),
});

describe('arrival process', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const draw = (seed: number): number[] => {
      const p = createArrivalProcess({ ratePerHour: 600, hourlyProfile: ECOMMERCE_DAY, seed });
      return Array.from({ length: 50 }, () => p.next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(8)).not.toEqual(draw(7));
  });

  it('arrives at the mean rate of a flat profile (within 3 %)', () => {
    const p = createArrivalProcess({ ratePerHour: 3600, seed: 1 });
    let count = 0;
    while (p.next() < 10 * 3600) count++;
    expect(count / 10).toBeGreaterThan(3600 * 0.97);
    expect(count / 10).toBeLessThan(3600 * 1.03);
  });

  it('follows the hourly profile by thinning: hour counts match the multipliers', () => {
    const profile = Array.from({ length: 24 }, (_, h) => (h < 6 ? 0.25 : h >= 18 ? 2 : 1));
    const p = createArrivalProcess({ ratePerHour: 2000, hourlyProfile: profile, seed: 3 });
    const perHour = new Array<number>(24).fill(0);
    for (let t = p.next(); t < 24 * 3600; t = p.next()) perHour[Math.floor(t / 3600)]! += 1;
    const mean = (from: number, to: number): number => perHour.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
    expect(mean(0, 6) / 500).toBeCloseTo(1, 1);
    expect(mean(6, 18) / 2000).toBeCloseTo(1, 1);
    expect(mean(18, 24) / 4000).toBeCloseTo(1, 1);
    expect(p.expected(0, 24 * 3600)).toBeCloseTo(6 * 500 + 12 * 2000 + 6 * 4000, 6);
  });

  it('starts at the given hour of day and never arrives at rate zero', () => {
    const profile = Array.from({ length: 24 }, (_, h) => (h === 12 ? 1 : 0));
    const p = createArrivalProcess({ ratePerHour: 100, hourlyProfile: profile, startHour: 11.5, seed: 5 });
    for (let i = 0; i < 20; i++) {
      const t = p.next();
      expect(Math.floor(11.5 + t / 3600) % 24).toBe(12);
    }
    expect(createArrivalProcess({ ratePerHour: 0, seed: 1 }).next()).toBe(Infinity);
    expect(() => createArrivalProcess({ ratePerHour: 1, hourlyProfile: [1, 2], seed: 1 })).toThrow(/24 multipliers/);
  });
});

describe('count distributions', () => {
  const cases: CountDistribution[] = [
    { kind: 'geometric', mean: 1.6, max: 8 },
    { kind: 'poisson', mean: 2.5, max: 10 },
    { kind: 'uniform', min: 1, max: 4 },
    { kind: 'empirical', weights: [0.6, 0.3, 0.1] },
    { kind: 'fixed', value: 2 },
  ];
  it.each(cases)('$kind: sample mean within 3 % of the exact mean, values within [1, cap]', (d) => {
    const rng = createRng(11);
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const k = sampleCount(d, rng);
      lo = Math.min(lo, k);
      hi = Math.max(hi, k);
      sum += k;
    }
    expect(lo).toBeGreaterThanOrEqual(1);
    if (d.kind === 'geometric' || d.kind === 'poisson' || d.kind === 'uniform') expect(hi).toBeLessThanOrEqual(d.max);
    expect(sum / n / meanCount(d)).toBeGreaterThan(0.97);
    expect(sum / n / meanCount(d)).toBeLessThan(1.03);
  });

  it('knows the capped means exactly', () => {
    expect(meanCount({ kind: 'geometric', mean: 2, max: 1000 })).toBeCloseTo(2, 9);
    expect(meanCount({ kind: 'geometric', mean: 2, max: 1 })).toBe(1);
    expect(meanCount({ kind: 'poisson', mean: 3, max: 1000 })).toBeCloseTo(3, 9);
  });
});

describe('order mix', () => {
  const layout = catalogue(500);
  const check = Compile(OrderInputSchema);

  it('builds valid intake bodies, order n the same whatever was drawn before', () => {
    const mix = createOrderMix({ layout, seed: 4, ...DEFAULT_ORDER_SHAPE });
    const a = mix.order(17, Date.UTC(2026, 10, 27));
    createOrderMix({ layout, seed: 4, ...DEFAULT_ORDER_SHAPE }).order(3);
    expect(createOrderMix({ layout, seed: 4, ...DEFAULT_ORDER_SHAPE }).order(17, Date.UTC(2026, 10, 27))).toEqual(a);
    expect(createOrderMix({ layout, seed: 5, ...DEFAULT_ORDER_SHAPE }).order(17)).not.toEqual(mix.order(17));
    for (let n = 1; n <= 200; n++) {
      const body = mix.order(n, Date.UTC(2026, 10, 27));
      expect(check.Check(body)).toBe(true);
      expect(new Set(body.lines.map((l) => l.sku)).size).toBe(body.lines.length);
    }
    expect(a.promisedBy).toBeDefined();
  });

  it('draws Zipf popularity: rank 1 takes its analytic share', () => {
    const mix = createOrderMix({ layout, seed: 9, skuPopularity: { kind: 'zipf', exponent: 1 }, lines: { kind: 'fixed', value: 1 }, units: { kind: 'fixed', value: 1 }, channels: [{ channel: 'web', weight: 1 }] });
    const expected = popularity({ kind: 'zipf', exponent: 1 }, 500)[0] ?? 0;
    expect(expected).toBeCloseTo(1 / 6.7928, 3);
    let top = 0;
    const n = 20_000;
    for (let i = 1; i <= n; i++) if (mix.order(i).lines[0]?.sku === 'SKU-1') top++;
    expect(top / n / expected).toBeGreaterThan(0.93);
    expect(top / n / expected).toBeLessThan(1.07);
  });

  it('draws ABC classes with their demand shares', () => {
    const mix = createOrderMix({ layout, seed: 2, skuPopularity: ABC_80_15_5, lines: { kind: 'fixed', value: 1 }, units: { kind: 'fixed', value: 1 }, channels: [{ channel: 'web', weight: 1 }] });
    const rank = new Map(mix.ranked.map((s, i) => [s, i]));
    const hits = [0, 0, 0];
    const n = 20_000;
    for (let i = 1; i <= n; i++) {
      const r = rank.get(mix.order(i).lines[0]?.sku ?? '') ?? -1;
      hits[r < 100 ? 0 : r < 250 ? 1 : 2]! += 1;
    }
    expect(hits[0]! / n).toBeCloseTo(0.8, 1);
    expect(hits[1]! / n).toBeCloseTo(0.15, 1);
    expect(hits[2]! / n).toBeCloseTo(0.05, 1);
  });

  it('mixes channels by weight and carries their priority and promise', () => {
    const mix = createOrderMix({ layout, seed: 6, ...DEFAULT_ORDER_SHAPE });
    const counts = new Map<string, number>();
    const n = 10_000;
    for (let i = 1; i <= n; i++) {
      const o = mix.order(i, 0);
      counts.set(o.channel, (counts.get(o.channel) ?? 0) + 1);
      if (o.channel === 'express') {
        expect(o.priority).toBe(9);
        expect(o.promisedBy).toBe(new Date(4 * 3_600_000).toISOString());
      }
    }
    expect((counts.get('web') ?? 0) / n).toBeCloseTo(0.7, 1);
    expect((counts.get('marketplace') ?? 0) / n).toBeCloseTo(0.2, 1);
    expect((counts.get('express') ?? 0) / n).toBeCloseTo(0.1, 1);
  });

  it('never draws a SKU without stock, and rejects bad shapes', () => {
    const partly = { skus: layout.skus, stock: layout.stock.map((s, i) => ({ ...s, onHand: i % 2 === 0 ? 0 : 10 })) };
    const mix = createOrderMix({ layout: partly, seed: 1, ...DEFAULT_ORDER_SHAPE });
    const empty = new Set(partly.stock.filter((s) => s.onHand === 0).map((s) => s.sku));
    for (let i = 1; i <= 300; i++) for (const l of mix.order(i).lines) expect(empty.has(l.sku)).toBe(false);
    expect(() => createOrderMix({ layout, seed: 1, ...DEFAULT_ORDER_SHAPE, channels: [] })).toThrow(/channels/);
    expect(() => createOrderMix({ layout, seed: 1, ...DEFAULT_ORDER_SHAPE, lines: { kind: 'uniform', min: 3, max: 2 } })).toThrow(/min <= max/);
  });
});

describe('order source', () => {
  it('keeps arrivals the same when only the basket shape changes (separate streams)', () => {
    const layout = catalogue(100);
    const a = createOrderSource({ layout, ratePerHour: 900, seed: 12 });
    const b = createOrderSource({ layout, ratePerHour: 900, seed: 12, lines: { kind: 'fixed', value: 3 } });
    for (let i = 0; i < 30; i++) {
      const x = a.next();
      const y = b.next();
      expect(y.at).toBe(x.at);
      expect(y.n).toBe(x.n);
      expect(y.body.lines).toHaveLength(3);
    }
  });
});
