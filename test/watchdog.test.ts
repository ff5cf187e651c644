/**
 * The execution watchdog over real MQTT with the simulated demo site: a vehicle that crashes
 * mid-trip loses the trip to another vehicle, and a trip that stops making progress is canceled
 * on its vehicle and retried elsewhere. Each leaves a handled exception; stock is conserved.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVda, vdaTopic } from '../protocols/index.js';
import type { ExceptionView } from '../src/app/exception-service.js';
import type { OrderView } from '../src/app/queries.js';
import { buildInstantActions } from '../src/domain/commands.js';
import type { TaskRecord } from '../src/domain/records.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

async function setUp(env: Record<string, string> = {}): Promise<Harness> {
  const h = await startHarness({ speed: 6, env });
  const amrs = h.core.layout.devices.amrs.length;
  await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrs || undefined, 30_000);
  return h;
}

let customer = 0;
async function placeAmrOrder(h: Harness, skip: number): Promise<{ order: OrderView; sku: string; onHandBefore: number }> {
  // Stored far from where the vehicles wait, so the trip is interrupted before its pick even
  // on a slow machine (a location next to the vehicle is picked before the test can step in).
  const { nodes } = h.core.layout.graph;
  const starts = h.core.layout.devices.amrs.map((a) => nodes.find((n) => n.id === a.startNode)!);
  const farness = (nodeId: string | undefined): number => {
    const n = nodes.find((x) => x.id === nodeId)!;
    return Math.min(...starts.map((s) => Math.abs(s.x - n.x) + Math.abs(s.y - n.y)));
  };
  const locationOf = new Map(h.core.layout.locations.map((l) => [l.id, l]));
  const candidates = h.core.layout.stock.filter((s) => locationOf.get(s.location)?.zone === 'amr' && s.onHand > 10);
  const farthest = candidates.sort((a, b) => farness(locationOf.get(b.location)!.nodeId) - farness(locationOf.get(a.location)!.nodeId));
  const sku = farthest[skip]!.sku;
  const onHandBefore = h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0);
  const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku, quantity: 2 }], { customer: { id: `wd-${++customer}` } })) });
  expect(r.status).toBe(201);
  return { order: (await r.json()) as OrderView, sku, onHandBefore };
}

/** Every trip of the line, once the last one has dropped its tote at the pack station. */
const tripsWhenDropped = (h: Harness, lineId: string): Promise<TaskRecord[]> =>
  waitFor('the tote dropped at the pack station', () => {
    const trips = h.core.store.tasksOfLine(lineId).filter((t) => t.kind === 'amr.pickTrip');
    return trips.at(-1)?.state === 'FINISHED' ? trips : undefined;
  }, 60_000, 100);

async function dispatchedTrip(h: Harness, lineId: string): Promise<TaskRecord> {
  const trip = await waitFor('the trip dispatched', () => h.core.store.tasksOfLine(lineId).find((t) => t.kind === 'amr.pickTrip' && t.state !== 'CREATED' && t.deviceId !== undefined), 20_000, 20);
  // The scenarios interrupt a trip before its pick; one with goods on board is another story.
  expect(h.core.store.getLine(lineId)?.snapshot.context.picked, 'nothing picked yet when the trip is interrupted').toBe(0);
  return trip;
}

async function pickedBy(h: Harness, orderId: string): Promise<OrderView> {
  return waitFor(
    'the line picked',
    async () => {
      const o = (await (await h.api(`/api/v1/orders/${orderId}`)).json()) as OrderView;
      return o.lines[0]?.state === 'PICKED' ? o : undefined;
    },
    90_000,
    250,
  );
}

async function exceptionOf(h: Harness, lineId: string, type: string): Promise<ExceptionView | undefined> {
  const items = ((await (await h.api('/api/v1/exceptions')).json()) as { items: ExceptionView[] }).items;
  return items.find((e) => e.lineId === lineId && e.type === type);
}

