/**
 * Cancellation end to end (issue 3 item 7) over real MQTT with the simulated site: compensations
 * run once and idempotently, devices stop the work, bins still go home, and stock is conserved:
 * for every SKU touched, on-hand summed over its positions equals before minus net picks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../src/domain/records.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

interface LineBody {
  id: string;
  sku: string;
  state: string;
  picked: number;
  location: string | null;
}
interface OrderBody {
  id: string;
  status: string;
  fulfilment: string;
  updatedAt: string;
  lines: LineBody[];
}

describe('cancellation over MQTT with the simulated site', () => {
  let h: Harness;
  let amrSkus: string[];
  let asrsSkus: string[];

  beforeAll(async () => {
    h = await startHarness({ speed: 6 });
    const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
    const ample = h.core.layout.stock.filter((s) => s.onHand - (s.safetyStock ?? 0) > 10);
    amrSkus = ample.filter((s) => zoneOf.get(s.location) === 'amr').map((s) => s.sku);
    asrsSkus = ample.filter((s) => zoneOf.get(s.location) === 'asrs').map((s) => s.sku);
    expect(amrSkus.length).toBeGreaterThanOrEqual(6);
    expect(asrsSkus.length).toBeGreaterThanOrEqual(4);
    const amrIds = h.core.layout.devices.amrs.map((a) => a.serialNumber);
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrIds.length || undefined, 30_000);
  });
  afterAll(async () => {
    await h?.stop();
  });

  // -- helpers ------------------------------------------------------------------------------

  const stock = (sku: string): { onHand: number; reserved: number; atp: number } => {
    const ps = h.core.store.stockOf(sku);
    const onHand = ps.reduce((n, p) => n + p.onHand, 0);
    const reserved = ps.reduce((n, p) => n + p.reserved, 0);
    return { onHand, reserved, atp: ps.reduce((n, p) => n + p.onHand - p.reserved - p.safetyStock, 0) };
  };

  let keySeq = 0;
  async function place(lines: { sku: string; quantity: number }[]): Promise<OrderBody> {
    const res = await h.api('/api/v1/orders', { method: 'POST', headers: { 'idempotency-key': `cancel-test-${Date.now()}-${keySeq++}` }, body: JSON.stringify(orderBody(lines)) });
    expect(res.status).toBe(201);
    return (await res.json()) as OrderBody;
  }

  async function cancel(path: string, reason = 'customer changed their mind', token?: string): Promise<{ status: number; body: unknown }> {
    const res = await h.api(`/api/v1/orders/${path}/cancel`, { method: 'POST', body: JSON.stringify({ reason }), ...(token ? { token } : {}) });
    return { status: res.status, body: await res.json() };
  }

  async function getOrder(id: string): Promise<OrderBody> {
    return (await (await h.api(`/api/v1/orders/${id}`)).json()) as OrderBody;
  }

  async function timeline(id: string): Promise<{ type: string; aggregateId: string; data: Record<string, unknown> }[]> {
    return ((await (await h.api(`/api/v1/orders/${id}/timeline`)).json()) as { events: { type: string; aggregateId: string; data: Record<string, unknown> }[] }).events;
  }

  const tasksOf = (lineId: string): TaskRecord[] => h.core.store.tasksOfLine(lineId).sort((a, b) => a.step - b.step);

  function outOfService(ids: string[], value: boolean): void {
    for (const id of ids) h.core.registry.setOutOfService(id, value);
  }
  const fixedIds = (): string[] => {
    const d = h.core.layout.devices;
    return [...d.asrs.map((a) => a.id), ...d.conveyors.map((c) => c.id), ...d.arms.map((a) => a.id)];
  };
  const amrIds = (): string[] => h.core.layout.devices.amrs.map((a) => a.serialNumber);

  // -- tests --------------------------------------------------------------------------------

  it('cancels an order before any device work: tasks canceled, reservation released, order CANCELED', async () => {
    const [amrSku] = amrSkus.splice(0, 1) as [string];
    const [asrsSku] = asrsSkus.splice(0, 1) as [string];
    const before = { amr: stock(amrSku), asrs: stock(asrsSku) };
    // Nothing can take work, so every task stays CREATED until the cancel.
    outOfService([...amrIds(), ...fixedIds()], true);
    try {
      const order = await place([{ sku: amrSku, quantity: 3 }, { sku: asrsSku, quantity: 2 }]);
      expect(order.lines.map((l) => l.state)).toEqual(['SOURCED', 'SOURCED']);
      await waitFor('both lines released', () => (order.lines.every((l) => tasksOf(l.id).length > 0) ? true : undefined), 10_000);
      expect(stock(amrSku).atp).toBe(before.amr.atp - 3);
      expect(stock(asrsSku).atp).toBe(before.asrs.atp - 2);
      const planned = order.lines.flatMap((l) => tasksOf(l.id));
      expect(planned).toHaveLength(1 + 5);
      expect(planned.every((t) => t.state === 'CREATED')).toBe(true);

      const res = await cancel(order.id, 'customer changed their mind', CHANNEL_TOKEN);
      expect(res.status).toBe(200);
      const canceled = res.body as OrderBody;
      expect(canceled.status).toBe('CANCELED');
      expect(canceled.fulfilment).toBe('CANCELED');
      expect(canceled.lines.map((l) => l.state)).toEqual(['CANCELED', 'CANCELED']);
      expect(order.lines.flatMap((l) => tasksOf(l.id)).map((t) => t.state)).toEqual(Array(6).fill('CANCELED'));
      // ATP is back to before; nothing was picked, so on-hand never moved.
      expect(stock(amrSku)).toEqual(before.amr);
      expect(stock(asrsSku)).toEqual(before.asrs);
      // No device command for tasks that never went out.
      expect(h.core.store.unsent(1000).filter((m) => m.topic.endsWith('/instantActions'))).toEqual([]);

      const events = await timeline(order.id);
      const types = events.map((e) => e.type);
      expect(types.filter((t) => t === 'task.canceled')).toHaveLength(6);
      expect(types.filter((t) => t === 'stock.reservationReleased')).toHaveLength(2);
      expect(types.filter((t) => t === 'line.canceled')).toHaveLength(2);
      expect(types.at(-1)).toBe('order.canceled');
      expect(events.find((e) => e.type === 'order.canceled')?.data).toMatchObject({ from: 'OPEN', to: 'CANCELED', reason: 'customer changed their mind' });
      expect(types).not.toContain('order.closed');

      // Nothing goes out later either: the canceled tasks are never dispatched.
      outOfService([...amrIds(), ...fixedIds()], false);
      await new Promise((r) => setTimeout(r, 1500));
      expect(order.lines.flatMap((l) => tasksOf(l.id)).every((t) => t.state === 'CANCELED')).toBe(true);
    } finally {
      outOfService([...amrIds(), ...fixedIds()], false);
    }
  });

  it('cancels an AMR line while its trip runs: the vehicle stops, becomes free and takes the next order', async () => {
    const [sku, nextSku] = amrSkus.splice(0, 2) as [string, string];
    const before = { sku: stock(sku), next: stock(nextSku) };
    const [vehicleId, ...others] = amrIds() as [string, ...string[]];
    outOfService(others, true);
    try {
      const order = await place([{ sku, quantity: 2 }]);
      const lineId = order.lines[0]?.id ?? '';
      const trip = await waitFor('the trip to run', () => tasksOf(lineId).find((t) => t.state === 'RUNNING'), 30_000, 20);
      expect(trip.deviceId).toBe(vehicleId);
      const res = await cancel(`${order.id}/lines/${lineId}`, 'out of stock at the shop');
      expect(res.status).toBe(200);
      const body = res.body as OrderBody;
      expect(body.lines[0]?.state).toBe('CANCELED');
      expect(body.status).toBe('CANCELED');
      expect(tasksOf(lineId)[0]?.state).toBe('CANCELED');
      // The cancelOrder went through the outbox to that vehicle, and it stopped.
      const sim = h.site?.devices.amrs.find((a) => a.serialNumber === vehicleId);
      expect(sim).toBeDefined();
      await waitFor('the vehicle to finish the cancel', () => sim?.vehicle.state.actionStates.some((a) => a.actionId === `${trip.id}-cancel` && a.actionStatus === 'FINISHED') || undefined, 20_000, 20);
      const vs = sim?.vehicle.state;
      // Nothing of the canceled trip is left to do. The drop failed if it had reached the vehicle;
      // orders carry a bounded horizon, so when the drop node was still beyond it, it never did.
      expect(vs?.actionStates.filter((a) => a.actionId.startsWith(trip.id) && a.actionStatus !== 'FINISHED' && a.actionStatus !== 'FAILED')).toEqual([]);
      expect(vs?.actionStates.find((a) => a.actionId === `${trip.id}-drop`)?.actionStatus ?? 'not sent').toMatch(/^(FAILED|not sent)$/);
      expect(vs?.nodeStates).toEqual([]);
      await waitFor('the vehicle to be free', () => h.core.registry.freeVehicles(Date.now()).some((v) => v.id === vehicleId) || undefined, 20_000, 50);

      // Stock: the reservation is gone and on-hand is where it was (restocked if the pick had landed).
      expect(stock(sku).reserved).toBe(before.sku.reserved);
      expect(stock(sku).onHand).toBe(before.sku.onHand);

      // The late FAILED reports for the canceled trip changed nothing.
      const after = await getOrder(order.id);
      expect(after.lines[0]?.state).toBe('CANCELED');
      const types = (await timeline(order.id)).map((e) => e.type);
      expect(types).not.toContain('task.failed');
      expect(types).not.toContain('line.returnedToSourcing');

      // The freed vehicle (the only one in service) picks the next order.
      const next = await place([{ sku: nextSku, quantity: 1 }]);
      const picked = await waitFor('the next order to be PICKED', async () => ((await getOrder(next.id)).lines[0]?.state === 'PICKED' ? true : undefined), 45_000, 100);
      expect(picked).toBe(true);
      expect(tasksOf(next.lines[0]?.id ?? '')[0]?.deviceId).toBe(vehicleId);
      expect(stock(nextSku).onHand).toBe(before.next.onHand - 1);
      expect(stock(nextSku).reserved).toBe(before.next.reserved);
    } finally {
      outOfService(others, false);
    }
  });

  it('cancels an AS/RS line after its bin was retrieved: the bin still goes home and serves the next order', async () => {
    const [sku] = asrsSkus.splice(0, 1) as [string];
    const before = stock(sku);
    const order = await place([{ sku, quantity: 1 }]);
    const lineId = order.lines[0]?.id ?? '';
    await waitFor('the bin to leave storage', () => tasksOf(lineId)[0]?.state === 'FINISHED' || undefined, 40_000, 20);
    const res = await cancel(`${order.id}/lines/${lineId}`, 'duplicate order');
    expect(res.status).toBe(200);
    expect((res.body as OrderBody).lines[0]?.state).toBe('CANCELED');
    const states = tasksOf(lineId).map((t) => `${t.kind}:${t.state}`);
    expect(states.slice(0, 3)).toEqual(['asrs.retrieve:FINISHED', 'conveyor.toStation:CANCELED', 'arm.pick:CANCELED']);
    expect(states.slice(3).map((s) => s.split(':')[1])).not.toContain('CANCELED');

    // The return steps run and the bin is stored again.
    await waitFor('the bin to be stored', () => tasksOf(lineId).slice(3).every((t) => t.state === 'FINISHED') || undefined, 45_000, 100);
    expect(tasksOf(lineId).map((t) => t.state)).toEqual(['FINISHED', 'CANCELED', 'CANCELED', 'FINISHED', 'FINISHED']);
    expect(stock(sku)).toEqual(before);

    // The bin is free again: a later order for the same bin's SKU is picked.
    const next = await place([{ sku, quantity: 1 }]);
    await waitFor('the next order to be PICKED', async () => ((await getOrder(next.id)).lines[0]?.state === 'PICKED' ? true : undefined), 45_000, 100);
    expect(stock(sku).onHand).toBe(before.onHand - 1);
    expect(stock(sku).reserved).toBe(before.reserved);
    const types = (await timeline(order.id)).map((e) => e.type);
    expect(types).not.toContain('stock.picked');
    expect(types.filter((t) => t === 'task.canceled')).toHaveLength(2);
    // A conveyor step already sent got a cancelJob, and the simulated conveyor honoured it.
    const conveyorCancel = (await timeline(order.id)).find((e) => e.type === 'task.canceled' && e.data.kind === 'conveyor.toStation');
    if (conveyorCancel?.data.command === 'cancelJob') {
      expect(h.site?.devices.conveyors.reduce((n, c) => n + c.runner.canceled, 0)).toBeGreaterThanOrEqual(1);
    } else {
      expect(conveyorCancel?.data.from).toBe('CREATED');
    }
  });

  it('lets a running retrieve finish: the crane sets the bin down and it rides home', async () => {
    const [sku] = asrsSkus.splice(0, 1) as [string];
    const before = stock(sku);
    const order = await place([{ sku, quantity: 1 }]);
    const lineId = order.lines[0]?.id ?? '';
    await waitFor('the retrieve to run', () => (tasksOf(lineId)[0]?.state === 'RUNNING' ? true : undefined), 40_000, 20);
    const res = await cancel(`${order.id}/lines/${lineId}`, 'address invalid');
    expect(res.status).toBe(200);
    expect(tasksOf(lineId).map((t) => t.state)).toEqual(['RUNNING', 'CANCELED', 'CANCELED', 'CREATED', 'CREATED']);
    await waitFor('the bin to be stored', () => tasksOf(lineId).every((t) => t.state === 'FINISHED' || t.state === 'CANCELED') || undefined, 50_000, 100);
    expect(tasksOf(lineId).map((t) => t.state)).toEqual(['FINISHED', 'CANCELED', 'CANCELED', 'FINISHED', 'FINISHED']);
    expect((await getOrder(order.id)).lines[0]?.state).toBe('CANCELED');
    expect(stock(sku)).toEqual(before);
  });

  it('cancels after PICKED: the picked goods are restocked, so on-hand is back where it was', async () => {
    const [sku] = amrSkus.splice(0, 1) as [string];
    const before = stock(sku);
    const order = await place([{ sku, quantity: 2 }]);
    const lineId = order.lines[0]?.id ?? '';
    await waitFor('the line to be PICKED', async () => ((await getOrder(order.id)).lines[0]?.state === 'PICKED' ? true : undefined), 45_000, 50);
    expect(stock(sku)).toMatchObject({ onHand: before.onHand - 2, reserved: before.reserved });
    const res = await cancel(order.id, 'fraud confirmed');
    expect(res.status).toBe(200);
    expect((res.body as OrderBody).status).toBe('CANCELED');
    expect(stock(sku)).toEqual(before);
    const events = await timeline(order.id);
    const restocked = events.filter((e) => e.type === 'stock.restocked');
    expect(restocked).toHaveLength(1);
    expect(restocked[0]?.data).toMatchObject({ lineId, quantity: 2 });
    expect(events.map((e) => e.type)).not.toContain('stock.reservationReleased');
    // Whatever the trip still reports later changes nothing.
    await new Promise((r) => setTimeout(r, 1000));
    expect(stock(sku)).toEqual(before);
    expect((await getOrder(order.id)).lines[0]?.state).toBe('CANCELED');
  });

  it('is idempotent, refuses shipped lines with 409 naming them, and 404s unknown orders and lines', async () => {
    const [amrSku] = amrSkus.splice(0, 1) as [string];
    const [asrsSku] = asrsSkus.splice(0, 1) as [string];
    const beforeAsrs = stock(asrsSku);
    outOfService([...amrIds(), ...fixedIds()], true);
    try {
      const order = await place([{ sku: amrSku, quantity: 1 }, { sku: asrsSku, quantity: 1 }]);
      const [l1, l2] = order.lines as [LineBody, LineBody];
      // The release pass runs on its own: let it release both lines first, or it may turn l1
      // RELEASED between the two cancels below and the second answer differ for that reason.
      await waitFor('both lines released', () => (order.lines.every((l) => tasksOf(l.id).length > 0) ? true : undefined), 10_000);

      // Cancel twice: the second answer is the same order, and nothing is compensated twice.
      const first = await cancel(`${order.id}/lines/${l2.id}`);
      const second = await cancel(`${order.id}/lines/${l2.id}`);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect((first.body as OrderBody).status).toBe('OPEN');
      expect(stock(asrsSku)).toEqual(beforeAsrs);
      const types = (await timeline(order.id)).map((e) => e.type);
      expect(types.filter((t) => t === 'line.canceled')).toHaveLength(1);
      expect(types.filter((t) => t === 'stock.reservationReleased')).toHaveLength(1);

      // A shipped line cannot be canceled; the whole-order cancel changes nothing then.
      const line = h.core.store.getLine(l1.id);
      if (!line) throw new Error('line vanished');
      h.core.store.updateLine(l1.id, { ...line, state: 'SHIPPED', snapshot: { ...line.snapshot, value: 'SHIPPED' } });
      const refused = await cancel(order.id);
      expect(refused.status).toBe(409);
      const err = (refused.body as { error: { code: string; message: string; details: { path: string }[] } }).error;
      expect(err.code).toBe('PW_ERR_INVALID_STATE');
      expect(err.message).toContain(l1.id);
      expect(err.details.map((d) => d.path)).toEqual([`/lines/${l1.id}`]);
      expect((await cancel(`${order.id}/lines/${l1.id}`)).status).toBe(409);
      expect((await getOrder(order.id)).status).toBe('OPEN');
      expect(tasksOf(l1.id)[0]?.state).toBe('CREATED');
      // Put the line back so its reservation is released and the SKU's books stay whole.
      h.core.store.updateLine(l1.id, line);
      expect((await cancel(`${order.id}/lines/${l1.id}`)).status).toBe(200);
      expect((await getOrder(order.id)).status).toBe('CANCELED');

      const unknownLine = await cancel(`${order.id}/lines/${order.id}-L9`);
      expect(unknownLine.status).toBe(404);
      expect((unknownLine.body as { error: { code: string } }).error.code).toBe('PW_ERR_NOT_FOUND');
      expect((await cancel('O-99999999')).status).toBe(404);
      expect((await cancel('O-99999999/lines/O-99999999-L1')).status).toBe(404);
      // A reason is required.
      const noReason = await h.api(`/api/v1/orders/${order.id}/cancel`, { method: 'POST', body: JSON.stringify({}) });
      expect(noReason.status).toBe(400);
    } finally {
      outOfService([...amrIds(), ...fixedIds()], false);
    }
  });
});
