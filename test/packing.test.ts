/**
 * Packing and shipping end to end (issue 4 item 1) over real MQTT with the simulated demo site:
 * an order with an AMR-zone line and an AS/RS-zone line is packed only once both totes are at the
 * pack station, its pack deadline survives a core restart, and the shipment is confirmed shipped
 * and delivered over HTTP, all journaled on the order's timeline. A second order shows that a
 * PACKED line can still be canceled before it ships, and that its parcel follows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { orderBody, startHarness, VIEWER_TOKEN, waitFor, type Harness } from './support/harness.js';
import { skusInBothZones } from './spine.js';

interface OrderView {
  id: string;
  status: string;
  fulfilment: string;
  lines: { id: string; sku: string; quantity: number; state: string; location: string; zone: string }[];
}

interface Shipment {
  id: string;
  orderId: string;
  status: string;
  lineIds: string[];
  units: number;
  carrier: string | null;
  stationId: string;
  packStartedAt: string;
  packDueAt: string;
  packedAt: string | null;
  shipDueAt: string | null;
  shippedBy: string | null;
  trackingNumber: string | null;
  deliveredBy: string | null;
}

interface TimelineEvent {
  seq: number;
  at: string;
  type: string;
  aggregateId: string;
  actor: string | null;
  data: Record<string, unknown>;
}

/** Packing takes PACK_BASE_SECONDS + 0.5 s per unit: long enough to restart the core in the middle. */
const PACK_BASE_SECONDS = 8;
const env = (base: number): Record<string, string> => ({
  PICKWIRE_PACK_BASE_SECONDS: String(base),
  PICKWIRE_PACK_SECONDS_PER_UNIT: '0.5',
  // Shipping is confirmed over HTTP here; the cut-off path is covered by the unit tests' arithmetic.
  PICKWIRE_SHIP_AT_CARRIER_CUTOFF: 'false',
});

async function submit(h: Harness, key: string, lines: { sku: string; quantity: number }[]): Promise<OrderView> {
  const res = await h.api('/api/v1/orders', { method: 'POST', headers: { 'idempotency-key': `${key}-${Date.now()}` }, body: JSON.stringify(orderBody(lines)) });
  expect(res.status).toBe(201);
  return (await res.json()) as OrderView;
}

