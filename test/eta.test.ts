/**
 * Live ETAs over real MQTT with the simulated demo site (DESIGN §6): an order's ETA is there as
 * soon as it is placed, a vehicle that stops mid-trip moves the ETA later as time passes — in
 * `GET /orders/:id` and as `order.eta` events on the live stream — and once the vehicle goes on
 * and drops the tote at the pack station, the ETA settles on that moment.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeVda, vdaTopic } from '../protocols/index.js';
import type { EtaView } from '../src/app/eta-service.js';
import type { OrderView } from '../src/app/queries.js';
import { buildInstantActions } from '../src/domain/commands.js';
import type { TaskRecord } from '../src/domain/records.js';
import type { LiveEvent } from '../src/ports.js';
import { CHANNEL_TOKEN, orderBody, startHarness, VIEWER_TOKEN, waitFor, type Harness } from './support/harness.js';

interface Frame {
  type: 'snapshot' | 'delta';
  events?: LiveEvent[];
}

/** A stream client that keeps every `order.eta` event it gets. */
function streamClient(h: Harness): { etas: LiveEvent[]; opened: Promise<void>; close: () => void } {
  const ws = new WebSocket(`${h.baseUrl.replace(/^http/, 'ws')}/api/v1/stream?token=${VIEWER_TOKEN}`);
  const etas: LiveEvent[] = [];
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as Frame;
      if (frame.type === 'snapshot') resolve();
      for (const e of frame.events ?? []) if (e.type === 'order.eta') etas.push(e);
    });
  });
  return { etas, opened, close: () => ws.terminate() };
}

const ms = (iso: string | null | undefined): number => (iso ? Date.parse(iso) : NaN);

async function etaOf(h: Harness, orderId: string): Promise<EtaView> {
  const r = await h.api(`/api/v1/orders/${orderId}`);
  expect(r.status).toBe(200);
  const o = (await r.json()) as OrderView;
  expect(o.eta).not.toBeNull();
  return o.eta!;
}

