/** Available-to-promise arithmetic and the choice of a stock position for a line. */
import type { StockPosition } from './records.js';

export function atp(p: Pick<StockPosition, 'onHand' | 'reserved' | 'safetyStock'>): number {
  return Math.max(0, p.onHand - p.reserved - p.safetyStock);
}

/**
 * Picks the position that can fill the whole quantity. Among those, the one with the least ATP
 * left over wins, so nearly empty locations are cleared first and full ones stay whole.
 */
export function choosePosition(positions: readonly StockPosition[], quantity: number): StockPosition | undefined {
  let best: StockPosition | undefined;
  for (const p of positions) {
    const available = atp(p);
    if (available < quantity) continue;
    if (!best || available < atp(best) || (available === atp(best) && p.location < best.location)) best = p;
  }
  return best;
}
