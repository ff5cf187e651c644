/** VDA orders as a test collects them off the wire. */
import type { VdaAction, VdaOrder } from '../../protocols/index.js';

/**
 * Every action of order `orderId` over the order and its updates, first sending of each: an
 * order carries a bounded horizon, so its later actions (a trip's drop) may come with an update.
 */
export function actionsOverUpdates(wire: readonly VdaOrder[], orderId: string): VdaAction[] {
  const byId = new Map<string, VdaAction>();
  for (const u of wire) if (u.orderId === orderId) for (const n of u.nodes) for (const a of n.actions) if (!byId.has(a.actionId)) byId.set(a.actionId, a);
  return [...byId.values()];
}
