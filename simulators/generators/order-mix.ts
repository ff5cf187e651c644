/**
 * What each order contains: its channel, how many lines, which SKUs (by popularity) and how many
 * units. Order n is a pure function of (seed, n): the same order whatever was drawn before, so a
 * run that posts fewer orders (or more robots) sees the same first orders. The body is the
 * core's intake input (`OrderInput`, DESIGN §9).
 *
 * Popularity follows the layout's catalogue order (best seller first, as the bundled generators
 * slot it), either Zipf (P(rank r) ~ 1 / r^exponent) or ABC classes (shares of SKUs with shares
 * of demand, uniform within a class). Only SKUs with stock in the layout are drawn.
 */
import type { OrderInput, SiteLayout } from '../../src/index.js';
import { createRng, type Rng } from '../random.js';
import { sampleCount, validateCount, type CountDistribution } from './counts.js';
import { FIRST_NAMES, LAST_NAMES, STREETS } from '../ship-to-pool.js';

export type SkuPopularity =
  | { kind: 'zipf'; exponent: number }
  /** Classes in rank order; `skuShare`s and `demandShare`s each sum to 1. */
  | { kind: 'abc'; classes: { name: string; skuShare: number; demandShare: number }[] };

/** The textbook 80/15/5 split: 20 % of SKUs draw 80 % of demand. */
export const ABC_80_15_5: SkuPopularity = {
  kind: 'abc',
  classes: [
    { name: 'A', skuShare: 0.2, demandShare: 0.8 },
    { name: 'B', skuShare: 0.3, demandShare: 0.15 },
    { name: 'C', skuShare: 0.5, demandShare: 0.05 },
  ],
};

export interface ChannelSpec {
  channel: string;
  weight: number;
  /** Intake priority 0..9 (higher is served first). */
  priority?: number;
  /** Promise: this many hours after the order arrives (on-time rate is measured against it). */
  promiseHours?: number;
}

export interface OrderMixOptions {
  layout: Pick<SiteLayout, 'skus' | 'stock'>;
  skuPopularity: SkuPopularity;
  lines: CountDistribution;
  units: CountDistribution;
  channels: readonly ChannelSpec[];
  seed: number;
  /** Popularity ranks: catalogue order (default) or a seeded permutation of it. */
  rankBy?: 'catalogue' | 'shuffled';
}

export interface OrderMix {
  /** The n-th order (n >= 1); `arrivedAtMs` (epoch ms) sets `promisedBy` for channels with a promise. */
  order(n: number, arrivedAtMs?: number): OrderInput;
  /** SKUs in popularity order, rank 1 first (only those with stock). */
  readonly ranked: readonly string[];
  /** Probability of drawing each ranked SKU for a line (before de-duplication within an order). */
  readonly probabilities: readonly number[];
}

const CITIES = [
  { city: 'Hamburg', postalCode: '20095' },
  { city: 'Berlin', postalCode: '10115' },
  { city: 'Dortmund', postalCode: '44135' },
  { city: 'Köln', postalCode: '50667' },
  { city: 'München', postalCode: '80331' },
  { city: 'Leipzig', postalCode: '04109' },
  { city: 'Bremen', postalCode: '28195' },
  { city: 'Hannover', postalCode: '30159' },
] as const;
const FIRST = FIRST_NAMES;
const LAST = LAST_NAMES;

