/**
 * Batching over real MQTT with the simulated site (issue "Execution" items 1 and 4): lines of one
 * order in the AMR zone share a trip up to the batch size (one tote, several pick stops, one drop
 * at pack); each line is still picked and booked on its own; one active trip per tote; and every
 * assignment is journaled with its cost.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeVda, vdaSubscription, type VdaOrder } from '../protocols/index.js';
import type { OrderView } from '../src/app/queries.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';
import { actionsOverUpdates } from './support/vda-orders.js';

describe('batched trips', () => {
  let h: Harness;
  let spy: mqtt.MqttClient;
  const wire: VdaOrder[] = [];
  beforeAll(async () => {
    h = await startHarness({ speed: 6 });
    const amrs = h.core.layout.devices.amrs.length;
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrs || undefined, 30_000);
    spy = await mqtt.connectAsync(h.core.mqttUrl, { clientId: 'batch-spy', protocolVersion: 4 });
    spy.on('message', (_topic, payload) => wire.push(decodeVda('order', payload)));
    await spy.subscribeAsync(vdaSubscription(h.core.config.mqttInterface, 'order'), { qos: 1 });
  });
  afterAll(async () => {
    await spy?.endAsync();
    await h?.stop();
  });

  it('five lines of one order: a trip of four picks then a trip of one, never both at once; each line picked and booked', { timeout: 150_000 }, async () => {
    const { layout, store } = h.core;
    const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
    const stock = layout.stock.filter((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 10);
    const lines = stock.slice(10, 15).map((s, i) => ({ sku: s.sku, quantity: 1 + (i % 2) }));
    const onHand = (sku: string): number => store.stockOf(sku).reduce((n, p) => n + p.onHand, 0);
    const before = new Map(lines.map((l) => [l.sku, onHand(l.sku)]));
    const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody(lines, { customer: { id: 'batch-1' } })) });
    expect(r.status, await r.clone().text()).toBe(201);
    const order = (await r.json()) as OrderView;
    await waitFor('every line picked', async () => {
      const o = (await (await h.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
      return o.lines.every((l) => l.state === 'PICKED') ? o : undefined;
    }, 120_000, 250);

    // A line is PICKED at its pick; its trip is done once the tote is dropped at pack.
    const tasks = await waitFor('the totes dropped', () => {
      const all = order.lines.flatMap((l) => store.tasksOfLine(l.id)).filter((t) => t.kind === 'amr.pickTrip');
      return all.every((t) => t.state === 'FINISHED') ? all : undefined;
    }, 60_000, 100);
    expect(tasks.length).toBe(5);
    const leads = tasks.filter((t) => t.progress.tripOf === undefined);
    expect(leads.map((t) => t.progress.trip?.picks.length).sort()).toEqual([1, 4]);
    for (const t of tasks.filter((x) => x.progress.tripOf !== undefined)) {
      const lead = tasks.find((x) => x.id === t.progress.tripOf)!;
      expect(lead.progress.trip?.picks.map((p) => p.taskId)).toContain(t.id);
      expect(t.deviceId).toBe(lead.deviceId);
    }

    // On the wire: one VDA order per trip, a pick action per line and one drop. The order carries
    // a bounded horizon (through its last pick), so the drop may come with a later update.
    const trips = wire.filter((o) => o.orderUpdateId === 0 && leads.some((t) => t.id === o.orderId));
    expect(trips.length).toBe(2);
    const actionsOf = (o: VdaOrder): string[] => actionsOverUpdates(wire, o.orderId).map((a) => a.actionType);
    expect(trips.map((o) => actionsOf(o).join(',')).sort()).toEqual(['pick,drop', 'pick,pick,pick,pick,drop']);
    // Every pick already in the first order: a vehicle that cannot do one refuses the trip at once.
    expect(trips.map((o) => o.nodes.flatMap((n) => n.actions).filter((a) => a.actionType === 'pick').length).sort()).toEqual([1, 4]);

    // One tote, one trip at a time: the second was dispatched only after the first finished.
    const [first, second] = [...leads].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)).map((t) => store.aggregateEvents('task', t.id));
    const at = (events: typeof first, type: string): number => events!.find((e) => e.type === type)!.at;
    const [earlier, later] = at(first, 'task.dispatched') <= at(second, 'task.dispatched') ? [first, second] : [second, first];
    expect(at(later, 'task.dispatched')).toBeGreaterThanOrEqual(at(earlier, 'task.finished'));

    // Each line booked on its own: its own stock pick, its own quantity.
    for (const l of order.lines) {
      const picks = store.aggregateEvents('line', l.id).filter((e) => e.type === 'line.picked');
      expect(picks.length, `${l.id} picked`).toBe(1);
      expect(onHand(l.sku)).toBe(before.get(l.sku)! - l.quantity);
    }

    // Every assignment journaled with its cost and the runners-up.
    for (const lead of leads) {
      const assigned = store.aggregateEvents('task', lead.id).find((e) => e.type === 'task.assigned');
      expect(assigned?.data).toMatchObject({ deviceId: lead.deviceId, cost: { vehicleId: lead.deviceId, queue: 0 } });
      const cost = assigned!.data.cost as { travel: number; battery: number; total: number };
      expect(cost.total).toBeCloseTo(cost.travel + cost.battery, 5);
      expect(cost.travel).toBeGreaterThanOrEqual(0);
      const candidates = assigned!.data.candidates as { vehicleId: string; total: number }[];
      expect(candidates.length).toBeGreaterThan(1);
      expect(candidates.length).toBeLessThanOrEqual(3);
      expect(candidates[0]).toEqual(assigned!.data.cost);
      expect(candidates.every((c, i) => i === 0 || c.total >= candidates[i - 1]!.total)).toBe(true);
      expect((assigned!.data.batch as string[]).length).toBe(lead.progress.trip!.picks.length);
    }
  });
});
