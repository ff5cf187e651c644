/**
 * Traffic control end to end, over real MQTT with simulated AMRs that physically refuse to
 * enter a node another AMR occupies (simulators/node-occupancy.ts): a fleet of 30 on a narrow
 * grid works through a batch of trips without ever being commanded into an occupied node, and
 * two vehicles sent at each other through a one-lane corridor get out of their deadlock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedSite, type SimulatedSite } from '../simulators/index.js';
import { createRng } from '../simulators/random.js';
import { TRAFFIC_EVENTS } from '../src/app/traffic-controller.js';
import type { SiteLayout } from '../src/index.js';
import type { JournalEntry, TaskRecord } from '../src/domain/records.js';
import { orderBody, scaledClock, startHarness, waitFor, type Harness } from './support/harness.js';
import { corridorLayout, gridLayout } from './support/traffic-layouts.js';

/**
 * Trips of the fleet run. The issue asks for 500; those take 2-3.5 minutes here depending on
 * the machine's load (the store's durable writes bound it, not the simulation), so the suite
 * runs 300 and `TRAFFIC_TEST_TRIPS=500` runs the full batch.
 */
const FLEET_TRIPS = Number(process.env.TRAFFIC_TEST_TRIPS ?? 300);
const FLEET_SPEED = 100;

async function startSite(h: Harness, layout: SiteLayout, speed: number): Promise<SimulatedSite> {
  return startSimulatedSite({
    layout,
    mqttUrl: h.core.mqttUrl,
    interfaceName: h.core.config.mqttInterface,
    clock: scaledClock(speed),
    // Coarser ticks and heartbeats than the defaults: 30 robots at this speed on two cores.
    amrTiming: { stateIntervalMs: 20_000, visualizationIntervalMs: 5_000 },
  });
}

