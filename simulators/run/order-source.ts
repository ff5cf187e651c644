/**
 * Orders of a simulation run: the seeded order stream of simulators/generators (Poisson
 * arrivals, SKU popularity, basket sizes, channel mix with promises) put on the run's clock,
 * each order submitted straight to the core's intake use case (a fast run has no HTTP). The
 * stream has its own random streams, so adding a robot does not change which orders arrive
 * when (DESIGN §5).
 */
import type { OrderIntake, SiteLayout } from '../../src/index.js';
import type { SimClock } from '../clock.js';
import { createOrderSource } from '../generators/index.js';

export interface RunOrdersOptions {
  layout: SiteLayout;
  intake: Pick<OrderIntake, 'submit'>;
  clock: SimClock;
  seed: number;
  ordersPerHour: number;
  /** Simulated start of the run (epoch ms): arrival times count from here. */
  startAt: number;
  /** No arrivals at or after this time (the end of the run). */
  until: number;
  onRejected?: (err: unknown) => void;
}

export interface RunOrders {
  readonly stats: { submitted: number; accepted: number; rejected: number };
  stop(): void;
}

export function startRunOrders(opts: RunOrdersOptions): RunOrders {
  const source = createOrderSource({ layout: opts.layout, seed: opts.seed, ratePerHour: opts.ordersPerHour, epochMs: opts.startAt, startHour: new Date(opts.startAt).getUTCHours() });
  const stats = { submitted: 0, accepted: 0, rejected: 0 };
  let cancel: (() => void) | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped || opts.ordersPerHour <= 0) return;
    const next = source.next();
    // Whole milliseconds: arrival instants then survive the ISO timestamps the core keeps.
    const at = opts.startAt + Math.round(next.at * 1000);
    if (!Number.isFinite(at) || at >= opts.until) return;
    cancel = opts.clock.setTimer(() => {
      if (stopped) return;
      stats.submitted++;
      opts.intake.submit(next.body, `sim-${opts.seed}-${next.n}`, 'sim-feed').then(
        () => stats.accepted++,
        (err: unknown) => {
          stats.rejected++;
          opts.onRejected?.(err);
        },
      );
      schedule();
    }, at - opts.clock.now());
  };
  schedule();
  return {
    stats,
    stop() {
      stopped = true;
      cancel?.();
    },
  };
}
