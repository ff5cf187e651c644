/**
 * A conveyor jam over real MQTT with the simulated demo site: what feeds the belt is paused,
 * an open exception says where, and when the jam clears the core resumes it, the exception is
 * settled and the line completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExceptionView } from '../src/app/exception-service.js';
import type { OrderView } from '../src/app/queries.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

describe('conveyor jam', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ speed: 6 });
    const amrs = h.core.layout.devices.amrs.length;
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrs || undefined, 30_000);
  });
  afterAll(async () => h?.stop());

  const device = async (id: string): Promise<{ state: string }> => (await (await h.api(`/api/v1/devices/${id}`)).json()) as { state: string };
  const jamRecord = async (conveyorId: string): Promise<ExceptionView | undefined> =>
    ((await (await h.api('/api/v1/exceptions')).json()) as { items: ExceptionView[] }).items.find((e) => e.type === 'conveyor-jam' && e.deviceId === conveyorId);

  it('pauses the AS/RS feeding the belt, then resumes it when the jam clears; the line completes', async () => {
    const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
    const sku = h.core.layout.stock.find((s) => zoneOf.get(s.location) === 'asrs' && s.onHand > 10 && (s.safetyStock ?? 0) === 0)!.sku;
    const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku, quantity: 1 }], { customer: { id: 'jam-1' } })) });
    expect(r.status).toBe(201);
    const order = (await r.json()) as OrderView;
    const lineId = order.lines[0]!.id;
    const onBelt = await waitFor('the tote on the belt', () => h.core.store.tasksOfLine(lineId).find((t) => t.kind === 'conveyor.toStation' && t.state === 'RUNNING'), 60_000, 50);
    const conveyor = h.site!.devices.conveyors.find((c) => c.device.deviceId === onBelt.deviceId)!;
    const feeders = h.core.layout.devices.asrs.filter((a) => a.ports.some((p) => p.conveyorId === onBelt.deviceId)).map((a) => a.id);
    expect(feeders.length).toBeGreaterThan(0);

    conveyor.jam();
    await waitFor('the feeders paused', async () => ((await Promise.all(feeders.map(device))).every((d) => d.state === 'paused') ? true : undefined), 15_000, 100);
    expect((await device(onBelt.deviceId!)).state).toBe('error');
    const open = await waitFor('the jam exception', () => jamRecord(onBelt.deviceId!), 5_000, 100);
    expect(open).toMatchObject({ status: 'open' });
    expect(open.actions.map((a) => a.action)).toEqual([...feeders.map((id) => `paused ${id}, which feeds ${onBelt.deviceId!}`), 'totes on the belt wait: the whole belt stopped']);
    // Nothing moves on a jammed belt.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(h.core.store.getTask(onBelt.id)?.state).toBe('RUNNING');

    conveyor.clearJam();
    const settled = await waitFor('the jam settled', async () => {
      const e = await jamRecord(onBelt.deviceId!);
      return e?.status === 'handled' ? e : undefined;
    }, 15_000, 100);
    expect(settled.actions.at(-1)?.action).toBe(`jam cleared: resumed ${feeders.join(', ')}`);
    await waitFor('the feeders running again', async () => ((await Promise.all(feeders.map(device))).every((d) => d.state !== 'paused') ? true : undefined), 15_000, 100);
    await waitFor('the line picked', async () => {
      const o = (await (await h.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
      return o.lines[0]?.state === 'PICKED' ? true : undefined;
    }, 90_000, 250);
  });
});
