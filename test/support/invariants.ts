/**
 * The invariants of DESIGN §4 the reliability suite checks after every fault, read over the
 * HTTP API: each a message naming what is wrong, none when all hold.
 */
import { listAllOrders, listStock, reservationMismatches, type Get, type OrderView, type StockView } from './orders.js';

export interface InvariantReport {
  problems: string[];
  orders: OrderView[];
  stock: StockView[];
}

export async function checkInvariants(get: Get): Promise<InvariantReport> {
  const [orders, stock] = [await listAllOrders(get), await listStock(get)];
  const problems: string[] = [];
  for (const p of stock) {
    const where = `${p.sku}@${p.site}/${p.location}`;
    if (!Number.isSafeInteger(p.onHand) || p.onHand < 0) problems.push(`${where}: on hand ${p.onHand}`);
    if (!Number.isSafeInteger(p.reserved) || p.reserved < 0) problems.push(`${where}: reserved ${p.reserved}`);
    if (p.reserved > p.onHand) problems.push(`${where}: reserved ${p.reserved} > on hand ${p.onHand}`);
  }
  for (const o of orders) {
    if (o.lines.length === 0) problems.push(`order ${o.id} has no lines`);
    for (const l of o.lines) if (!(l.picked >= 0 && l.picked <= l.quantity)) problems.push(`line ${l.id}: picked ${l.picked} of ${l.quantity}`);
  }
  problems.push(...reservationMismatches(stock, orders).problems);
  return { problems, orders, stock };
}
