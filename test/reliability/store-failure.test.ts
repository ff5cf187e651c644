/**
 * The store-write error path (issue 7, item 3): the real SQLite database of a running core is
 * capped with `PRAGMA max_page_count`, so writes fail with a genuine SQLITE_FULL, as on a full
 * disk. Intake must refuse with 503 and the retryable PW_ERR_STORE_UNAVAILABLE, write nothing
 * half (no order without its lines, no journal entry or idempotency key of a refused order,
 * stock and ATP unchanged), and take the same orders again once there is room.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/errors.js';
import { orderBody, startHarness, type Harness } from '../support/harness.js';
import { checkInvariants } from '../support/invariants.js';
import { listStock } from '../support/orders.js';

/** SQLite's default cap: effectively none. */
const NO_CAP = 1_073_741_823;
const MAX_ATTEMPTS = 400;

interface Attempt {
  key: string;
  body: Record<string, unknown>;
  status: number;
  code?: string;
  retryAfter?: string | null;
}

describe('store refuses writes (SQLITE_FULL)', () => {
  let h: Harness;
  let db: Database.Database;
  beforeAll(async () => {
    h = await startHarness({ simulate: false });
    // A second, read-only connection sees only what was committed: the ground truth on disk.
    db = new Database(h.core.store.path, { readonly: true, fileMustExist: true });
  });
  afterAll(async () => {
    db?.close();
    await h?.stop();
  });

  it('answers 503 PW_ERR_STORE_UNAVAILABLE, writes nothing half, and recovers when space is back', async () => {
    const layout = h.core.layout;
    const skus = layout.stock.filter((s) => s.onHand > 50).map((s) => s.sku);
    // Orders with many lines and long fields fill pages fast, so the cap bites within a few orders.
    const makeOrder = (n: number): Record<string, unknown> =>
      orderBody(
        skus.slice((n * 7) % (skus.length - 12), ((n * 7) % (skus.length - 12)) + 12).map((sku) => ({ sku, quantity: 1 })),
        { externalId: `full-${n}`, shipTo: { name: `Buyer ${n} ${'n'.repeat(180)}`, line1: `${n} Dock Road ${'l'.repeat(150)}`, city: 'Dortmund', postalCode: '44135', country: 'DE' } },
      );
    const post = async (key: string, body: Record<string, unknown>): Promise<Attempt> => {
      const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(body), headers: { 'idempotency-key': key } });
      const parsed = (await res.json()) as { error?: { code: string } };
      return { key, body, status: res.status, ...(parsed.error ? { code: parsed.error.code } : {}), retryAfter: res.headers.get('retry-after') };
    };
    const count = (sql: string, ...args: unknown[]): number => (db.prepare(sql).get(...args) as { n: number }).n;

    for (let n = 0; n < 3; n++) expect((await post(`key-pre-${n}`, makeOrder(1000 + n))).status).toBe(201);

    // Cap the file at its current size: free pages inside it still take a few writes, then SQLITE_FULL.
    const pages = Number(h.core.store.pragma('page_count'));
    expect(Number(h.core.store.pragma(`max_page_count = ${pages}`))).toBeLessThanOrEqual(pages + 1);
    const attempts: Attempt[] = [];
    let firstRefusal: Attempt | undefined;
    for (let n = 0; n < MAX_ATTEMPTS && !firstRefusal; n++) {
      const a = await post(`key-${n}`, makeOrder(n));
      attempts.push(a);
      if (a.status !== 201) firstRefusal = a;
    }
    expect(firstRefusal, `the cap made a write fail within ${MAX_ATTEMPTS} orders`).toBeDefined();
    expect(firstRefusal!.status).toBe(503);
    expect(firstRefusal!.code).toBe('PW_ERR_STORE_UNAVAILABLE');
    expect(ERROR_CATALOG.PW_ERR_STORE_UNAVAILABLE.retryable).toBe(true);
    expect(firstRefusal!.retryAfter, 'a 503 tells the channel when to retry').toBeTruthy();

    // While the store stays full: stock as it was, more orders and a receipt refused the same way.
    const stockBefore = await listStock((p) => h.api(p));
    const ordersOnDisk = count('SELECT count(*) AS n FROM orders');
    const eventsOnDisk = count('SELECT count(*) AS n FROM events');
    const refusedWhileFull: Attempt[] = [firstRefusal!];
    // Sent together, so they share group commits: one refused write fails its whole group.
    const together = await Promise.all(Array.from({ length: 6 }, (_, i) => post(`key-${MAX_ATTEMPTS + i}`, makeOrder(MAX_ATTEMPTS + i))));
    for (const a of together) {
      expect(a.status, `${a.key} while the store is full: ${a.code}`).toBe(503);
      expect(a.code).toBe('PW_ERR_STORE_UNAVAILABLE');
      refusedWhileFull.push(a);
      attempts.push(a);
    }
    // Refusals changed nothing: the same stock (so the same ATP), orders and journal on disk.
    expect(await listStock((p) => h.api(p))).toEqual(stockBefore);
    expect(count('SELECT count(*) AS n FROM orders')).toBe(ordersOnDisk);
    expect(count('SELECT count(*) AS n FROM events')).toBe(eventsOnDisk);
    // Other writers meet the same refusal (or fit into a page that still had room).
    const receipt = await h.api('/api/v1/inventory/receipts', {
      method: 'POST',
      body: JSON.stringify({ location: layout.stock[0]!.location, sku: layout.stock[0]!.sku, quantity: 5, reason: 'purchase-order' }),
    });
    const receiptBody = (await receipt.json()) as { error?: { code: string } };
    if (receipt.status !== 201) {
      expect(receipt.status).toBe(503);
      expect(receiptBody.error?.code).toBe('PW_ERR_STORE_UNAVAILABLE');
    }
    const accepted = attempts.filter((a) => a.status === 201);
    const refused = attempts.filter((a) => a.status === 503);

    // Nothing half-written, on disk: each refused order left no row, journal entry or key; each
    // accepted one is there with all its lines.
    for (const a of refused) {
      expect(count('SELECT count(*) AS n FROM orders WHERE external_id = ?', a.body.externalId), `refused ${a.key}`).toBe(0);
      expect(count('SELECT count(*) AS n FROM idempotency_keys WHERE key = ?', a.key), `refused ${a.key}`).toBe(0);
      expect(count("SELECT count(*) AS n FROM events WHERE type = 'order.received' AND json_extract(data, '$.idempotencyKey') = ?", a.key), `refused ${a.key}`).toBe(0);
    }
    for (const a of accepted) {
      const order = db.prepare('SELECT id FROM orders WHERE external_id = ?').get(a.body.externalId) as { id: string } | undefined;
      expect(order, `accepted ${a.key}`).toBeDefined();
      expect(count('SELECT count(*) AS n FROM order_lines WHERE order_id = ?', order!.id)).toBe((a.body.lines as unknown[]).length);
    }
    expect(count('SELECT count(*) AS n FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id)'), 'orders without lines').toBe(0);
    expect(count('SELECT count(*) AS n FROM order_lines l WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = l.order_id)'), 'lines without an order').toBe(0);
    expect(count('SELECT count(*) AS n FROM events e WHERE e.order_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = e.order_id)'), 'journal entries of orders that do not exist').toBe(0);
    expect(count("SELECT count(*) AS n FROM orders o WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.order_id = o.id AND e.type = 'order.received')"), 'orders without their journal').toBe(0);
    expect((await checkInvariants((p) => h.api(p))).problems).toEqual([]);
    expect((await fetch(`${h.baseUrl}/healthz`)).status, 'the process stays up').toBe(200);

    // Space is back: the very requests that were refused go through now, once each.
    h.core.store.pragma(`max_page_count = ${NO_CAP}`);
    for (const a of refused) {
      const again = await post(a.key, a.body);
      expect(again.status, `retry of ${a.key}: ${again.code}`).toBe(201);
      expect(count('SELECT count(*) AS n FROM orders WHERE external_id = ?', a.body.externalId)).toBe(1);
    }
    const report = await checkInvariants((p) => h.api(p));
    expect(report.problems).toEqual([]);
    expect(report.orders).toHaveLength(3 + accepted.length + refused.length);
    expect(new Set(report.orders.map((o) => o.externalId)).size, 'no duplicate orders').toBe(report.orders.length);

    console.log(
      `[store-failure] cap=${pages} pages; orders accepted before the store filled=${accepted.length}; refused with 503 PW_ERR_STORE_UNAVAILABLE=${refused.length}; ` +
        `receipt while full=${receipt.status}; after space came back all ${refused.length} retries 201; orders=${report.orders.length}, lost=0, duplicates=0, invariant problems=0`,
    );
  });
});
