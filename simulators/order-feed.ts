/**
 * A synthetic sales channel: posts orders to the core's HTTP API with Poisson arrivals and
 * Zipf-like SKU popularity, reproducibly from a seed. It behaves like a real channel client:
 * every order carries an Idempotency-Key, and rejections (e.g. out of stock) are counted and
 * logged, never thrown.
 */
import type { SiteLayout } from '../src/index.js';
import { realClock, type SimClock } from './clock.js';
import { createRng } from './random.js';
import { FIRST_NAMES, LAST_NAMES, STREETS } from './ship-to-pool.js';

export interface FeedLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

export interface OrderFeedOptions {
  baseUrl: string;
  token: string;
  layout: SiteLayout;
  ordersPerMinute: number;
  maxLinesPerOrder: number;
  maxUnitsPerLine: number;
  seed: number;
  logger?: FeedLogger;
  clock?: SimClock;
  /** Stop after this many orders (unbounded when absent). */
  maxOrders?: number;
}

export interface OrderFeedStats {
  sent: number;
  accepted: number;
  rejected: number;
  failed: number;
}

export interface FeedOrderBody {
  channel: 'sim-feed';
  externalId: string;
  customer: { id: string; email: string };
  shipTo: { name: string; line1: string; city: string; postalCode: string; country: string };
  lines: { sku: string; quantity: number }[];
}

const CITIES = [
  { city: 'Dortmund', postalCode: '44135' },
  { city: 'Essen', postalCode: '45127' },
  { city: 'Köln', postalCode: '50667' },
  { city: 'Düsseldorf', postalCode: '40213' },
  { city: 'Bochum', postalCode: '44787' },
  { city: 'Münster', postalCode: '48143' },
  { city: 'Hamburg', postalCode: '20095' },
  { city: 'Berlin', postalCode: '10115' },
] as const;
const FIRST = FIRST_NAMES;
const LAST = LAST_NAMES;

/** Builds the n-th order body of a feed; pure, so tests and replays see identical orders. */
export function createOrderGenerator(opts: Pick<OrderFeedOptions, 'layout' | 'maxLinesPerOrder' | 'maxUnitsPerLine' | 'seed'>): (n: number) => FeedOrderBody {
  const onHand = new Map<string, number>();
  for (const s of opts.layout.stock) onHand.set(s.sku, (onHand.get(s.sku) ?? 0) + s.onHand);
  const skus = opts.layout.skus.map((s) => s.sku).filter((sku) => (onHand.get(sku) ?? 0) > 0);
  if (skus.length === 0) throw new RangeError('the layout has no SKU with stock');
  // Popularity ranks are a seeded permutation, so the best sellers are not simply SKU-0001...
  const rankRng = createRng(opts.seed).fork('popularity');
  for (let i = skus.length - 1; i > 0; i--) {
    const j = rankRng.int(0, i);
    [skus[i], skus[j]] = [skus[j] as string, skus[i] as string];
  }
  return (n) => {
    const rng = createRng(opts.seed).fork(`order-${n}`);
    const lineCount = Math.min(rng.int(1, opts.maxLinesPerOrder), skus.length);
    const chosen = new Set<string>();
    // Rejection sampling for distinct SKUs; the fallback walk keeps it bounded for tiny catalogues.
    for (let attempt = 0; chosen.size < lineCount && attempt < lineCount * 20; attempt++) chosen.add(skus[rng.zipf(skus.length)] as string);
    for (let i = 0; chosen.size < lineCount; i++) chosen.add(skus[i] as string);
    const customerNo = rng.int(1, 500);
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const place = rng.pick(CITIES);
    return {
      channel: 'sim-feed',
      externalId: `SIM-${opts.seed}-${n}`,
      customer: { id: `cust-${String(customerNo).padStart(4, '0')}`, email: `customer${customerNo}@example.com` },
      shipTo: { name: `${first} ${last}`, line1: `${rng.pick(STREETS)} ${rng.int(1, 120)}`, city: place.city, postalCode: place.postalCode, country: 'DE' },
      lines: [...chosen].map((sku) => ({ sku, quantity: rng.int(1, opts.maxUnitsPerLine) })),
    };
  };
}

export function startOrderFeed(opts: OrderFeedOptions): { stop(): Promise<void>; stats: OrderFeedStats } {
  const clock = opts.clock ?? realClock();
  const stats: OrderFeedStats = { sent: 0, accepted: 0, rejected: 0, failed: 0 };
  const makeOrder = createOrderGenerator(opts);
  const gaps = createRng(opts.seed).fork('arrivals');
  const inFlight = new Set<Promise<void>>();
  const url = `${opts.baseUrl.replace(/\/$/, '')}/api/v1/orders`;
  let stopped = false;
  let cancel: (() => void) | undefined;
  let n = 0;

  const post = async (index: number): Promise<void> => {
    const body = makeOrder(index);
    stats.sent++;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${opts.token}`, 'idempotency-key': `feed-${opts.seed}-${index}` },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.ok) {
        stats.accepted++;
        opts.logger?.info({ externalId: body.externalId, status: res.status }, 'order-feed: order accepted');
      } else {
        stats.rejected++;
        opts.logger?.warn({ externalId: body.externalId, status: res.status, body: text.slice(0, 300) }, 'order-feed: order rejected');
      }
    } catch (err) {
      stats.failed++;
      opts.logger?.warn({ externalId: body.externalId, err: (err as Error).message }, 'order-feed: request failed');
    }
  };

  const schedule = (): void => {
    if (stopped || opts.ordersPerMinute <= 0) return;
    if (opts.maxOrders !== undefined && n >= opts.maxOrders) return;
    const gapMs = gaps.exponential(60_000 / opts.ordersPerMinute);
    cancel = clock.setTimer(() => {
      if (stopped) return;
      const p = post(++n).finally(() => inFlight.delete(p));
      inFlight.add(p);
      schedule();
    }, gapMs);
  };
  schedule();

  return {
    stats,
    async stop() {
      stopped = true;
      cancel?.();
      await Promise.all([...inFlight]);
    },
  };
}