let orderSeq = 0;
async function placeOrder(h: Harness, sku: string): Promise<string> {
  const n = orderSeq++;
  const res = await h.api('/api/v1/orders', {
    method: 'POST',
    headers: { 'idempotency-key': `traffic-${n}-${Date.now()}` },
    body: JSON.stringify(orderBody([{ sku, quantity: 1 }], { customer: { id: `cust-${n}` } })),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

function tripsIn(h: Harness, states: string[]): TaskRecord[] {
  return h.core.store.tasksInStates(states, { devices: 'amr' });
}

function trafficEvents(h: Harness, layout: SiteLayout): JournalEntry[] {
  return layout.devices.amrs.flatMap((a) => h.core.store.aggregateEvents('device', a.serialNumber)).filter((e) => e.type.startsWith('traffic.'));
}

describe('traffic control over MQTT', () => {
  describe('a fleet of 30 AMRs on a narrow one-way grid', () => {
    const layout = gridLayout(30);
    let h: Harness;
    let site: SimulatedSite;

    beforeAll(async () => {
      h = await startHarness({ layout, simulate: false, env: { PICKWIRE_RELEASE_WINDOW: '1000', PICKWIRE_RISK_HOLD_THRESHOLD: '1000000' } });
      site = await startSite(h, layout, FLEET_SPEED);
      await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === layout.devices.amrs.length || undefined, 30_000);
    });
    afterAll(async () => {
      await site?.stop();
      await h?.stop();
    });

    it(`works through ${FLEET_TRIPS} trips without a vehicle ever being commanded into an occupied node`, async () => {
      const started = Date.now();
      const rng = createRng(5050);
      const skus = layout.stock.map((s) => s.sku);
      const queue = Array.from({ length: FLEET_TRIPS }, () => rng.pick(skus));
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let sku = queue.pop(); sku !== undefined; sku = queue.pop()) await placeOrder(h, sku);
        }),
      );
      const posted = Date.now();
      await waitFor(
        `${FLEET_TRIPS} trips finished`,
        () => {
          const failed = tripsIn(h, ['FAILED', 'CANCELED']);
          if (failed.length > 0) throw new Error(`trips ended badly: ${JSON.stringify(failed.slice(0, 3).map((t) => ({ id: t.id, state: t.state, failure: t.progress.failure })))}`);
          if (site.nodeConflicts > 0) throw new Error(`node conflicts: ${JSON.stringify(site.occupancy.conflictLog.slice(0, 5))}`);
          return tripsIn(h, ['FINISHED']).length === FLEET_TRIPS || undefined;
        },
        Math.max(200_000, FLEET_TRIPS * 600),
        250,
      );
      const wallMs = Date.now() - started;
      const events = trafficEvents(h, layout);
      const count = (type: string): number => events.filter((e) => e.type === type).length;
      // Measured figures for the report; never a timing assertion.
      console.log(
        JSON.stringify({
          trafficFleet: {
            amrs: layout.devices.amrs.length,
            trips: FLEET_TRIPS,
            speed: FLEET_SPEED,
            wallSeconds: Math.round(wallMs / 100) / 10,
            postSeconds: Math.round((posted - started) / 100) / 10,
            nodeConflicts: site.nodeConflicts,
            deadlocksResolved: count(TRAFFIC_EVENTS.deadlock),
            deadlocksUnresolved: count(TRAFFIC_EVENTS.unresolved),
            movedAside: count(TRAFFIC_EVENTS.movedAside),
            rerouted: count(TRAFFIC_EVENTS.rerouted),
          },
        }),
      );
      expect(site.nodeConflicts).toBe(0);
      expect(tripsIn(h, ['FINISHED'])).toHaveLength(FLEET_TRIPS);
      expect(h.core.store.countLinesByState().PICKED).toBe(FLEET_TRIPS);
    }, Math.max(280_000, FLEET_TRIPS * 800));
  });

  describe('two vehicles meeting head-on in a one-lane corridor', () => {
    const layout = corridorLayout();
    let h: Harness;
    let site: SimulatedSite;

    beforeAll(async () => {
      h = await startHarness({ layout, simulate: false });
      site = await startSite(h, layout, 10);
      await waitFor('both vehicles to report in', () => h.core.registry.freeVehicles(Date.now()).length === 2 || undefined, 30_000);
    });
    afterAll(async () => {
      await site?.stop();
      await h?.stop();
    });

    it('detects the deadlock, resolves it, journals it, and both trips finish', async () => {
      // `west` must take the east shelf and `east` the west one; the dispatcher would pick the
      // nearest vehicle, so each is the only free one when its order comes in.
      h.core.registry.setOutOfService('east', true);
      const first = await placeOrder(h, 'SKU-e12-1');
      await waitFor('west dispatched', () => tripsIn(h, ['DISPATCHED', 'RUNNING']).find((t) => t.orderId === first && t.deviceId === 'west'), 10_000, 20);
      h.core.registry.setOutOfService('east', false);
      const second = await placeOrder(h, 'SKU-w12-1');
      await waitFor('east dispatched', () => tripsIn(h, ['DISPATCHED', 'RUNNING']).find((t) => t.orderId === second && t.deviceId === 'east'), 10_000, 20);

      await waitFor('both trips finished', () => tripsIn(h, ['FINISHED']).length === 2 || undefined, 90_000, 100);
      expect(tripsIn(h, ['FAILED', 'CANCELED'])).toEqual([]);
      expect(site.nodeConflicts).toBe(0);
      const deadlocks = trafficEvents(h, layout).filter((e) => e.type === TRAFFIC_EVENTS.deadlock);
      expect(deadlocks.length).toBeGreaterThanOrEqual(1);
      const d = deadlocks[0] as JournalEntry;
      expect(d.aggregateType).toBe('device');
      expect((d.data.cycle as { vehicle: string }[]).map((c) => c.vehicle).sort()).toEqual(['east', 'west']);
      expect(['reroute', 'backoff']).toContain(d.data.resolution);
      // The vehicle dispatched later gives way.
      expect(d.data.vehicle).toBe('east');
    }, 120_000);
  });
});