const getOrder = async (h: Harness, id: string): Promise<OrderView> => (await (await h.api(`/api/v1/orders/${id}`)).json()) as OrderView;
const shipmentsOf = async (h: Harness, orderId: string): Promise<Shipment[]> => {
  const res = await h.api(`/api/v1/shipments?orderId=${orderId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Shipment[] }).items;
};
const timeline = async (h: Harness, orderId: string): Promise<TimelineEvent[]> =>
  ((await (await h.api(`/api/v1/orders/${orderId}/timeline`)).json()) as { events: TimelineEvent[] }).events;
const post = (h: Harness, path: string, body?: unknown, token?: string) =>
  h.api(path, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }), ...(token ? { token } : {}) });

describe('an order with totes from both zones is packed at the pack station, shipped and delivered', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-packing-'));
  const harnesses: Harness[] = [];
  afterAll(async () => {
    for (const h of harnesses.reverse()) await h.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('packs only after both totes arrived, keeps the pack deadline over a restart, then ships and delivers', async () => {
    const h1 = await startHarness({ speed: 6, dataDir, env: env(PACK_BASE_SECONDS) });
    harnesses.push(h1);
    const { amrSku, asrsSku } = skusInBothZones(h1);
    const order = await submit(h1, 'pack', [
      { sku: amrSku, quantity: 2 },
      { sku: asrsSku, quantity: 1 },
    ]);

    // The shipment appears (PACKING) once the second tote is there.
    const [packing] = await waitFor('the shipment to start packing', async () => {
      const s = await shipmentsOf(h1, order.id);
      return s.length > 0 ? s : undefined;
    }, 90_000, 100);
    expect(packing?.status).toBe('PACKING');
    expect([...(packing?.lineIds ?? [])].sort()).toEqual(order.lines.map((l) => l.id).sort());
    expect(packing?.units).toBe(3);
    expect(packing?.stationId).toBe('pack-1');
    expect(packing?.carrier).toBe('road');
    expect(Date.parse(packing!.packDueAt) - Date.parse(packing!.packStartedAt)).toBe((PACK_BASE_SECONDS + 3 * 0.5) * 1000);

    const before = await timeline(h1, order.id);
    const arrivals = before.filter((e) => e.type === 'order.toteAtPack');
    expect(arrivals.map((e) => e.data.lineId).sort()).toEqual(order.lines.map((l) => l.id).sort());
    const started = before.find((e) => e.type === 'shipment.packingStarted');
    // Packing started with (not before) the later tote, and no line was packed before it.
    expect(started!.seq).toBeGreaterThan(Math.max(...arrivals.map((e) => e.seq)));
    expect(before.some((e) => e.type === 'line.packed')).toBe(false);
    const asrsArrival = arrivals.find((e) => e.data.lineId === order.lines.find((l) => l.zone === 'asrs')?.id);
    expect(String(asrsArrival?.data.via)).toMatch(/^arm-station /);
    expect((await getOrder(h1, order.id)).lines.every((l) => l.state === 'PICKED')).toBe(true);

    // The core goes down while the parcel is being packed; the deadline is in the store.
    await h1.stop();
    harnesses.pop();
    const restartedAt = Date.now();
    const h2 = await startHarness({ simulate: false, dataDir, env: env(PACK_BASE_SECONDS) });
    harnesses.push(h2);

    const packed = await waitFor('the restarted core to finish packing', async () => {
      const [s] = await shipmentsOf(h2, order.id);
      return s?.status === 'PACKED' ? s : undefined;
    }, 30_000, 100);
    expect(packed.packedAt).toBe(packed.packDueAt);
    expect(packed.shipDueAt).not.toBeNull();
    const afterPack = await timeline(h2, order.id);
    const packedEvent = afterPack.find((e) => e.type === 'shipment.packed');
    expect(Date.parse(packedEvent!.at)).toBeGreaterThanOrEqual(restartedAt);
    const o = await getOrder(h2, order.id);
    expect(o.lines.map((l) => l.state)).toEqual(['PACKED', 'PACKED']);
    expect(o.fulfilment).toBe('PACKED');

    // Confirming delivery before it shipped is a wrong state; a viewer may not confirm at all.
    const early = await post(h2, `/api/v1/shipments/${packed.id}/deliver`);
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('PW_ERR_INVALID_STATE');
    expect((await post(h2, `/api/v1/shipments/${packed.id}/ship`, {}, VIEWER_TOKEN)).status).toBe(403);
    expect((await post(h2, '/api/v1/shipments/SH-99999999/ship', {})).status).toBe(404);

    const shipped = await post(h2, `/api/v1/shipments/${packed.id}/ship`, { trackingNumber: 'RD-123' });
    expect(shipped.status).toBe(200);
    expect(await shipped.json()).toMatchObject({ status: 'SHIPPED', shippedBy: 'admin', trackingNumber: 'RD-123' });
    // Idempotent: the same confirmation again answers the shipment as it is.
    const again = await post(h2, `/api/v1/shipments/${packed.id}/ship`, {});
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'SHIPPED', trackingNumber: 'RD-123' });
    expect((await getOrder(h2, order.id)).fulfilment).toBe('SHIPPED');
    // Shipped goods can no longer be canceled.
    expect((await post(h2, `/api/v1/orders/${order.id}/cancel`, { reason: 'too late' })).status).toBe(409);

    const delivered = await post(h2, `/api/v1/shipments/${packed.id}/deliver`);
    expect(delivered.status).toBe(200);
    expect(await delivered.json()).toMatchObject({ status: 'DELIVERED', deliveredBy: 'admin' });
    expect((await post(h2, `/api/v1/shipments/${packed.id}/deliver`)).status).toBe(200);
    const done = await getOrder(h2, order.id);
    expect(done.status).toBe('CLOSED');
    expect(done.fulfilment).toBe('DELIVERED');

    const events = await timeline(h2, order.id);
    for (const line of order.lines) {
      // Line transitions only: a loaded floor may add a handled exception (a retried step) on the way.
      const lineEvents = events.filter((e) => e.aggregateId === line.id && e.type.startsWith('line.'));
      expect(lineEvents.map((e) => e.type)).toEqual(['line.created', 'line.sourced', 'line.released', 'line.pickingStarted', 'line.picked', 'line.packed', 'line.shipped', 'line.delivered']);
      expect(lineEvents.find((e) => e.type === 'line.shipped')?.actor).toBe('admin');
      expect(lineEvents.find((e) => e.type === 'line.delivered')?.actor).toBe('admin');
      expect(lineEvents.find((e) => e.type === 'line.packed')?.data.shipmentId).toBe(packed.id);
    }
    expect(events.filter((e) => e.aggregateId === packed.id).map((e) => e.type)).toEqual(['shipment.packingStarted', 'shipment.packed', 'shipment.shipped', 'shipment.delivered']);
    const closed = events.find((e) => e.type === 'order.closed');
    expect(closed!.seq).toBeGreaterThan(Math.max(...events.filter((e) => e.type === 'line.delivered').map((e) => e.seq)));
  }, 150_000);
});

describe('a packed line canceled before it ships', () => {
  let h: Harness;
  afterAll(async () => {
    await h?.stop();
  });

  it('restocks its goods and leaves the parcel; the parcel is canceled with its last line', async () => {
    h = await startHarness({ speed: 6, env: env(0.2) });
    const { amrSku, asrsSku } = skusInBothZones(h);
    const order = await submit(h, 'pack-cancel', [
      { sku: amrSku, quantity: 1 },
      { sku: asrsSku, quantity: 2 },
    ]);
    const packed = await waitFor('the shipment to be PACKED', async () => {
      const [s] = await shipmentsOf(h, order.id);
      return s?.status === 'PACKED' ? s : undefined;
    }, 90_000, 100);
    const amrLine = order.lines.find((l) => l.zone === 'amr')!;
    const asrsLine = order.lines.find((l) => l.zone === 'asrs')!;
    const stockAt = async (sku: string, location: string) =>
      ((await (await h.api(`/api/v1/inventory?sku=${sku}`)).json()) as { items: { location: string; onHand: number; reserved: number }[] }).items.find((p) => p.location === location)!;
    const asrsBefore = await stockAt(asrsSku, asrsLine.location);

    const res = await post(h, `/api/v1/orders/${order.id}/lines/${asrsLine.id}/cancel`, { reason: 'customer changed their mind' });
    expect(res.status).toBe(200);
    const [after] = await shipmentsOf(h, order.id);
    expect(after).toMatchObject({ id: packed.id, status: 'PACKED', lineIds: [amrLine.id], units: 1 });
    const asrsAfter = await stockAt(asrsSku, asrsLine.location);
    expect(asrsAfter.onHand).toBe(asrsBefore.onHand + 2);
    expect(asrsAfter.reserved).toBe(asrsBefore.reserved);

    expect((await post(h, `/api/v1/orders/${order.id}/lines/${amrLine.id}/cancel`, { reason: 'all of it' })).status).toBe(200);
    const [gone] = await shipmentsOf(h, order.id);
    expect(gone?.status).toBe('CANCELED');
    const refused = await post(h, `/api/v1/shipments/${packed.id}/ship`, {});
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('PW_ERR_INVALID_STATE');
    const o = await getOrder(h, order.id);
    expect(o.status).toBe('CANCELED');
    const events = await timeline(h, order.id);
    expect(events.filter((e) => e.aggregateId === packed.id).map((e) => e.type)).toEqual(['shipment.packingStarted', 'shipment.packed', 'shipment.linesRemoved', 'shipment.canceled']);
    expect(events.find((e) => e.type === 'shipment.canceled')?.actor).toBe('admin');
  }, 120_000);
});