describe('execution watchdog', () => {
  describe('a vehicle crashes mid-trip', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await setUp();
    });
    afterAll(async () => h?.stop());

    it('gives the trip to another vehicle, which picks it; the record says what happened', async () => {
      const { order, sku, onHandBefore } = await placeAmrOrder(h, 0);
      const lineId = order.lines[0]!.id;
      const first = await dispatchedTrip(h, lineId);
      const crashed = h.site!.devices.amrs.find((a) => a.serialNumber === first.deviceId)!;
      // No DISCONNECT: the broker publishes the vehicle's will (CONNECTIONBROKEN).
      await crashed.stop(false);

      const done = await pickedBy(h, order.id);
      expect(done.lines[0]).toMatchObject({ picked: 2, attempts: 1 });
      const trips = await tripsWhenDropped(h, lineId);
      expect(trips.map((t) => [t.deviceId === first.deviceId, t.state])).toEqual([
        [true, 'FAILED'],
        [false, 'FINISHED'],
      ]);
      const record = await exceptionOf(h, lineId, 'device-unreachable');
      expect(record).toMatchObject({ status: 'handled', deviceId: first.deviceId, taskId: first.id });
      expect(record!.summary).toMatch(/unreachable \(connectionbroken\)/);
      expect(record!.actions.map((a) => a.action)).toEqual([expect.stringMatching(/^released the reservation of 2 at /), expect.stringMatching(/^re-sourced the remaining 2 at /)]);
      expect(h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0)).toBe(onHandBefore - 2);
    });
  });

  describe('a trip stops making progress', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await setUp({ PICKWIRE_TASK_TIMEOUT_SECONDS: '5' });
    });
    afterAll(async () => h?.stop());

    it('is canceled on its vehicle after the timeout and retried on another', async () => {
      const { order, sku, onHandBefore } = await placeAmrOrder(h, 1);
      const lineId = order.lines[0]!.id;
      const first = await dispatchedTrip(h, lineId);
      const stuck = h.core.registry.get(first.deviceId!)!;
      // Freeze the vehicle where it is, as a blocked or confused robot would stand still.
      const client = await mqtt.connectAsync(h.core.mqttUrl, { protocolVersion: 4, clientId: 'test-freezer' });
      try {
        const msg = buildInstantActions({ headerId: 1, timestamp: new Date().toISOString() }, { manufacturer: stuck.manufacturer!, serialNumber: stuck.serialNumber! }, [
          { actionId: 'freeze', actionType: 'startPause', blockingType: 'HARD' },
        ]);
        await client.publishAsync(vdaTopic({ interfaceName: h.core.config.mqttInterface, manufacturer: stuck.manufacturer!, serialNumber: stuck.serialNumber! }, 'instantActions'), Buffer.from(encodeVda('instantActions', msg)), { qos: 1 });
      } finally {
        await client.endAsync();
      }

      const done = await pickedBy(h, order.id);
      expect(done.lines[0]).toMatchObject({ picked: 2, attempts: 1 });
      const trips = await tripsWhenDropped(h, lineId);
      expect(trips[0]).toMatchObject({ id: first.id, state: 'FAILED' });
      expect(trips.at(-1)).toMatchObject({ state: 'FINISHED' });
      expect(trips.at(-1)?.deviceId).not.toBe(first.deviceId);
      const record = await exceptionOf(h, lineId, 'task-timeout');
      expect(record).toMatchObject({ status: 'handled', deviceId: first.deviceId, taskId: first.id });
      expect(record!.summary).toMatch(/no progress on .* canceled there, to be retried elsewhere/);
      // The stalled vehicle was told to drop the order.
      await waitFor('the frozen vehicle to drop its order', () => (h.core.registry.get(first.deviceId!)?.orderActive === false ? true : undefined), 20_000);
      expect(h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0)).toBe(onHandBefore - 2);
    });
  });
});
