/**
 * Low battery over real MQTT with the simulated demo site: a vehicle whose battery drops under
 * the threshold mid-trip finishes that trip, takes no new one, and is sent to a free charger;
 * the exception record says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExceptionView } from '../src/app/exception-service.js';
import type { OrderView } from '../src/app/queries.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

describe('low battery', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ speed: 6, env: { PICKWIRE_LOW_BATTERY_PERCENT: '20' } });
    const amrs = h.core.layout.devices.amrs.length;
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrs || undefined, 30_000);
  });
  afterAll(async () => h?.stop());

  const zoneOf = (): Map<string, string> => new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
  let customer = 0;
  async function place(skip: number): Promise<OrderView> {
    const zones = zoneOf();
    const sku = h.core.layout.stock.filter((s) => zones.get(s.location) === 'amr' && s.onHand > 10)[skip]!.sku;
    const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku, quantity: 1 }], { customer: { id: `lb-${++customer}` } })) });
    expect(r.status).toBe(201);
    return (await r.json()) as OrderView;
  }

  it('finishes the current trip, then goes to a charger and takes no new trip meanwhile', { timeout: 180_000 }, async () => {
    const first = await place(0);
    const lineId = first.lines[0]!.id;
    const trip = await waitFor('the trip dispatched', () => h.core.store.tasksOfLine(lineId).find((t) => t.kind === 'amr.pickTrip' && t.deviceId !== undefined && t.state !== 'CREATED'), 20_000, 20);
    const vehicle = h.site!.devices.amrs.find((a) => a.serialNumber === trip.deviceId)!;
    vehicle.drainBattery(12);

    // The trip it has is finished by the same vehicle.
    await waitFor('the trip finished', () => (h.core.store.getTask(trip.id)?.state === 'FINISHED' ? true : undefined), 60_000, 100);
    expect(h.core.store.getTask(trip.id)?.deviceId).toBe(trip.deviceId);

    // Then it heads to a charger and charges; no new trip goes to it.
    const second = await place(1);
    await waitFor('the vehicle charging', () => (h.core.registry.get(trip.deviceId!)?.charging ? true : undefined), 60_000, 100);
    const charger = h.core.layout.chargers.find((c) => c.nodeId === h.core.registry.get(trip.deviceId!)?.lastNodeId);
    expect(charger).toBeDefined();
    const secondTrip = await waitFor('the second trip dispatched', () => h.core.store.tasksOfLine(second.lines[0]!.id).find((t) => t.kind === 'amr.pickTrip' && t.deviceId !== undefined), 20_000, 50);
    expect(secondTrip.deviceId).not.toBe(trip.deviceId);

    const items = ((await (await h.api('/api/v1/exceptions')).json()) as { items: ExceptionView[] }).items;
    const record = items.find((e) => e.type === 'low-battery' && e.deviceId === trip.deviceId);
    expect(record).toMatchObject({ status: 'handled' });
    expect(record!.actions.map((a) => a.action)).toEqual(['no new trips until charged', `sent to charger ${charger!.id} after its last task`]);
  });
});
