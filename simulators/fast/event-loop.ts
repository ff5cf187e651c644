/**
 * The discrete-event loop: pop the next due timer, move the virtual clock to it, fire it, then
 * let everything it set in motion settle before the next event. "Settle" means the microtask
 * queue (promises resolved by store and transport code) and the `setImmediate` callbacks the
 * core queues (intake's group commit, the dispatcher's pass): both are drained by yielding to
 * the Node event loop, which runs them in the order they were queued. Nothing in a fast run does
 * real I/O, so that order depends only on the program — same seed, same event order.
 */
import type { VirtualClock } from './virtual-clock.js';

export interface RunOptions {
  /** Called after every `everyMs` of simulated time (progress lines, KPI samples). */
  onTick?: (now: number) => void;
  everyMs?: number;
  /** Checked between events: stop early (e.g. a test that has seen enough). */
  shouldStop?: () => boolean;
}

/** Yields to Node until the queued microtasks and immediates (and what they queue) have run. */
export function settle(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
}

/**
 * Runs events until simulated time `until` (ms since the epoch); returns how many fired. Events
 * due at the same instant run back to back and settle together: a yield per distinct instant is
 * what keeps a long run fast.
 */
export async function runUntil(clock: VirtualClock, until: number, opts: RunOptions = {}): Promise<number> {
  let fired = 0;
  const every = opts.everyMs ?? 0;
  let nextTick = every > 0 ? clock.now() + every : Infinity;
  await settle();
  for (;;) {
    if (opts.shouldStop?.() === true) break;
    const at = clock.peek();
    if (at === undefined || at > until) break;
    while (at >= nextTick) {
      clock.advanceTo(nextTick);
      opts.onTick?.(nextTick);
      nextTick += every;
    }
    // Everything due at this instant, including timers it sets for the same instant.
    while (clock.peek() === at && clock.fireNext(at)) fired++;
    await settle();
  }
  while (until >= nextTick) {
    clock.advanceTo(nextTick);
    opts.onTick?.(nextTick);
    nextTick += every;
  }
  clock.advanceTo(until);
  await settle();
  return fired;
}
