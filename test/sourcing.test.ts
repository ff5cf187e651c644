/**
 * Multi-site sourcing over real HTTP and SQLite: the demo floor (Dortmund) in a network with
 * Hamburg and Munich. Each core here runs with the weights a test is about; no devices are
 * attached (sourcing and release are what we look at). Decisions are read back from the journal.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSiteLayout, parseSiteLayout, type SiteLayout } from '../src/index.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';
import { CUSTOMERS, threeSiteNetwork } from './support/network.js';
import type { OrderView } from '../src/app/queries.js';

/** SKU-0001 (48.99) is at all three sites; SKU-0002 (31.99) is sold out in Munich; SKU-0003 (79.99): only Munich has more than the floor's 139. */
const layout: SiteLayout = parseSiteLayout(
  JSON.parse(
    JSON.stringify({
      ...loadSiteLayout('demo'),
      network: threeSiteNetwork({
        hamburg: [
          { sku: 'SKU-0001', onHand: 400 },
          { sku: 'SKU-0002', onHand: 400 },
          { sku: 'SKU-0010', onHand: 50 },
        ],
        munich: [
          { sku: 'SKU-0001', onHand: 400 },
          { sku: 'SKU-0003', onHand: 400 },
          // Carried in Munich but sold out: the site can hold a line of it back for replenishment.
          { sku: 'SKU-0002', onHand: 0 },
          { sku: 'SKU-0010', onHand: 50 },
        ],
      }),
    }),
  ),
  'demo + three-site network',
);

interface Decision {
  kind: string;
  rule: string;
  lines: { lineId: string; outcome: string; site?: string; promiseDate?: number; reason?: string }[];
  chosen: { shipments: { site: string; lineIds: string[]; value: number; deliverBy: number }[]; scores: Record<string, number> } | null;
  candidates: { shipments: { site: string }[]; scores: { total: number }; rejected?: string }[];
  backorders: { site: string; lineIds: string[]; deliverBy: number }[];
}

const weights = (w: { cost: number; distance: number; time: number; co2: number }, extra: Record<string, string> = {}): Record<string, string> => ({
  PICKWIRE_SOURCING_WEIGHT_COST: String(w.cost),
  PICKWIRE_SOURCING_WEIGHT_DISTANCE: String(w.distance),
  PICKWIRE_SOURCING_WEIGHT_TIME: String(w.time),
  PICKWIRE_SOURCING_WEIGHT_CO2: String(w.co2),
  ...extra,
});

let customerSeq = 0;
async function place(h: Harness, lines: { sku: string; quantity: number }[], to: (typeof CUSTOMERS)[keyof typeof CUSTOMERS] | { postalCode: string; country: string }): Promise<OrderView> {
  // A customer per order: the risk rules (velocity, unusual value) are not what is tested here.
  const body = orderBody(lines, { customer: { id: `sourcing-${++customerSeq}` }, shipTo: { name: 'Ada Buyer', line1: '1 Dock Road', city: 'Somewhere', ...to } });
  const r = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(body), token: CHANNEL_TOKEN });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as OrderView;
}

function decisionOf(h: Harness, orderId: string): Decision {
  const events = h.core.store.orderEvents(orderId).filter((e) => e.type === 'order.sourcingDecided');
  expect(events).toHaveLength(1);
  return events[0]!.data as unknown as Decision;
}

