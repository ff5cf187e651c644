/**
 * Reads that must not grow with history: a store holding 200,000 orders (600,000 lines), most
 * of them long shipped, answers the dashboard's lists and the periodic lines-by-state gauge in
 * the same time as an empty one. Each of them runs on the event loop, so a read that walks the
 * history stalls intake and device traffic for as long (GET /orders took 330 ms here before
 * migration 13; the gauge 38 ms per million lines, every 2 s).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/adapters/sqlite/sqlite-store.js';
import type { LineRecord, OrderRecord } from '../src/domain/records.js';
import type { BenchResult } from './result.js';

const ORDERS = 200_000;
const LINES_PER_ORDER = 3;

/** Median and worst of `runs` timings of `fn`, in ms (after one untimed call). */
function timeMs(fn: () => unknown, runs = 21): { p50: number; max: number } {
  fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    t.push(performance.now() - start);
  }
  t.sort((a, b) => a - b);
  return { p50: t[Math.floor(runs / 2)] as number, max: t[runs - 1] as number };
}

export function benchStoreHistory(): BenchResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'pickwire-bench-history-'));
  try {
    const store = new SqliteStore({ dataDir: dir, clock: { now: () => 0, setTimer: () => () => undefined } });
    const body = { lines: [{ sku: 'SKU-0001', quantity: 1 }], shipTo: { name: 'A Person', line1: 'Main St 1', city: 'Berlin', postalCode: '10115', country: 'DE' } };
    const fillStart = performance.now();
    for (let batch = 0; batch < ORDERS / 1000; batch++) {
      store.tx(() => {
        for (let i = batch * 1000; i < (batch + 1) * 1000; i++) {
          // One order in ten still open, the rest history; a customer has 40 orders, a channel id one.
          const open = i % 10 === 0;
          const order: OrderRecord = {
            id: `O-${String(i).padStart(8, '0')}`,
            externalId: `shop-${i}`,
            channel: 'shopify',
            customerId: `C-${i % 5000}`,
            status: open ? 'OPEN' : 'CLOSED',
            fulfilment: open ? 'PICKING' : 'DELIVERED',
            snapshot: {} as never,
            body: body as never,
            priority: 0,
            promisedBy: undefined,
            createdAt: 1_700_000_000_000 + i * 1000,
            updatedAt: 1_700_000_000_000 + i * 1000,
          };
          store.insertOrder(order);
          for (let n = 1; n <= LINES_PER_ORDER; n++) {
            const line: LineRecord = { id: `${order.id}-L${n}`, orderId: order.id, lineNo: n, sku: 'SKU-0001', quantity: 1, state: open ? 'PICKING' : 'DELIVERED', site: 'A', location: undefined, zone: undefined, snapshot: {} as never, updatedAt: order.createdAt };
            store.insertLine(line);
          }
        }
      });
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const what = `${ORDERS.toLocaleString('en-US')} orders, ${(ORDERS * LINES_PER_ORDER).toLocaleString('en-US')} lines in the store (filled in ${fillSeconds.toFixed(0)} s)`;
    const rows: [string, () => unknown][] = [
      ['newest 50 orders (GET /orders)', () => store.listOrders({ limit: 50 })],
      ['50 orders of a status (GET /orders?status=OPEN)', () => store.listOrders({ status: 'OPEN', limit: 50 })],
      ['50 orders of a fulfilment (GET /orders?status=DELIVERED)', () => store.listOrders({ status: 'DELIVERED', limit: 50 })],
      ['a customer\'s orders (GET /orders?customer=)', () => store.listOrders({ customer: 'C-17', limit: 50 })],
      ['an order by its channel id (GET /orders?externalId=)', () => store.listOrders({ externalId: 'shop-123456', limit: 50 })],
      ['a page deep in history (cursor at the middle)', () => store.listOrders({ limit: 50, before: { createdAt: 1_700_000_000_000 + (ORDERS / 2) * 1000, id: 'O-' } })],
      ['lines by state (gauge, every 2 s)', () => store.countLinesByState()],
    ];
    const results = rows.map(([name, fn]): BenchResult => {
      const t = timeMs(fn);
      return { name: `store with history: ${name}`, value: t.p50, unit: 'ms', note: `median of 21, worst ${t.max.toFixed(2)} ms; ${what}` };
    });
    store.close();
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  for (const r of benchStoreHistory()) console.log(JSON.stringify(r));
}
