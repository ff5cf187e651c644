/**
 * Order update ids across a core restart (DESIGN §4: on restart everything unconfirmed is
 * re-sent, devices dedupe on ids). The case: the previous core wrote update #2 of a trip, the
 * vehicle had not taken it when that core died, and its first state to the new core still shows
 * #1 — so the new core retires #2. But the new core's publisher has re-sent #2, and it reaches
 * the vehicle right after that state. Were the next update numbered #2 again (counting on from
 * the echo), the vehicle would ignore it as a repeat (VDA 5050) while its echo of the old #2
 * confirmed it, and wait at the end of its old base for good. Seen in core-crash runs before the
 * fix; here the message order is forced, with a gate on the vehicle's link.
 *
 * Real MQTT (the embedded broker, on the same port for both cores), a real SQLite file kept
 * across the restart, one simulated AMR through the device SDK.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeVda, type VdaOrder } from '../protocols/index.js';
import type { OrderView } from '../src/app/queries.js';
import { loadSiteLayout, type SiteLayout } from '../src/index.js';
import { startSimulatedSite, type SimulatedSite } from '../simulators/index.js';
import { gatedLinks, type Arrival } from './support/gated-link.js';
import { CHANNEL_TOKEN, orderBody, scaledClock, startHarness, waitFor, type Harness } from './support/harness.js';
import { freePort } from './support/process.js';

const SPEED = 4;
const demo = loadSiteLayout('demo');
const vehicle = demo.devices.amrs[0]!;
/** One AMR and no fixed equipment: the trip is the only traffic. */
const oneAmr: SiteLayout = { ...demo, devices: { amrs: [vehicle], asrs: [], conveyors: [], arms: [] } };
/** Stocked only far from the vehicle's start (n-00-00 to n-14-04, then the pack station): a route of many base extensions. */
const FAR_SKU = 'SKU-0499';

const isOrder = (m: Arrival): boolean => m.topic.endsWith('/order');
const orderOf = (m: Arrival): VdaOrder => decodeVda('order', m.payload);

describe('order update ids after a core restart', () => {
  let site: SimulatedSite | undefined;
  const cores: Harness[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await site?.stop();
    site = undefined;
    for (const h of cores.splice(0).reverse()) await h.stop().catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('an update the old core wrote and the vehicle took late is never numbered again: the trip ends', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-update-ids-'));
    dirs.push(dataDir);
    const first = await startHarness({ mqttPort: port, simulate: false, dataDir });
    cores.push(first);

    let restarted = false;
    let adopted = false;
    // Set once the trip is dispatched; the gate reads it from then on.
    const trip: { id?: string } = {};
    const links = gatedLinks({
      url: first.core.mqttUrl,
      gate: (m) => {
        const o = isOrder(m) ? orderOf(m) : undefined;
        if (o === undefined || o.orderId !== trip.id) return 'deliver';
        // After the restart, nothing of the trip until the new core has taken the drive over.
        if (restarted) return adopted ? 'deliver' : 'hold';
        // Before it, the vehicle never gets update #2 (nor its copies): it drives its base up
        // to #1 and waits there, asking for more.
        return o.orderUpdateId >= 2 ? 'hold' : 'deliver';
      },
    });
    site = await startSimulatedSite({ layout: oneAmr, linkFactory: links.factory, interfaceName: 'uagv', clock: scaledClock(SPEED) });
    await waitFor('the vehicle free', () => first.core.registry.freeVehicles(Date.now()).some((v) => v.id === vehicle.serialNumber) || undefined, 30_000);

    const posted = await first.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku: FAR_SKU, quantity: 1 }])) });
    expect(posted.status, await posted.clone().text()).toBe(201);
    const order = (await posted.json()) as OrderView;
    const lineId = order.lines[0]!.id;
    trip.id = await waitFor('the trip dispatched', () => first.core.store.tasksOfLine(lineId).find((t) => t.kind === 'amr.pickTrip' && t.deviceId === vehicle.serialNumber)?.id, 30_000, 50);
    const tripId = trip.id;
    /** Every order of the trip the vehicle was sent, delivered or held, in arrival order. */
    const tripUpdates = (): VdaOrder[] => links.arrived.filter(isOrder).map(orderOf).filter((o) => o.orderId === tripId);
    const held = await waitFor('update #2 written and held back', () => links.held[0], 30_000, 50);
    const heldId = orderOf(held).orderUpdateId;
    expect(heldId).toBe(2);
    // Where #1's base ends: the vehicle drives up to it and stops (the new core then releases
    // from there, so its next update differs from the held #2, released from one node before).
    const update1 = tripUpdates().find((o) => o.orderUpdateId === 1)!;
    const baseEnd = update1.nodes.filter((n) => n.released).at(-1)!.nodeId;
    const amr = site.devices.amrs[0]!.vehicle;
    await waitFor('the vehicle waiting at the end of base #1', () => (amr.state.lastNodeId === baseEnd && !amr.state.driving) || undefined, 30_000, 20);

    // The old core goes; the vehicle waits at the end of its base #1. A new core on the same
    // store and broker port: the vehicle's link reconnects to it.
    await first.stop();
    cores.splice(cores.indexOf(first), 1);
    restarted = true;
    const second = await startHarness({ mqttPort: port, simulate: false, dataDir });
    cores.push(second);
    // The new core takes the drive over from the vehicle's first state, which still shows #1:
    // it retires #2. Only then does #2 reach the vehicle (late, as the copy the new core's
    // publisher re-sends on start can), and the vehicle takes it; then whatever the new core
    // sent meanwhile.
    await waitFor('the new core took the drive over', () => second.core.traffic.driveOf(vehicle.serialNumber)?.orderId === tripId || undefined, 30_000, 5);
    expect(amr.state.orderUpdateId, 'the vehicle had not taken the held update when the new core heard from it').toBe(heldId - 1);
    adopted = true;
    links.deliver(held);
    for (const m of [...links.held]) links.deliver(m);

    const picked = await waitFor(
      'the trip finished after the restart',
      async () => {
        const v = (await (await second.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
        const task = second.core.store.getTask(tripId);
        return v.lines[0]!.state === 'PICKED' && task?.state === 'FINISHED' ? v : undefined;
      },
      60_000,
      200,
    ).catch(async () => {
      throw new Error(`trip ${tripId} did not finish; updates the vehicle was sent: ${tripUpdates().map((o) => `#${o.orderUpdateId}`).join(' ')}; vehicle reports #${amr.state.orderUpdateId} at ${amr.state.lastNodeId}`);
    });
    expect(picked.lines[0]!.state).toBe('PICKED');

    // One id, one update: every copy of an update the vehicle was sent says the same thing.
    const byId = new Map<number, Set<string>>();
    for (const o of tripUpdates()) {
      const nodes = byId.get(o.orderUpdateId) ?? new Set<string>();
      nodes.add(JSON.stringify(o.nodes.map((n) => [n.nodeId, n.sequenceId, n.released])));
      byId.set(o.orderUpdateId, nodes);
    }
    const reused = [...byId].filter(([, variants]) => variants.size > 1).map(([id]) => id);
    expect(reused, 'order update ids sent with two different contents').toEqual([]);
    expect(Math.max(...byId.keys()), 'the new core numbered on after the held update').toBeGreaterThan(heldId);
  });
});
