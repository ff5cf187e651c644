/**
 * Operator control of tasks over real HTTP and MQTT with the simulated demo site: canceling a
 * trip stops it on the vehicle, journals who did it, and the line is picked on a new trip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExceptionView } from '../src/app/exception-service.js';
import type { OrderView } from '../src/app/queries.js';
import { CHANNEL_TOKEN, VIEWER_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

describe('task control', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ speed: 6 });
    const amrs = h.core.layout.devices.amrs.length;
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrs || undefined, 30_000);
  });
  afterAll(async () => h?.stop());

  const cancel = (id: string, body: unknown, token?: string): Promise<Response> =>
    h.api(`/api/v1/tasks/${id}/cancel`, { method: 'POST', body: JSON.stringify(body), ...(token ? { token } : {}) });

  it('cancels a running trip on its vehicle; the line goes back to sourcing and is picked on a new trip', { timeout: 120_000 }, async () => {
    const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
    const sku = h.core.layout.stock.filter((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 10)[3]!.sku;
    const before = h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0);
    const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku, quantity: 1 }], { customer: { id: 'tc-1' } })) });
    const order = (await r.json()) as OrderView;
    const lineId = order.lines[0]!.id;
    const trip = await waitFor('the trip dispatched', () => h.core.store.tasksOfLine(lineId).find((t) => t.kind === 'amr.pickTrip' && t.state !== 'CREATED' && t.deviceId !== undefined), 20_000, 20);

    // The floor view shows the vehicle's reserved path: the nodes traffic control holds for it.
    const view = (await (await h.api(`/api/v1/devices/${trip.deviceId!}`)).json()) as { reservedNodes: string[]; lastNodeId: string };
    expect(view.reservedNodes.length).toBeGreaterThan(0);
    expect(view.reservedNodes.every((n) => h.core.traffic.reservedNodes(trip.deviceId!).includes(n))).toBe(true);

    expect((await cancel(trip.id, { reason: 'blocked aisle' }, VIEWER_TOKEN)).status).toBe(403);
    expect((await cancel(trip.id, {})).status).toBe(400);
    expect((await cancel('T-99999999', { reason: 'x' })).status).toBe(404);
    const res = await cancel(trip.id, { reason: 'blocked aisle' });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ id: trip.id, state: 'CANCELED' });
    expect((await cancel(trip.id, { reason: 'again' })).status).toBe(409);

    const journal = h.core.store.aggregateEvents('task', trip.id).find((e) => e.type === 'task.canceled');
    expect(journal).toMatchObject({ actor: 'admin', data: { reason: 'canceled by admin: blocked aisle' } });
    // The vehicle dropped the order.
    await waitFor('the vehicle free again', () => (h.core.registry.get(trip.deviceId!)?.orderId !== trip.id || !h.core.registry.get(trip.deviceId!)?.orderActive ? true : undefined), 20_000);

    await waitFor('the line picked on a new trip', async () => {
      const o = (await (await h.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
      return o.lines[0]?.state === 'PICKED' ? o : undefined;
    }, 90_000, 250);
    const trips = h.core.store.tasksOfLine(lineId).filter((t) => t.kind === 'amr.pickTrip');
    expect(trips.map((t) => t.state)).toEqual(['CANCELED', expect.stringMatching(/RUNNING|FINISHED/)]);
    const items = ((await (await h.api('/api/v1/exceptions')).json()) as { items: ExceptionView[] }).items;
    expect(items.find((e) => e.lineId === lineId)).toMatchObject({ type: 'task-failed', status: 'handled', taskId: trip.id });
    await waitFor('the tote dropped', () => (h.core.store.tasksOfLine(lineId).every((t) => t.state !== 'RUNNING' && t.state !== 'DISPATCHED') ? true : undefined), 60_000, 100);
    expect(h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0)).toBe(before - 1);
  });

  it('reassigns a trip to another vehicle before the pick; fixed-machine steps cannot be reassigned', { timeout: 120_000 }, async () => {
    const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
    const sku = h.core.layout.stock.filter((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 10)[4]!.sku;
    const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku, quantity: 1 }], { customer: { id: 'tc-2' } })) });
    const order = (await r.json()) as OrderView;
    const lineId = order.lines[0]!.id;
    const trip = await waitFor('the trip dispatched', () => h.core.store.tasksOfLine(lineId).find((t) => t.kind === 'amr.pickTrip' && t.state !== 'CREATED' && t.deviceId !== undefined), 20_000, 20);
    const first = trip.deviceId!;

    const res = await h.api(`/api/v1/tasks/${trip.id}/reassign`, { method: 'POST', body: JSON.stringify({ reason: 'vehicle needs a check' }) });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ id: trip.id, plan: { avoidDevices: [first] } });
    const moved = await waitFor('the trip on another vehicle', () => {
      const t = h.core.store.getTask(trip.id);
      return t?.deviceId !== undefined && t.deviceId !== first && t.state !== 'CREATED' ? t : undefined;
    }, 20_000, 20);
    expect(moved.deviceId).not.toBe(first);
    expect(h.core.store.aggregateEvents('task', trip.id).find((e) => e.type === 'task.reassigned')).toMatchObject({ actor: 'admin', data: { from: first, reason: 'vehicle needs a check' } });
    await waitFor('the trip finished', () => (h.core.store.getTask(trip.id)?.state === 'FINISHED' ? true : undefined), 90_000, 250);
    const done = (await (await h.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
    expect(done.lines[0]).toMatchObject({ state: 'PICKED', attempts: 0 });

    // A finished task cannot be reassigned, and a viewer may not try.
    expect((await h.api(`/api/v1/tasks/${trip.id}/reassign`, { method: 'POST', body: JSON.stringify({ reason: 'x' }) })).status).toBe(409);
    expect((await h.api(`/api/v1/tasks/${trip.id}/reassign`, { method: 'POST', token: VIEWER_TOKEN, body: JSON.stringify({ reason: 'x' }) })).status).toBe(403);
  });
});
