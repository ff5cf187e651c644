/**
 * Exceptions with automatic corrective workflows, over real MQTT with the simulated demo site:
 * a short pick at an arm station (the books follow the floor, the rest is picked elsewhere) and
 * an unroutable line (an open exception an operator resolves). Stock is checked against the
 * journal: on hand moves only by picks, receipts and journaled adjustments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSiteLayout, parseSiteLayout } from '../src/index.js';
import { DEFAULT_HOME_PROFILE } from '../src/domain/network.js';
import type { ExceptionView } from '../src/app/exception-service.js';
import type { OrderView } from '../src/app/queries.js';
import { CHANNEL_TOKEN, VIEWER_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

/** The demo floor, shipping within Germany and Austria only. */
const demo = loadSiteLayout('demo');
const layout = parseSiteLayout(
  JSON.parse(
    JSON.stringify({
      ...demo,
      network: {
        sites: [
          {
            id: demo.site.id,
            name: demo.site.name,
            handlingCostPerUnit: DEFAULT_HOME_PROFILE.handlingCostPerUnit,
            capacityPerHour: DEFAULT_HOME_PROFILE.capacityPerHour,
            replenishmentDays: DEFAULT_HOME_PROFILE.replenishmentDays,
            co2GramsPerKm: DEFAULT_HOME_PROFILE.co2GramsPerKm,
            carriers: [DEFAULT_HOME_PROFILE.carrier],
            countries: ['DE', 'AT'],
          },
        ],
      },
    }),
  ),
  'demo shipping to DE and AT',
);

