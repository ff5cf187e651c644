/**
 * Arrivals and baskets together: the order stream a simulation run feeds the core. The arrival
 * process and the order mix draw from separate streams of the same seed, and neither shares a
 * stream with devices or faults, so changing the fleet never changes the orders.
 */
import type { OrderInput, SiteLayout } from '../../src/index.js';
import { createArrivalProcess, type ArrivalOptions } from './arrivals.js';
import { createOrderMix, type OrderMixOptions } from './order-mix.js';

export interface OrderSourceOptions extends Omit<ArrivalOptions, 'seed'>, Partial<Omit<OrderMixOptions, 'seed' | 'layout'>> {
  layout: Pick<SiteLayout, 'skus' | 'stock'>;
  seed: number;
  /** Epoch ms of simulated time zero, for promise dates. */
  epochMs?: number;
}

export interface GeneratedOrder {
  n: number;
  /** Seconds since the run start. */
  at: number;
  body: OrderInput;
}

/** Defaults for a B2C fulfilment centre: mostly single-line orders, a few large baskets. */
export const DEFAULT_ORDER_SHAPE: Omit<OrderMixOptions, 'seed' | 'layout'> = {
  skuPopularity: { kind: 'zipf', exponent: 0.8 },
  lines: { kind: 'geometric', mean: 1.6, max: 8 },
  units: { kind: 'geometric', mean: 1.3, max: 6 },
  channels: [
    { channel: 'web', weight: 0.7, promiseHours: 24 },
    { channel: 'marketplace', weight: 0.2, promiseHours: 48 },
    { channel: 'express', weight: 0.1, priority: 9, promiseHours: 4 },
  ],
};

export function createOrderSource(opts: OrderSourceOptions): { next(): GeneratedOrder } {
  const arrivals = createArrivalProcess(opts);
  const mix = createOrderMix({
    layout: opts.layout,
    seed: opts.seed,
    skuPopularity: opts.skuPopularity ?? DEFAULT_ORDER_SHAPE.skuPopularity,
    lines: opts.lines ?? DEFAULT_ORDER_SHAPE.lines,
    units: opts.units ?? DEFAULT_ORDER_SHAPE.units,
    channels: opts.channels ?? DEFAULT_ORDER_SHAPE.channels,
    ...(opts.rankBy ? { rankBy: opts.rankBy } : {}),
  });
  let n = 0;
  return {
    next() {
      const at = arrivals.next();
      n++;
      return { n, at, body: mix.order(n, (opts.epochMs ?? 0) + at * 1000) };
    },
  };
}
