/**
 * Concurrency (issue 3, "How it is checked"): simultaneous orders over real HTTP for a SKU with
 * a known, scarce available-to-promise must never oversell. Group commit puts many of them in one
 * transaction; each is sourced in turn against what the ones before it reserved. Exactly as many
 * lines as the stock can fill are reserved, the rest are backordered, ATP never goes negative and
 * on hand does not move (nothing is picked: no devices are attached).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderBody, startHarness, type Harness } from './support/harness.js';
import { listAllOrders, listStock, rawAtp, reservationMismatches, reservedUnits, RESERVING_STATES, sumOf, type OrderView, type StockView } from './support/orders.js';

describe('concurrent intake never oversells', () => {
  let h: Harness;
  const get = (path: string): Promise<Response> => h.api(path, { signal: AbortSignal.timeout(10_000) });
  /** AMR-zone SKUs of the demo layout without safety stock in the way, in a stable order. */
  let amrSkus: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ simulate: false });
    const stock = await listStock(get);
    amrSkus = [...new Set(stock.filter((p) => p.zone === 'amr').map((p) => p.sku))].sort();
    expect(amrSkus.length).toBeGreaterThan(10);
  });
  afterAll(async () => {
    await h?.stop();
  });

  /** Brings the SKU's total ATP to exactly `target`, all of it on one position (lines are not split). */
  async function setAtp(sku: string, target: number): Promise<StockView[]> {
    const positions = await listStock(get, sku);
    expect(positions.length, `stock positions of ${sku}`).toBeGreaterThan(0);
    for (const [i, p] of positions.entries()) {
      const delta = (i === 0 ? target : 0) - rawAtp(p);
      if (delta === 0) continue;
      const res = await h.api('/api/v1/inventory/adjustments', {
        method: 'POST',
        body: JSON.stringify({ location: p.location, sku, delta, reason: 'correction', note: 'oversell test' }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const after = await listStock(get, sku);
    expect(sumOf(after, rawAtp)).toBe(target);
    expect(sumOf(after, (p) => p.reserved)).toBe(0);
    return after;
  }

  /** Fires `count` orders for `quantity` units of `sku` at once, each with its own Idempotency-Key. */
  async function burst(sku: string, quantity: number, count: number, tag: string): Promise<{ status: number; order: OrderView }[]> {
    const run = `${tag}-${Date.now()}`;
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const key = `${run}-${String(i).padStart(3, '0')}`;
        const res = await h.api('/api/v1/orders', {
          method: 'POST',
          headers: { 'idempotency-key': key },
          body: JSON.stringify(orderBody([{ sku, quantity }], { externalId: key, customer: { id: `cust-${i}` } })),
          signal: AbortSignal.timeout(30_000),
        });
        return { status: res.status, order: (await res.json()) as OrderView };
      }),
    );
    // Visible in the test output: how long the whole burst took to be acknowledged.
    console.info(`${tag}: ${count} concurrent orders acknowledged in ${Date.now() - started} ms`);
    return results;
  }

  /** The invariants every case ends with, over all orders and all positions of the store. */
  async function expectGlobalReservationsMatchLines(): Promise<void> {
    const [orders, stock] = await Promise.all([listAllOrders(get), listStock(get)]);
    for (const p of stock) {
      expect(p.reserved, `${p.sku}@${p.location} reserved`).toBeGreaterThanOrEqual(0);
      expect(p.reserved, `${p.sku}@${p.location} reserved <= on hand`).toBeLessThanOrEqual(p.onHand);
    }
    const check = reservationMismatches(stock, orders);
    expect(check.problems).toEqual([]);
    expect(check.reservedInStock).toBe(check.reservedByLines);
  }

  it('200 one-unit orders for a SKU with 100 available: exactly 100 reserved, 100 backordered, ATP 0', async () => {
    const sku = amrSkus[4]!;
    const before = await setAtp(sku, 100);

    const results = await burst(sku, 1, 200, 'oversell-1');
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const states = results.map((r) => r.order.lines[0]!.state);
    expect(results.every((r) => r.order.lines.length === 1 && r.order.lines[0]!.sku === sku)).toBe(true);
    expect(states.filter((s) => RESERVING_STATES.includes(s))).toHaveLength(100);
    expect(states.filter((s) => s === 'BACKORDERED')).toHaveLength(100);
    expect(new Set(results.map((r) => r.order.id)).size).toBe(200);

    // What the store says now agrees with what was acknowledged.
    const ids = new Set(results.map((r) => r.order.id));
    const stored = (await listAllOrders(get)).filter((o) => ids.has(o.id));
    expect(stored).toHaveLength(200);
    const reservedLines = stored.flatMap((o) => o.lines).filter((l) => RESERVING_STATES.includes(l.state));
    expect(reservedLines).toHaveLength(100);
    expect(stored.flatMap((o) => o.lines).filter((l) => l.state === 'BACKORDERED')).toHaveLength(100);
    expect(stored.filter((o) => o.fulfilment === 'BACKORDERED')).toHaveLength(100);

    const after = await listStock(get, sku);
    expect(sumOf(after, (p) => p.reserved)).toBe(100);
    expect(sumOf(after, (p) => p.reserved)).toBe(sumOf(reservedLines, reservedUnits));
    for (const p of after) {
      expect(rawAtp(p), `${sku}@${p.location} ATP`).toBe(0);
      expect(p.atp).toBe(0);
      expect(p.onHand, `${sku}@${p.location} on hand unchanged`).toBe(before.find((b) => b.location === p.location)!.onHand);
    }
    await expectGlobalReservationsMatchLines();
  });

  it('200 two-unit orders for a SKU with 101 available: 50 reserved, 150 backordered, 1 unit of ATP left', async () => {
    const sku = amrSkus[5]!;
    const before = await setAtp(sku, 101);

    const results = await burst(sku, 2, 200, 'oversell-2');
    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const states = results.map((r) => r.order.lines[0]!.state);
    expect(states.filter((s) => RESERVING_STATES.includes(s))).toHaveLength(50);
    expect(states.filter((s) => s === 'BACKORDERED')).toHaveLength(150);

    const ids = new Set(results.map((r) => r.order.id));
    const stored = (await listAllOrders(get)).filter((o) => ids.has(o.id));
    expect(stored).toHaveLength(200);
    const reservedLines = stored.flatMap((o) => o.lines).filter((l) => RESERVING_STATES.includes(l.state));
    expect(reservedLines).toHaveLength(50);
    expect(reservedLines.every((l) => l.quantity === 2)).toBe(true);

    const after = await listStock(get, sku);
    expect(sumOf(after, (p) => p.reserved)).toBe(100);
    expect(sumOf(after, rawAtp)).toBe(1);
    for (const p of after) {
      expect(rawAtp(p), `${sku}@${p.location} ATP`).toBeGreaterThanOrEqual(0);
      expect(p.onHand, `${sku}@${p.location} on hand unchanged`).toBe(before.find((b) => b.location === p.location)!.onHand);
    }
    await expectGlobalReservationsMatchLines();
  });
});