describe('exceptions and their corrective workflows', () => {
  let h: Harness;
  let customer = 0;
  beforeAll(async () => {
    h = await startHarness({ speed: 6, layout });
    const amrs = h.core.layout.devices.amrs.length;
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrs || undefined, 30_000);
  });
  afterAll(async () => h?.stop());

  const post = async (path: string, body: unknown, token?: string): Promise<Response> =>
    h.api(`/api/v1${path}`, { method: 'POST', body: JSON.stringify(body), ...(token ? { token } : {}) });
  const place = async (lines: { sku: string; quantity: number }[], shipTo: Record<string, unknown> = {}): Promise<OrderView> => {
    const body = orderBody(lines, { customer: { id: `exc-${++customer}` }, ...(Object.keys(shipTo).length ? { shipTo: { ...(orderBody([]).shipTo as object), ...shipTo } } : {}) });
    const r = await post('/orders', body, CHANNEL_TOKEN);
    expect(r.status, await r.clone().text()).toBe(201);
    return (await r.json()) as OrderView;
  };
  const getOrder = async (id: string): Promise<OrderView> => (await (await h.api(`/api/v1/orders/${id}`)).json()) as OrderView;
  const exceptions = async (status?: string): Promise<ExceptionView[]> =>
    ((await (await h.api(`/api/v1/exceptions${status ? `?status=${status}` : ''}`)).json()) as { items: ExceptionView[] }).items;
  const onHand = (sku: string): number => h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0);

  it('short pick at an arm: the location is corrected, the rest is picked from another location, and the record says so', async () => {
    const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
    const source = layout.stock.find((s) => zoneOf.get(s.location) === 'asrs' && s.onHand > 10 && (s.safetyStock ?? 0) === 0)!;
    const spare = layout.locations.find((l) => l.zone === 'amr' && !layout.stock.some((s) => s.location === l.id && s.sku === source.sku))!;
    // Three units in the bin as booked, five more at an AMR-zone location: only the bin can fill three.
    expect((await post('/inventory/adjustments', { location: source.location, sku: source.sku, delta: 3 - source.onHand, reason: 'count' })).status).toBe(201);
    expect((await post('/inventory/receipts', { location: spare.id, sku: source.sku, quantity: 2, reason: 'transfer' })).status).toBe(201);
    const before = onHand(source.sku);

    const order = await place([{ sku: source.sku, quantity: 3 }]);
    expect(order.lines[0]).toMatchObject({ state: 'SOURCED', location: source.location });
    const lineId = order.lines[0]!.id;
    // The arm that will pick is known once the line is released; it finds two pieces missing.
    const armTask = await waitFor('the arm step planned', () => h.core.store.tasksOfLine(lineId).find((t) => t.kind === 'arm.pick'), 10_000);
    h.site!.devices.arms.find((a) => a.device.deviceId === armTask.deviceId)!.shortNextPick(2);

    const done = await waitFor('the line picked in full', async () => ((await getOrder(order.id)).lines[0]?.state === 'PICKED' ? getOrder(order.id) : undefined), 120_000, 250);
    expect(done.lines[0]).toMatchObject({ picked: 3, location: spare.id, attempts: 1 });

    const record = (await exceptions()).find((e) => e.lineId === lineId && e.type === 'short-pick');
    expect(record).toMatchObject({ status: 'handled', orderId: order.id, deviceId: armTask.deviceId, taskId: armTask.id, detail: { shortBy: 2, location: source.location } });
    expect(record!.actions.map((a) => a.action)).toEqual([
      `released the reservation of 2 at ${source.location}`,
      `corrected on hand at ${source.location} by -2: the device found 2 fewer than booked`,
      `re-sourced the remaining 2 at ${layout.site.id}/${spare.id}`,
    ]);
    // Books: 3 picked, 2 written off by the journaled correction.
    expect(onHand(source.sku)).toBe(before - 3 - 2);
    const bin = h.core.store.stockOf(source.sku).find((p) => p.location === source.location)!;
    expect(bin).toMatchObject({ onHand: 0, reserved: 0 });
    const adjusted = h.core.store.aggregateEvents('stock', `${layout.site.id}/${source.location}/${source.sku}`).filter((e) => e.type === 'stock.adjusted');
    expect(adjusted.at(-1)?.data).toMatchObject({ delta: -2, reason: 'short-pick', lineId });
  });

  it('mispick caught by verification: the same arm picks again, nothing booked twice', async () => {
    const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
    const source = layout.stock.filter((s) => zoneOf.get(s.location) === 'asrs' && s.onHand > 10 && (s.safetyStock ?? 0) === 0)[1]!;
    const before = onHand(source.sku);
    const order = await place([{ sku: source.sku, quantity: 1 }]);
    const lineId = order.lines[0]!.id;
    const armTask = await waitFor('the arm step planned', () => h.core.store.tasksOfLine(lineId).find((t) => t.kind === 'arm.pick'), 10_000);
    h.site!.devices.arms.find((a) => a.device.deviceId === armTask.deviceId)!.mispickNext(1);

    const done = await waitFor('the line picked', async () => ((await getOrder(order.id)).lines[0]?.state === 'PICKED' ? getOrder(order.id) : undefined), 120_000, 250);
    // Picked once, at the first location, without the line going back to sourcing.
    expect(done.lines[0]).toMatchObject({ picked: 1, location: source.location, attempts: 0 });
    const picks = h.core.store.tasksOfLine(lineId).filter((t) => t.kind === 'arm.pick');
    expect(picks.map((t) => [t.state, t.attempts, t.deviceId])).toEqual([
      ['FAILED', 0, armTask.deviceId],
      ['FINISHED', 1, armTask.deviceId],
    ]);
    const record = (await exceptions()).find((e) => e.lineId === lineId && e.type === 'mispick');
    expect(record).toMatchObject({ status: 'handled', taskId: armTask.id, deviceId: armTask.deviceId });
    expect(record!.actions.map((a) => a.action)).toEqual(['nothing booked: the item went back to the source tote', `re-pick queued as ${picks[1]!.id} (attempt 2 of 3)`]);
    await waitFor('the bin home', () => (h.core.store.tasksOfLine(lineId).every((t) => t.state === 'FINISHED' || t.state === 'FAILED') ? true : undefined), 60_000, 250);
    expect(onHand(source.sku)).toBe(before - 1);
  });

  it('an unroutable line is an open exception until an operator resolves it; viewers cannot', async () => {
    const sku = layout.stock[0]!.sku;
    const order = await place([{ sku, quantity: 1 }], { country: 'US', postalCode: '10001' });
    expect(order.lines[0]?.state).toBe('UNROUTABLE');
    const open = await exceptions('open');
    const record = open.find((e) => e.orderId === order.id);
    expect(record).toMatchObject({ type: 'unroutable', status: 'open', lineId: order.lines[0]!.id });
    expect(record!.summary).toMatch(/US/);
    // Oldest first.
    expect(open.map((e) => e.createdAt)).toEqual([...open.map((e) => e.createdAt)].sort());

    expect((await post(`/exceptions/${record!.id}/resolve`, { note: 'told the customer we do not ship there' }, VIEWER_TOKEN)).status).toBe(403);
    expect((await post(`/exceptions/${record!.id}/resolve`, {})).status).toBe(400);
    expect((await post('/exceptions/E-99999999/resolve', { note: 'x' })).status).toBe(404);
    const resolved = await post(`/exceptions/${record!.id}/resolve`, { note: 'told the customer we do not ship there' });
    expect(resolved.status).toBe(200);
    expect(await resolved.json()).toMatchObject({ status: 'resolved', resolvedBy: 'admin', note: 'told the customer we do not ship there' });
    const again = await post(`/exceptions/${record!.id}/resolve`, { note: 'second time' });
    expect(await again.json()).toMatchObject({ status: 'resolved', note: 'told the customer we do not ship there' });
    expect((await exceptions('open')).some((e) => e.id === record!.id)).toBe(false);
    const journal = h.core.store.orderEvents(order.id).filter((e) => e.type.startsWith('exception.'));
    expect(journal.map((e) => [e.type, e.actor ?? null])).toEqual([
      ['exception.raised', null],
      ['exception.resolved', 'admin'],
    ]);
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/pickwire_exceptions_raised_total\{type="unroutable",status="open"\} [1-9]/);
  });
});
