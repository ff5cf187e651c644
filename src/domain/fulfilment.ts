/**
 * What an operator reads as the order's progress, derived from its lines (DESIGN §3): the header
 * stores only intake and closure.
 */
import type { LineState } from './line-machine.js';

const PROGRESS: readonly LineState[] = ['CREATED', 'SOURCED', 'RELEASED', 'PICKING', 'PICKED', 'PACKED', 'SHIPPED', 'DELIVERED'];

const SHIPPED_AT = PROGRESS.indexOf('SHIPPED');

/**
 * The furthest state every live line has reached; exceptions win so they are not hidden. An
 * order some of whose parcels left while other lines are still on the floor or being packed is
 * PARTIALLY_SHIPPED: the customer has goods on the way, which "PICKING" would hide.
 */
export function deriveFulfilment(states: readonly LineState[]): string {
  const live = states.filter((s) => s !== 'CANCELED');
  if (live.length === 0) return 'CANCELED';
  if (live.includes('UNROUTABLE')) return 'UNROUTABLE';
  if (live.includes('BACKORDERED')) return 'BACKORDERED';
  let least = PROGRESS.length - 1;
  let most = 0;
  for (const s of live) {
    least = Math.min(least, PROGRESS.indexOf(s));
    most = Math.max(most, PROGRESS.indexOf(s));
  }
  if (least < SHIPPED_AT && most >= SHIPPED_AT) return 'PARTIALLY_SHIPPED';
  return PROGRESS[least] ?? 'CREATED';
}

/** An order closes when nothing is left to do on any line. */
export function allLinesDone(states: readonly LineState[]): boolean {
  return states.every((s) => s === 'DELIVERED' || s === 'CANCELED');
}