describe('sourcing across three sites', () => {
  describe('weights favour distance', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ simulate: false, layout, env: weights({ cost: 0, distance: 1, time: 0, co2: 0 }) });
    });
    afterAll(async () => h?.stop());

    it('fills from the nearest site that has the stock, and records every candidate with its scores', async () => {
      const toMunich = await place(h, [{ sku: 'SKU-0001', quantity: 2 }], CUSTOMERS.munich);
      expect(toMunich.lines[0]).toMatchObject({ state: 'SOURCED', site: 'munich', location: 'STOCK' });
      const toHamburg = await place(h, [{ sku: 'SKU-0001', quantity: 2 }], CUSTOMERS.hamburg);
      expect(toHamburg.lines[0]).toMatchObject({ state: 'SOURCED', site: 'hamburg' });
      const toEssen = await place(h, [{ sku: 'SKU-0001', quantity: 2 }], CUSTOMERS.essen);
      expect(toEssen.lines[0]).toMatchObject({ state: 'SOURCED', site: 'demo', zone: 'amr' });

      const d = decisionOf(h, toMunich.id);
      expect(d.kind).toBe('single');
      expect(d.candidates.map((c) => c.shipments[0]?.site).sort()).toEqual(['demo', 'hamburg', 'munich']);
      expect(d.chosen?.scores).toMatchObject({ distance: 0, total: 0 });
      expect(Math.max(...d.candidates.map((c) => c.scores.total))).toBe(1);
      // The promise date a sourced line carries is its shipment's delivery.
      expect(Date.parse(toMunich.lines[0]!.promiseDate!)).toBe(d.chosen!.shipments[0]!.deliverBy);
    });

    it('keeps a site that can fill everything over a nearer split', async () => {
      // Munich is nearest but lacks SKU-0002; Hamburg has both: one shipment wins over two.
      const o = await place(h, [{ sku: 'SKU-0001', quantity: 1 }, { sku: 'SKU-0002', quantity: 1 }], CUSTOMERS.munich);
      const sites = new Set(o.lines.map((l) => l.site));
      expect(sites.size).toBe(1);
      expect(decisionOf(h, o.id).kind).toBe('single');
      expect(decisionOf(h, o.id).candidates.every((c) => c.shipments.length === 1)).toBe(true);
    });

    it('splits only when no site can fill the order', async () => {
      // 300 of SKU-0003: only Munich has that many. SKU-0002: not in Munich.
      const o = await place(h, [{ sku: 'SKU-0003', quantity: 300 }, { sku: 'SKU-0002', quantity: 2 }], CUSTOMERS.essen);
      const bySku = Object.fromEntries(o.lines.map((l) => [l.sku, l]));
      expect(bySku['SKU-0003']).toMatchObject({ state: 'SOURCED', site: 'munich' });
      expect(bySku['SKU-0002']).toMatchObject({ state: 'SOURCED', site: 'demo' });
      const d = decisionOf(h, o.id);
      expect(d.kind).toBe('split');
      expect(d.chosen?.shipments.map((s) => s.site).sort()).toEqual(['demo', 'munich']);
    });

    it('backorders with a promise date from the replenishment lead time, cut-off and transit', async () => {
      const before = Date.now();
      // More SKU-0010 than any one site holds (floor, Hamburg 50, Munich 50).
      const floor = layout.stock.filter((s) => s.sku === 'SKU-0010').reduce((m, s) => Math.max(m, s.onHand), 0);
      const o = await place(h, [{ sku: 'SKU-0010', quantity: Math.max(floor, 50) + 1 }], CUSTOMERS.essen);
      expect(o.lines[0]).toMatchObject({ state: 'BACKORDERED', site: null });
      const promise = Date.parse(o.lines[0]!.promiseDate!);
      const d = decisionOf(h, o.id);
      expect(d.kind).toBe('backorder');
      expect(d.backorders[0]?.deliverBy).toBe(promise);
      // The shortest lead time in the network is Munich's 3 days, the longest Hamburg's 7; then a
      // cut-off (within a day) and at least one day in transit.
      expect(promise - before).toBeGreaterThan(4 * 86_400_000 - 60_000);
      expect(promise - before).toBeLessThan(10 * 86_400_000);
    });

    it('marks a line UNROUTABLE when no site ships to the destination', async () => {
      const o = await place(h, [{ sku: 'SKU-0001', quantity: 1 }], { postalCode: '10001', country: 'US' });
      expect(o.lines[0]).toMatchObject({ state: 'UNROUTABLE' });
      expect(o.fulfilment).toBe('UNROUTABLE');
      const d = decisionOf(h, o.id);
      expect(d.kind).toBe('unroutable');
      expect(d.lines[0]?.reason).toMatch(/US/);
    });

    it('hands lines sourced to another site over to that site once released', async () => {
      const watcher = await mqtt.connectAsync(h.core.mqttUrl, { protocolVersion: 4, clientId: 'handover-watcher' });
      const received: Record<string, unknown>[] = [];
      watcher.on('message', (_t, payload: Buffer) => received.push(JSON.parse(payload.toString()) as Record<string, unknown>));
      await watcher.subscribeAsync('wcs/v1/hamburg/core/handover', { qos: 1 });
      try {
        const o = await place(h, [{ sku: 'SKU-0002', quantity: 1 }], CUSTOMERS.hamburg);
        expect(o.lines[0]).toMatchObject({ site: 'hamburg' });
        const msg = await waitFor('the hand-over message', () => received.find((m) => m.orderId === o.id), 10_000);
        expect(msg).toMatchObject({ type: 'line.handover', fromSite: 'demo', lineId: o.lines[0]!.id, sku: 'SKU-0002', quantity: 1 });
        const after = (await (await h.api(`/api/v1/orders/${o.id}`)).json()) as OrderView;
        expect(after.lines[0]?.state).toBe('RELEASED');
        const released = h.core.store.orderEvents(o.id).find((e) => e.type === 'line.released');
        expect(released?.data).toMatchObject({ handedOverTo: 'hamburg' });
      } finally {
        await watcher.endAsync();
      }
    });
  });

  describe('weights favour cost', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ simulate: false, layout, env: weights({ cost: 1, distance: 0, time: 0, co2: 0 }) });
    });
    afterAll(async () => h?.stop());

    it('fills from the cheapest site even when it is far away', async () => {
      // 5 units to Munich: Hamburg handles for 0.60 a unit against Munich's 2.50, which outweighs 600 km of road.
      const o = await place(h, [{ sku: 'SKU-0001', quantity: 5 }], CUSTOMERS.munich);
      expect(o.lines[0]).toMatchObject({ state: 'SOURCED', site: 'hamburg' });
      const d = decisionOf(h, o.id);
      const cost = (site: string): number => (d.candidates.find((c) => c.shipments[0]?.site === site) as unknown as { totals: { cost: number } }).totals.cost;
      expect(cost('hamburg')).toBeLessThan(cost('munich'));
      expect(cost('hamburg')).toBeLessThan(cost('demo'));
    });
  });

  describe('a value threshold per shipment', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ simulate: false, layout, env: weights({ cost: 1, distance: 1, time: 1, co2: 0 }, { PICKWIRE_MIN_SHIPMENT_VALUE: '100' }) });
    });
    afterAll(async () => h?.stop());

    it('never splits off a shipment worth less than the minimum: one line waits to ship with the rest', async () => {
      // SKU-0003 ×300 only from Munich; SKU-0002 (31.99) only from the floor or Hamburg. Shipping
      // both now means a 31.99 shipment, below 100: one site ships what it can and holds the
      // other line back for its replenishment instead.
      const o = await place(h, [{ sku: 'SKU-0003', quantity: 300 }, { sku: 'SKU-0002', quantity: 1 }], CUSTOMERS.essen);
      expect(o.lines.map((l) => l.state).sort()).toEqual(['BACKORDERED', 'SOURCED']);
      const d = decisionOf(h, o.id);
      expect(d.candidates.some((c) => c.rejected?.includes('below the minimum'))).toBe(true);
      expect(d.chosen?.shipments.filter((s) => !('backorder' in s) || !(s as { backorder?: boolean }).backorder)).toHaveLength(1);
      const held = d.lines.find((l) => l.outcome === 'backordered');
      expect(held?.reason).toMatch(/held back/);
      const sourced = o.lines.find((l) => l.state === 'SOURCED')!;
      expect(held?.site).toBe(sourced.site);
    });
  });
});