export function createOrderMix(opts: OrderMixOptions): OrderMix {
  validateCount(opts.lines);
  validateCount(opts.units);
  if (opts.channels.length === 0 || opts.channels.some((c) => !(c.weight >= 0)) || !opts.channels.some((c) => c.weight > 0)) {
    throw new RangeError('channels need non-negative weights, one of them positive');
  }
  if (opts.channels.some((c) => c.priority !== undefined && !(Number.isInteger(c.priority) && c.priority >= 0 && c.priority <= 9))) {
    throw new RangeError('channel priority must be an integer 0..9');
  }
  const inStock = new Set(opts.layout.stock.filter((s) => s.onHand > 0).map((s) => s.sku));
  const ranked = opts.layout.skus.map((s) => s.sku).filter((sku) => inStock.has(sku));
  if (ranked.length === 0) throw new RangeError('the layout has no SKU with stock');
  if (opts.rankBy === 'shuffled') {
    const r = createRng(opts.seed).fork('ranks');
    for (let i = ranked.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [ranked[i], ranked[j]] = [ranked[j] as string, ranked[i] as string];
    }
  }
  const probabilities = popularity(opts.skuPopularity, ranked.length);
  const cdf = cumulative(probabilities);
  const channelCdf = cumulative(opts.channels.map((c) => c.weight));

  const drawSku = (rng: Rng): string => ranked[search(cdf, rng.next())] as string;

  return {
    ranked,
    probabilities,
    order(n, arrivedAtMs) {
      // One stream per order and per aspect: changing the channel mix leaves the baskets alone.
      const base = createRng(opts.seed).fork(`order-${n}`);
      const channel = opts.channels[search(channelCdf, base.fork('channel').next())] as ChannelSpec;
      const basket = base.fork('basket');
      const lineCount = Math.min(sampleCount(opts.lines, basket), ranked.length);
      const chosen = new Set<string>();
      // Distinct SKUs by rejection; the walk down the ranks bounds it for tiny catalogues.
      for (let attempt = 0; chosen.size < lineCount && attempt < lineCount * 50; attempt++) chosen.add(drawSku(basket));
      for (let i = 0; chosen.size < lineCount; i++) chosen.add(ranked[i] as string);
      const qty = base.fork('units');
      const who = base.fork('customer');
      const customerNo = who.int(1, 5000);
      const place = who.pick(CITIES);
      const body: OrderInput = {
        channel: channel.channel,
        externalId: `GEN-${opts.seed}-${n}`,
        customer: { id: `cust-${String(customerNo).padStart(5, '0')}`, email: `customer${customerNo}@example.com` },
        shipTo: { name: `${who.pick(FIRST)} ${who.pick(LAST)}`, line1: `${who.pick(STREETS)} ${who.int(1, 120)}`, city: place.city, postalCode: place.postalCode, country: 'DE' },
        lines: [...chosen].map((sku) => ({ sku, quantity: sampleCount(opts.units, qty) })),
      };
      if (channel.priority !== undefined) body.priority = channel.priority;
      if (channel.promiseHours !== undefined && arrivedAtMs !== undefined) body.promisedBy = new Date(arrivedAtMs + channel.promiseHours * 3_600_000).toISOString();
      return body;
    },
  };
}

/** Probability of each rank (index 0 = rank 1) under a popularity model. */
export function popularity(model: SkuPopularity, n: number): number[] {
  if (model.kind === 'zipf') {
    if (!(model.exponent >= 0)) throw new RangeError('zipf exponent must be >= 0');
    const w = Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, model.exponent));
    const sum = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / sum);
  }
  const skuTotal = model.classes.reduce((a, c) => a + c.skuShare, 0);
  const demandTotal = model.classes.reduce((a, c) => a + c.demandShare, 0);
  if (model.classes.length === 0 || Math.abs(skuTotal - 1) > 1e-6 || Math.abs(demandTotal - 1) > 1e-6) {
    throw new RangeError('ABC classes need skuShare and demandShare each summing to 1');
  }
  const p = new Array<number>(n).fill(0);
  let start = 0;
  let cumulativeShare = 0;
  model.classes.forEach((c, k) => {
    cumulativeShare += c.skuShare;
    const end = k === model.classes.length - 1 ? n : Math.min(n, Math.round(cumulativeShare * n));
    const size = end - start;
    for (let i = start; i < end; i++) p[i] = c.demandShare / size;
    start = end;
  });
  // A class rounded to no SKUs leaves its demand unplaced: renormalize.
  const sum = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / sum);
}

function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let sum = 0;
  weights.forEach((w, i) => (out[i] = sum += w));
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / sum;
  return out;
}

/** First index whose cumulative share exceeds u. */
function search(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cdf[mid] ?? 1) <= u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
