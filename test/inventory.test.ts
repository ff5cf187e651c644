/**
 * Receipts, adjustments, backorders sourced on receipt, and available-to-promise, over real HTTP
 * and SQLite. No devices are attached: released lines stay RELEASED, which is all we look at.
 * Lines are SOURCED at intake and released to the floor by the release pass right after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_TOKEN, VIEWER_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

interface ErrorResponse {
  error: { code: string; message: string; details?: { path: string; problem: string }[] };
}
interface Position {
  sku: string;
  site: string;
  location: string;
  zone: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  atp: number;
}
interface StockChange extends Position {
  resourced: { lineId: string; orderId: string; quantity: number; state: string; site: string | null; location: string | null }[];
}
interface OrderView {
  id: string;
  fulfilment: string;
  lines: { id: string; sku: string; quantity: number; state: string; location: string | null; promiseDate: string | null }[];
}

describe('inventory: receipts, adjustments, backorders and availability', () => {
  let h: Harness;
  let site: string;
  /** Layout positions handed out one per test, so tests never share a SKU. */
  let spare: { sku: string; location: string; onHand: number }[];
  const take = (): { sku: string; location: string; onHand: number } => {
    const p = spare.shift();
    if (!p) throw new Error('out of test SKUs');
    return p;
  };

  beforeAll(async () => {
    h = await startHarness({ simulate: false });
    site = h.core.layout.site.id;
    spare = h.core.layout.stock.filter((s) => s.onHand >= 20 && s.onHand < 1000 && (s.safetyStock ?? 0) === 0).slice(0, 20);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const post = (path: string, body: unknown, token?: string): Promise<Response> =>
    h.api(`/api/v1${path}`, { method: 'POST', body: JSON.stringify(body), ...(token ? { token } : {}) });
  const positions = async (sku: string): Promise<Position[]> => ((await (await h.api(`/api/v1/inventory?sku=${sku}`)).json()) as { items: Position[] }).items;
  const position = async (sku: string, location: string): Promise<Position | undefined> => (await positions(sku)).find((p) => p.location === location);
  const journal = (sku: string, location: string) => h.core.store.aggregateEvents('stock', `${site}/${location}/${sku}`);
  const order = async (sku: string, quantity: number): Promise<OrderView> => {
    const r = await post('/orders', orderBody([{ sku, quantity }]), CHANNEL_TOKEN);
    expect(r.status).toBe(201);
    return (await r.json()) as OrderView;
  };
  const getOrder = async (id: string): Promise<OrderView> => (await (await h.api(`/api/v1/orders/${id}`)).json()) as OrderView;

  it('raises on hand with a receipt and journals it with actor, reason and resulting figures', async () => {
    const p = take();
    const r = await post('/inventory/receipts', { location: p.location, sku: p.sku, quantity: 7, reason: 'purchase-order', reference: 'PO-4711' });
    expect(r.status).toBe(201);
    const body = (await r.json()) as StockChange;
    expect(body).toMatchObject({ sku: p.sku, site, location: p.location, onHand: p.onHand + 7, reserved: 0, atp: p.onHand + 7, resourced: [] });
    expect(await position(p.sku, p.location)).toMatchObject({ onHand: p.onHand + 7 });
    const received = journal(p.sku, p.location).filter((e) => e.type === 'stock.received');
    expect(received).toHaveLength(2); // the opening stock from the layout, then this receipt
    expect(received[1]).toMatchObject({
      actor: 'admin',
      data: { sku: p.sku, quantity: 7, reason: 'purchase-order', reference: 'PO-4711', onHand: p.onHand + 7, reserved: 0, atp: p.onHand + 7, positionCreated: false },
    });
  });

  it('creates the stock position on a first receipt at a layout location, with the zone from the layout', async () => {
    const a = take();
    const b = take();
    const zone = h.core.layout.locations.find((l) => l.id === b.location)?.zone;
    const r = await post('/inventory/receipts', { site, location: b.location, sku: a.sku, quantity: 3, reason: 'transfer' });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ sku: a.sku, location: b.location, zone, onHand: 3, reserved: 0, atp: 3 });
    expect((await positions(a.sku)).map((x) => x.location).sort()).toEqual([a.location, b.location].sort());
    expect(journal(a.sku, b.location)).toMatchObject([{ type: 'stock.received', data: { positionCreated: true, onHand: 3 } }]);
  });

  it('refuses an adjustment below reserved with 409 and changes nothing; a valid one is journaled', async () => {
    const p = take();
    const o = await order(p.sku, 5);
    expect(o.lines[0]?.state).toBe('SOURCED');
    const before = await position(p.sku, p.location);
    expect(before).toMatchObject({ onHand: p.onHand, reserved: 5 });
    const events = journal(p.sku, p.location).length;

    const refused = await post('/inventory/adjustments', { location: p.location, sku: p.sku, delta: -(p.onHand - 5 + 1), reason: 'count' });
    expect(refused.status).toBe(409);
    const e = (await refused.json()) as ErrorResponse;
    expect(e.error.code).toBe('PW_ERR_INVALID_STATE');
    expect(e.error.details?.map((d) => d.path)).toEqual(['/delta']);
    expect(await position(p.sku, p.location)).toEqual(before);
    expect(journal(p.sku, p.location)).toHaveLength(events);

    const ok = await post('/inventory/adjustments', { location: p.location, sku: p.sku, delta: -(p.onHand - 5), reason: 'damage', note: 'forklift' });
    expect(ok.status).toBe(201);
    expect(await ok.json()).toMatchObject({ onHand: 5, reserved: 5, atp: 0, resourced: [] });
    expect(journal(p.sku, p.location).at(-1)).toMatchObject({
      type: 'stock.adjusted',
      actor: 'admin',
      data: { delta: -(p.onHand - 5), reason: 'damage', note: 'forklift', onHandBefore: p.onHand, onHand: 5, reserved: 5, atp: 0 },
    });

    for (const bad of [{ delta: 0, reason: 'count' }, { delta: 1, reason: 'theft' }]) {
      const r = await post('/inventory/adjustments', { location: p.location, sku: p.sku, ...bad });
      expect(r.status).toBe(400);
      expect(((await r.json()) as ErrorResponse).error.code).toBe('PW_ERR_VALIDATION');
    }
    expect(await position(p.sku, p.location)).toMatchObject({ onHand: 5, reserved: 5 });
  });

  it('answers unknown SKUs, locations and sites with 422 naming the paths', async () => {
    const p = spare[0]!;
    const cases: [Record<string, unknown>, string[]][] = [
      [{ location: p.location, sku: 'NO-SUCH-SKU' }, ['/sku']],
      [{ location: 'NO-SUCH-LOC', sku: p.sku }, ['/location']],
      [{ site: 'elsewhere', location: p.location, sku: p.sku }, ['/site']],
      [{ location: 'NO-SUCH-LOC', sku: 'NO-SUCH-SKU' }, ['/sku', '/location']],
    ];
    for (const [ref, paths] of cases) {
      for (const [path, body] of [
        ['/inventory/receipts', { ...ref, quantity: 1, reason: 'po' }],
        ['/inventory/adjustments', { ...ref, delta: 1, reason: 'found' }],
      ] as const) {
        const r = await post(path, body);
        expect(r.status, `${path} ${JSON.stringify(ref)}`).toBe(422);
        const e = (await r.json()) as ErrorResponse;
        expect(e.error.code).toBe(paths.includes('/sku') ? 'PW_ERR_UNKNOWN_SKU' : 'PW_ERR_UNKNOWN_REFERENCE');
        expect(e.error.details?.map((d) => d.path)).toEqual(paths);
      }
    }
    expect(await position(p.sku, p.location)).toMatchObject({ onHand: p.onHand });
  });

  it('lets only operators and admins move stock (viewer and channel get 403)', async () => {
    const p = spare[0]!;
    for (const token of [VIEWER_TOKEN, CHANNEL_TOKEN]) {
      const r = await post('/inventory/receipts', { location: p.location, sku: p.sku, quantity: 1, reason: 'po' }, token);
      expect(r.status).toBe(403);
      expect(((await r.json()) as ErrorResponse).error.code).toBe('PW_ERR_FORBIDDEN');
      expect((await post('/inventory/adjustments', { location: p.location, sku: p.sku, delta: 1, reason: 'found' }, token)).status).toBe(403);
    }
    expect(await position(p.sku, p.location)).toMatchObject({ onHand: p.onHand });
  });

  it('sources a backordered line automatically when a receipt brings the stock', async () => {
    const p = take();
    const o = await order(p.sku, p.onHand + 4);
    expect(o.lines[0]).toMatchObject({ state: 'BACKORDERED' });
    expect(o.lines[0]?.promiseDate).not.toBeNull();

    const r = await post('/inventory/receipts', { location: p.location, sku: p.sku, quantity: 4, reason: 'purchase-order' });
    expect(r.status).toBe(201);
    const body = (await r.json()) as StockChange;
    expect(body.resourced).toEqual([{ lineId: o.lines[0]?.id, orderId: o.id, quantity: p.onHand + 4, state: 'SOURCED', site, location: p.location }]);
    expect(body).toMatchObject({ onHand: p.onHand + 4, reserved: p.onHand + 4, atp: 0 });

    // Sourced again, the line goes to the floor with the next release pass; its promise is now a shipment's.
    const after = await waitFor('the line released', async () => {
      const v = await getOrder(o.id);
      return v.lines[0]?.state === 'RELEASED' ? v : undefined;
    });
    expect(after.lines[0]).toMatchObject({ location: p.location });
    expect(Date.parse(after.lines[0]!.promiseDate!)).toBeLessThan(Date.parse(o.lines[0]!.promiseDate!));
    const timeline = ((await (await h.api(`/api/v1/orders/${o.id}/timeline`)).json()) as { events: { type: string }[] }).events.map((e) => e.type);
    expect(timeline).toEqual(expect.arrayContaining(['line.backordered', 'stock.reserved', 'line.sourced', 'line.released']));
  });

  it('gives scarce stock to the backorder with the older promise date, and a positive adjustment sources the next', async () => {
    const p = take();
    const older = await order(p.sku, p.onHand + 1);
    const newer = await order(p.sku, p.onHand + 1);
    expect([older.lines[0]?.state, newer.lines[0]?.state]).toEqual(['BACKORDERED', 'BACKORDERED']);

    const r = await post('/inventory/receipts', { location: p.location, sku: p.sku, quantity: 1, reason: 'purchase-order' });
    const body = (await r.json()) as StockChange;
    expect(body.resourced.map((l) => l.orderId)).toEqual([older.id]);
    expect(['SOURCED', 'RELEASED']).toContain((await getOrder(older.id)).lines[0]?.state);
    expect((await getOrder(newer.id)).lines[0]?.state).toBe('BACKORDERED');

    // Not enough for the newer one yet: it stays backordered and nothing is reserved for it.
    const small = (await (await post('/inventory/adjustments', { location: p.location, sku: p.sku, delta: p.onHand, reason: 'found' })).json()) as StockChange;
    expect(small.resourced).toEqual([]);
    expect((await getOrder(newer.id)).lines[0]?.state).toBe('BACKORDERED');

    const found = (await (await post('/inventory/adjustments', { location: p.location, sku: p.sku, delta: 1, reason: 'found' })).json()) as StockChange;
    expect(found.resourced.map((l) => l.orderId)).toEqual([newer.id]);
    expect(found).toMatchObject({ onHand: 2 * (p.onHand + 1), reserved: 2 * (p.onHand + 1), atp: 0 });
    expect(['SOURCED', 'RELEASED']).toContain((await getOrder(newer.id)).lines[0]?.state);
  });

  it('answers availability per site with ATP and the earliest promise date', async () => {
    const p = take();
    const inStock = await h.api(`/api/v1/availability?sku=${p.sku}&quantity=2&postalCode=44135`, { token: CHANNEL_TOKEN });
    expect(inStock.status).toBe(200);
    const a = (await inStock.json()) as {
      sku: string;
      quantity: number;
      postalCode: string;
      sites: { site: string; home: boolean; atp: number; maxFillable: number; canFill: boolean; promise: string; shipsAt: string; promiseDate: string; carrier: string }[];
      earliest: { site: string; promiseDate: string; promise: string };
    };
    // The demo layout describes no network: this site alone, with the default road carrier.
    expect(a).toMatchObject({ sku: p.sku, quantity: 2, postalCode: '44135' });
    expect(a.sites).toHaveLength(1);
    expect(a.sites[0]).toMatchObject({ site, home: true, atp: p.onHand, maxFillable: p.onHand, canFill: true, promise: 'in-stock', carrier: 'road' });
    expect(a.earliest).toMatchObject({ site, promise: 'in-stock', promiseDate: a.sites[0]!.promiseDate });
    // Ships at the next 16:00 cut-off (UTC), arrives a day or more later.
    const ships = Date.parse(a.sites[0]!.shipsAt);
    expect(new Date(ships).toISOString().slice(11, 16)).toBe('16:00');
    expect(ships - Date.now()).toBeLessThanOrEqual(86_400_000);
    expect(Date.parse(a.earliest.promiseDate) - ships).toBeGreaterThanOrEqual(86_400_000);

    const short = (await (await h.api(`/api/v1/availability?sku=${p.sku}&quantity=${p.onHand + 1}`, { token: VIEWER_TOKEN })).json()) as typeof a;
    expect(short.sites[0]).toMatchObject({ canFill: false, promise: 'backorder' });
    expect(short.postalCode).toBeNull();
    // Short: after the 7-day default replenishment lead time.
    expect(Date.parse(short.earliest.promiseDate) - Date.now()).toBeGreaterThan(7 * 86_400_000);

    const unknown = await h.api('/api/v1/availability?sku=NO-SUCH-SKU&quantity=1');
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as ErrorResponse).error.details?.map((d) => d.path)).toEqual(['/sku']);
    expect((await h.api(`/api/v1/availability?sku=${p.sku}&quantity=0`)).status).toBe(400);
  });

  it('documents the new routes in the OpenAPI spec', async () => {
    const spec = (await (await fetch(`${h.baseUrl}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/inventory/receipts', '/api/v1/inventory/adjustments', '/api/v1/availability']));
  });
});