async function sendInstantAction(h: Harness, deviceId: string, actionType: 'startPause' | 'stopPause'): Promise<void> {
  const v = h.core.registry.get(deviceId)!;
  const client = await mqtt.connectAsync(h.core.mqttUrl, { protocolVersion: 4, clientId: `test-eta-${actionType}` });
  try {
    const msg = buildInstantActions({ headerId: Date.now(), timestamp: new Date().toISOString() }, { manufacturer: v.manufacturer!, serialNumber: v.serialNumber! }, [
      { actionId: `${actionType}-${Date.now()}`, actionType, blockingType: 'HARD' },
    ]);
    const topic = vdaTopic({ interfaceName: h.core.config.mqttInterface, manufacturer: v.manufacturer!, serialNumber: v.serialNumber! }, 'instantActions');
    await client.publishAsync(topic, Buffer.from(encodeVda('instantActions', msg)), { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

describe('ETAs over MQTT with the simulated site', () => {
  let h: Harness;
  beforeAll(async () => {
    // Packing as configured here (10 min + 5 s per unit), so the ETA visibly takes the configured pack time.
    h = await startHarness({ speed: 5, env: { PICKWIRE_PACK_BASE_SECONDS: '600', PICKWIRE_PACK_SECONDS_PER_UNIT: '5' } });
    const amrs = h.core.layout.devices.amrs.length;
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === amrs || undefined, 30_000);
  });
  afterAll(async () => h?.stop());

  it('a vehicle that stops mid-trip moves the order’s ETA later, and the stream carries the change', async () => {
    const stream = streamClient(h);
    try {
      await stream.opened;
      const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
      const sku = h.core.layout.stock.find((s) => zoneOf.get(s.location) === 'amr' && s.onHand - (s.safetyStock ?? 0) > 10)!.sku;
      const placedAt = Date.now();
      const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku, quantity: 2 }], { customer: { id: 'eta-1' } })) });
      expect(r.status).toBe(201);
      const order = (await r.json()) as OrderView;
      const lineId = order.lines[0]!.id;

      // An ETA from the moment the order exists: picked, then packed, then the carrier's departure, then delivery.
      const placed = await etaOf(h, order.id);
      expect(ms(placed.pickedBy)).toBeGreaterThan(placedAt);
      expect(ms(placed.packedBy)).toBeGreaterThan(ms(placed.pickedBy));
      expect(ms(placed.shipsAt)).toBeGreaterThanOrEqual(ms(placed.packedBy));
      expect(ms(placed.deliversBy)).toBeGreaterThan(ms(placed.shipsAt));
      expect(placed.lines).toEqual([{ id: lineId, pickedBy: placed.pickedBy }]);

      const trip = await waitFor('the trip dispatched', () => h.core.store.tasksOfLine(lineId).find((t: TaskRecord) => t.kind === 'amr.pickTrip' && t.state !== 'CREATED' && t.deviceId !== undefined), 20_000, 20);
      await sendInstantAction(h, trip.deviceId!, 'startPause');
      const before = await etaOf(h, order.id);
      await waitFor('the vehicle to report itself paused', () => h.core.registry.get(trip.deviceId!)?.paused || undefined, 10_000, 20);
      expect(h.core.store.getTask(trip.id)?.state).not.toBe('FINISHED');

      // While it stands still, its trip's remaining time stands still too: the ETA slips with the clock.
      const slipped = await waitFor(
        'the ETA to move 3 s later',
        async () => {
          const eta = await etaOf(h, order.id);
          return ms(eta.pickedBy) >= ms(before.pickedBy) + 3000 ? eta : undefined;
        },
        15_000,
        250,
      );
      expect(ms(slipped.packedBy)).toBeGreaterThan(ms(before.packedBy));
      expect(ms(slipped.deliversBy)).toBeGreaterThanOrEqual(ms(before.deliversBy));
      expect(ms(slipped.lines[0]!.pickedBy)).toBe(ms(slipped.pickedBy));

      const pushed = await waitFor(
        'an order.eta event with the later ETA',
        () => stream.etas.find((e) => e.data.id === order.id && ms((e.data.eta as EtaView | null)?.pickedBy) >= ms(before.pickedBy) + 3000),
        10_000,
        50,
      );
      expect(pushed.data).toMatchObject({ id: order.id, lines: [{ id: lineId }] });
      expect(Object.keys(pushed.data.eta as object).sort()).toEqual(['deliversBy', 'packedBy', 'pickedBy', 'shipsAt']);
      // Published only when it moved by a second or more: a steady slip of 1 s/s is at most about one event a second.
      const events = stream.etas.filter((e) => e.data.id === order.id);
      for (let i = 1; i < events.length; i++) {
        const moved = Math.abs(ms((events[i]!.data.eta as EtaView).pickedBy) - ms((events[i - 1]!.data.eta as EtaView).pickedBy));
        expect(moved).toBeGreaterThanOrEqual(1000);
      }

      // Going on, the vehicle picks and drops the tote at the pack station: the ETA settles on that.
      const seenBeforeResume = stream.etas.length;
      await sendInstantAction(h, trip.deviceId!, 'stopPause');
      const finished = await waitFor('the trip finished', () => {
        const t = h.core.store.getTask(trip.id);
        return t?.state === 'FINISHED' ? t : undefined;
      }, 90_000, 100);
      const settled = await etaOf(h, order.id);
      expect(ms(settled.pickedBy)).toBe(finished.updatedAt);
      expect(ms(settled.packedBy)).toBe(finished.updatedAt + 610_000); // the configured 10 min plus 5 s for each of the 2 units
      await waitFor('the settled ETA on the stream', () =>
        stream.etas.slice(seenBeforeResume).find((e) => e.data.id === order.id && (e.data.eta as EtaView | null)?.pickedBy === settled.pickedBy),
      10_000, 50);
    } finally {
      stream.close();
    }
  });
});
