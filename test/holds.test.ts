/**
 * Risk score and holds over real HTTP and SQLite (issue 3 item 3). No devices are attached:
 * released lines stay RELEASED with CREATED tasks, which is all we look at. The threshold is
 * low so that one suspicious basket (many units of the priciest SKU, first order) is held.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_TOKEN, VIEWER_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

interface HoldBody {
  id: string;
  orderId: string;
  type: string;
  status: string;
  reason: string;
  score: number | null;
  createdAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
}
interface OrderBody {
  id: string;
  status: string;
  lines: { id: string; sku: string; quantity: number; state: string; location: string | null }[];
  holds: HoldBody[];
}

describe('risk score and holds', () => {
  let h: Harness;
  let pricey: { sku: string; location: string };
  let cheap: { sku: string; location: string };
  let customerSeq = 0;

  beforeAll(async () => {
    h = await startHarness({ simulate: false, env: { PICKWIRE_RISK_HOLD_THRESHOLD: '60' } });
    const price = new Map(h.core.layout.skus.map((s) => [s.sku, s.unitPrice ?? 0]));
    const ample = h.core.layout.stock.filter((s) => s.onHand - (s.safetyStock ?? 0) >= 40);
    const byPrice = [...ample].sort((a, b) => (price.get(b.sku) ?? 0) - (price.get(a.sku) ?? 0));
    pricey = byPrice[0]!;
    cheap = byPrice.at(-1)!;
    expect(price.get(pricey.sku)).toBeGreaterThanOrEqual(50);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const post = (path: string, body: unknown, token?: string): Promise<Response> =>
    h.api(`/api/v1${path}`, { method: 'POST', body: JSON.stringify(body), ...(token ? { token } : {}) });
  const place = async (lines: { sku: string; quantity: number }[]): Promise<OrderBody> => {
    // A new customer each time, so only this order's own basket scores.
    const res = await post('/orders', orderBody(lines, { customer: { id: `holds-cust-${customerSeq++}` } }), CHANNEL_TOKEN);
    expect(res.status).toBe(201);
    return (await res.json()) as OrderBody;
  };
  const getOrder = async (id: string): Promise<OrderBody> => (await (await h.api(`/api/v1/orders/${id}`)).json()) as OrderBody;
  const reserved = (sku: string, location: string): number => h.core.store.stockOf(sku).find((p) => p.location === location)?.reserved ?? 0;
  const suspicious = () => place([{ sku: pricey.sku, quantity: 10 }]);

  it('an ordinary order is not held and its lines are released', async () => {
    const order = await place([{ sku: cheap.sku, quantity: 1 }]);
    expect(order.holds).toEqual([]);
    expect(order.lines.map((l) => l.state)).toEqual(['SOURCED']);
    await waitFor('the release pass', async () => ((await getOrder(order.id)).lines[0]?.state === 'RELEASED' ? true : undefined), 10_000);
  });

  it('a suspicious order gets an open fraud hold: lines sourced (stock reserved), not released; GET /holds lists it', async () => {
    const before = reserved(pricey.sku, pricey.location);
    const order = await suspicious();
    expect(order.lines.map((l) => l.state)).toEqual(['SOURCED']);
    expect(order.holds).toHaveLength(1);
    const hold = order.holds[0]!;
    expect(hold).toMatchObject({ orderId: order.id, type: 'fraud', status: 'open', resolvedBy: null, resolvedAt: null });
    expect(hold.score).toBeGreaterThanOrEqual(60);
    expect(hold.reason).toMatch(/first order/);
    expect(hold.reason).toMatch(/high-value SKU/);
    expect(reserved(pricey.sku, pricey.location)).toBe(before + 10);
    expect(h.core.store.tasksOfLine(order.lines[0]!.id)).toEqual([]);

    expect((await getOrder(order.id)).holds).toEqual([hold]);
    const listed = (await (await h.api(`/api/v1/orders?customer=${encodeURIComponent(`holds-cust-${customerSeq - 1}`)}`)).json()) as { items: OrderBody[] };
    expect(listed.items.find((o) => o.id === order.id)?.holds).toEqual([hold]);
    const list = await h.api('/api/v1/holds?status=open', { token: VIEWER_TOKEN });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: HoldBody[] }).items.map((x) => x.id)).toContain(hold.id);
    const timeline = h.core.store.orderEvents(order.id).map((e) => e.type);
    expect(timeline).toContain('hold.placed');
    expect(timeline).not.toContain('line.released');
  });

  it('release: the lines go to the floor with tasks; repeating answers the same; a viewer may not', async () => {
    const order = await suspicious();
    const hold = order.holds[0]!;
    expect((await post(`/holds/${hold.id}/release`, {}, VIEWER_TOKEN)).status).toBe(403);

    const res = await post(`/holds/${hold.id}/release`, { note: 'called the customer' });
    expect(res.status).toBe(200);
    const released = (await res.json()) as HoldBody;
    expect(released).toMatchObject({ id: hold.id, status: 'released', resolvedBy: 'admin' });
    expect(released.resolvedAt).not.toBeNull();

    const after = await getOrder(order.id);
    expect(after.lines.map((l) => l.state)).toEqual(['RELEASED']);
    expect(after.holds[0]).toMatchObject({ status: 'released', resolvedBy: 'admin' });
    const tasks = (await (await h.api('/api/v1/tasks?state=CREATED')).json()) as { items: { lineId: string }[] };
    expect(tasks.items.some((t) => t.lineId === order.lines[0]!.id)).toBe(true);
    expect(h.core.store.orderEvents(order.id).map((e) => e.type)).toContain('hold.released');

    const again = await post(`/holds/${hold.id}/release`, {});
    expect(again.status).toBe(200);
    expect(((await again.json()) as HoldBody).resolvedAt).toBe(released.resolvedAt);
    expect(h.core.store.tasksOfLine(order.lines[0]!.id).length).toBe(tasks.items.filter((t) => t.lineId === order.lines[0]!.id).length);
    // A released hold cannot be rejected afterwards.
    expect((await post(`/holds/${hold.id}/reject`, { reason: 'too late' })).status).toBe(409);
  });

  it('reject: the order is canceled and its reservation given back; a rejected hold cannot be released', async () => {
    const before = reserved(pricey.sku, pricey.location);
    const order = await suspicious();
    expect(reserved(pricey.sku, pricey.location)).toBe(before + 10);
    const hold = order.holds[0]!;

    const res = await post(`/holds/${hold.id}/reject`, { reason: 'stolen card' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: hold.id, status: 'rejected', resolvedBy: 'admin' });
    const after = await getOrder(order.id);
    expect(after.status).toBe('CANCELED');
    expect(after.lines.map((l) => l.state)).toEqual(['CANCELED']);
    expect(reserved(pricey.sku, pricey.location)).toBe(before);
    const types = h.core.store.orderEvents(order.id).map((e) => e.type);
    expect(types).toContain('hold.rejected');
    expect(types).toContain('order.canceled');

    expect((await post(`/holds/${hold.id}/reject`, { reason: 'stolen card' })).status).toBe(200);
    const conflict = await post(`/holds/${hold.id}/release`, {});
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { error: { code: string } }).error.code).toBe('PW_ERR_INVALID_STATE');
    expect((await getOrder(order.id)).holds[0]?.status).toBe('rejected');

    const rejected = (await (await h.api('/api/v1/holds?status=rejected')).json()) as { items: HoldBody[] };
    expect(rejected.items.map((x) => x.id)).toContain(hold.id);
    expect((await post('/holds/H-99999999/release', {})).status).toBe(404);
  });

  it('a held order whose line was backordered stays off the floor when stock arrives', async () => {
    // A second pricey SKU: the whole position's ATP plus one, so the held line is backordered.
    const price = new Map(h.core.layout.skus.map((x) => [x.sku, x.unitPrice ?? 0]));
    const target = h.core.layout.stock.find((x) => x.sku !== pricey.sku && (price.get(x.sku) ?? 0) >= 50 && x.onHand >= 10)!;
    const atp = h.core.store.stockOf(target.sku).reduce((sum, p) => sum + p.onHand - p.reserved - p.safetyStock, 0);
    const order = await place([{ sku: target.sku, quantity: atp + 1 }]);
    expect(order.lines.map((l) => l.state)).toEqual(['BACKORDERED']);
    expect(order.holds.map((x) => x.status)).toEqual(['open']);
    const receipt = await post('/inventory/receipts', { location: target.location, sku: target.sku, quantity: atp + 5, reason: 'po' });
    expect(receipt.status).toBe(201);
    const after = await getOrder(order.id);
    expect(after.lines.map((l) => l.state)).toEqual(['SOURCED']);
    expect(h.core.store.tasksOfLine(after.lines[0]!.id)).toEqual([]);
    const released = await post(`/holds/${order.holds[0]!.id}/release`, {});
    expect(released.status).toBe(200);
    expect((await getOrder(order.id)).lines.map((l) => l.state)).toEqual(['RELEASED']);
  });
});
