/**
 * The end-to-end spine of issue 2, shared by the embedded-broker and the Mosquitto runs: an order
 * with one AMR-zone SKU and one AS/RS-zone SKU is posted over HTTP, dispatched over real MQTT to
 * simulated devices, and followed until both lines are PICKED with stock reduced exactly.
 */
import { expect } from 'vitest';
import type { Harness } from './support/harness.js';
import { orderBody, waitFor } from './support/harness.js';

interface StockItem {
  sku: string;
  location: string;
  zone: 'amr' | 'asrs';
  onHand: number;
  reserved: number;
  atp: number;
}

async function stockOf(h: Harness, sku: string): Promise<StockItem[]> {
  const res = await h.api(`/api/v1/inventory?sku=${encodeURIComponent(sku)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: StockItem[] }).items;
}

/** A well-stocked SKU stored in the AMR zone and one in the AS/RS zone of the harness's site. */
export function skusInBothZones(h: Harness): { amrSku: string; asrsSku: string } {
  const layout = h.core.layout;
  const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
  const amrSku = layout.stock.find((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 10)?.sku;
  const asrsSku = layout.stock.find((s) => zoneOf.get(s.location) === 'asrs' && s.onHand > 10)?.sku;
  expect(amrSku).toBeDefined();
  expect(asrsSku).toBeDefined();
  return { amrSku: amrSku!, asrsSku: asrsSku! };
}

export async function pickOneOrderAcrossBothZones(h: Harness): Promise<void> {
  const { amrSku, asrsSku } = skusInBothZones(h);
  const before = new Map([
    [amrSku, await stockOf(h, amrSku)],
    [asrsSku, await stockOf(h, asrsSku)],
  ]);

  const res = await h.api('/api/v1/orders', {
    method: 'POST',
    headers: { 'idempotency-key': `spine-${Date.now()}` },
    body: JSON.stringify(orderBody([{ sku: amrSku, quantity: 2 }, { sku: asrsSku, quantity: 1 }])),
  });
  expect(res.status).toBe(201);
  const order = (await res.json()) as { id: string; status: string; lines: { id: string; sku: string; state: string; zone: string }[] };
  expect(order.status).toBe('OPEN');
  expect(order.lines.map((l) => l.zone).sort()).toEqual(['amr', 'asrs']);

  const picked = await waitFor(
    'both lines PICKED',
    async () => {
      const o = (await (await h.api(`/api/v1/orders/${order.id}`)).json()) as typeof order & { fulfilment: string };
      return o.lines.every((l) => l.state === 'PICKED') ? o : undefined;
    },
    90_000,
    200,
  );
  expect(picked.fulfilment).toBe('PICKED');

  for (const [sku, qty] of [
    [amrSku, 2],
    [asrsSku, 1],
  ] as const) {
    const after = await stockOf(h, sku);
    const line = picked.lines.find((l) => l.sku === sku) as unknown as { location: string };
    const was = before.get(sku)!.find((p) => p.location === line.location)!;
    const now = after.find((p) => p.location === line.location)!;
    expect(now.onHand).toBe(was.onHand - qty);
    expect(now.reserved).toBe(was.reserved);
    const others = after.filter((p) => p.location !== line.location);
    for (const p of others) expect(p.onHand).toBe(before.get(sku)!.find((b) => b.location === p.location)!.onHand);
  }

  const timeline = (await (await h.api(`/api/v1/orders/${order.id}/timeline`)).json()) as { events: { type: string; aggregateId: string }[] };
  const types = timeline.events.map((e) => e.type);
  expect(types.slice(0, 4)).toEqual(['order.received', 'order.validated', 'order.opened', 'order.sourcingDecided']);
  for (const line of picked.lines) {
    const lineEvents = timeline.events.filter((e) => e.aggregateId === line.id).map((e) => e.type);
    expect(lineEvents).toEqual(['line.created', 'line.sourced', 'line.released', 'line.pickingStarted', 'line.picked']);
  }
  expect(types.filter((t) => t === 'stock.picked')).toHaveLength(2);
  expect(types.filter((t) => t === 'task.dispatched').length).toBeGreaterThanOrEqual(4);
}
