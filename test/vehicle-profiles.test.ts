/**
 * Vehicle profiles over real MQTT with the simulated site (issue "Execution" item 3): what a
 * vendor's vehicles are sent is configuration (the layout's `vehicleProfiles`), not code; a
 * vehicle is only given trips whose actions it supports; and a vehicle that refuses our orders
 * is understood and worked around, not retried blindly.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeVda, vdaSubscription, type VdaAction, type VdaOrder } from '../protocols/index.js';
import type { OrderView } from '../src/app/queries.js';
import type { ExceptionView } from '../src/app/exception-service.js';
import { loadSiteLayout, RouteGraph, type SiteLayout } from '../src/index.js';
import { startRefusingVehicle, type FakeVehicle } from './support/fake-vehicle.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';
import { actionsOverUpdates } from './support/vda-orders.js';

const demo = loadSiteLayout('demo');
const zoneOf = new Map(demo.locations.map((l) => [l.id, l.zone]));
/** AMR-zone stock: SKUs picked by vehicle trips. */
const amrStock = demo.stock.filter((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 10);

/** Another vendor's conventions: the same standard actions, its own parameters. */
const withProfiles: SiteLayout = {
  ...demo,
  devices: {
    ...demo.devices,
    // Half the fleet is a model that wants a vendor action its factsheet does not list.
    amrs: demo.devices.amrs.map((a, i) => (i < 5 ? { ...a, model: 'xl-lifter' } : a)),
  },
  vehicleProfiles: [
    {
      manufacturer: 'pickwire-sim',
      pick: {
        actionType: 'pick',
        parameters: [
          { key: 'loadId', value: '{loadId}' },
          { key: 'loadType', value: 'TOTE-60' },
          { key: 'slot', value: 'rack-{locationId}' },
          { key: 'units', value: '{quantity}' },
        ],
      },
      drop: { actionType: 'drop', parameters: [{ key: 'loadId', value: '{loadId}' }, { key: 'station', value: 'PACK/{nodeId}' }] },
    },
    {
      manufacturer: 'pickwire-sim',
      model: 'xl-lifter',
      pick: { actionType: 'liftTote', parameters: [{ key: 'tote', value: '{loadId}' }] },
      drop: { actionType: 'lowerTote', parameters: [{ key: 'tote', value: '{loadId}' }] },
    },
  ],
};

let h: Harness | undefined;
let spy: mqtt.MqttClient | undefined;
let fake: FakeVehicle | undefined;
afterEach(async () => {
  await fake?.stop().catch(() => undefined);
  await spy?.endAsync();
  await h?.stop();
  h = spy = fake = undefined;
});

/** Every VDA order the core publishes, as devices receive them. */
async function spyOnOrders(harness: Harness): Promise<VdaOrder[]> {
  const seen: VdaOrder[] = [];
  spy = await mqtt.connectAsync(harness.core.mqttUrl, { clientId: `order-spy-${Date.now()}`, protocolVersion: 4 });
  spy.on('message', (_topic, payload) => seen.push(decodeVda('order', payload)));
  await spy.subscribeAsync(vdaSubscription(harness.core.config.mqttInterface, 'order'), { qos: 1 });
  return seen;
}

async function postOrder(harness: Harness, lines: { sku: string; quantity: number }[], customer: string): Promise<OrderView> {
  const r = await harness.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody(lines, { customer: { id: customer } })) });
  expect(r.status, await r.clone().text()).toBe(201);
  return (await r.json()) as OrderView;
}

async function picked(harness: Harness, orderId: string): Promise<OrderView> {
  return waitFor(`order ${orderId} picked`, async () => {
    const o = (await (await harness.api(`/api/v1/orders/${orderId}`)).json()) as OrderView;
    return o.lines.every((l) => l.state === 'PICKED') ? o : undefined;
  }, 90_000, 250);
}

/**
 * The pick and drop actions of each trip whose first order (update 0) was sent, over that order
 * and its updates: an order carries a bounded horizon, so the drop may come with a later update.
 */
function loadActions(orders: readonly VdaOrder[]): { serialNumber: string; picks: VdaAction[]; drops: VdaAction[] }[] {
  return orders
    .filter((o) => o.orderUpdateId === 0 && o.orderId.startsWith('T-'))
    .map((o) => {
      const actions = actionsOverUpdates(orders, o.orderId);
      return { serialNumber: o.serialNumber, picks: actions.filter((a) => a.actionId.endsWith('-pick')), drops: actions.filter((a) => a.actionId.endsWith('-drop')) };
    });
}

async function runTwoLineOrder(layout: SiteLayout, customer: string): Promise<{ sent: ReturnType<typeof loadActions>; order: OrderView }> {
  h = await startHarness({ layout, speed: 6 });
  const harness = h;
  await waitFor('the fleet to report in', () => harness.core.registry.freeVehicles(Date.now()).length === layout.devices.amrs.length || undefined, 30_000);
  const seen = await spyOnOrders(harness);
  const [a, b] = amrStock;
  const order = await postOrder(harness, [{ sku: a!.sku, quantity: 2 }, { sku: b!.sku, quantity: 1 }], customer);
  await picked(harness, order.id);
  // Lines are PICKED at the pick; the drop's update may follow while the vehicle drives to pack.
  await waitFor('the trip orders on the wire, drops included', () => {
    const sent = loadActions(seen);
    return sent.length > 0 && sent.every((t) => t.drops.length > 0) ? true : undefined;
  }, 30_000, 50);
  return { sent: loadActions(seen), order };
}

describe('vehicle profiles', () => {
  it('a vehicle profile that changes the pick and drop parameters changes what is sent, with no code change', { timeout: 180_000 }, async () => {
    const [a, b] = amrStock;
    const standard = await runTwoLineOrder(demo, 'vp-standard');
    const standardPicks = standard.sent.flatMap((t) => t.picks);
    expect(standardPicks.length).toBe(2);
    for (const p of standardPicks) {
      expect(p.actionType).toBe('pick');
      expect(p.actionParameters?.map((x) => x.key)).toEqual(['loadId', 'locationId', 'sku', 'quantity']);
    }
    expect(standard.sent.flatMap((t) => t.drops).map((d) => d.actionParameters?.map((x) => x.key))).toEqual([['loadId']]);
    await h?.stop();
    h = undefined;
    await spy?.endAsync();
    spy = undefined;

    const vendor = await runTwoLineOrder(withProfiles, 'vp-vendor');
    const tote = `TOTE-${vendor.order.id}`;
    const picks = vendor.sent.flatMap((t) => t.picks);
    expect(picks.length).toBe(2);
    const bySlot = new Map(picks.map((p) => [p.actionParameters?.find((x) => x.key === 'slot')?.value, p]));
    for (const [line, qty] of [[a!, 2], [b!, 1]] as const) {
      const p = bySlot.get(`rack-${line.location}`);
      expect(p, `pick at ${line.location}`).toBeDefined();
      expect(p!.actionType).toBe('pick');
      expect(p!.actionParameters).toEqual([
        { key: 'loadId', value: tote },
        { key: 'loadType', value: 'TOTE-60' },
        { key: 'slot', value: `rack-${line.location}` },
        // A template that is one whole field keeps the field's type.
        { key: 'units', value: qty },
      ]);
    }
    const pack = withProfiles.stations.find((s) => s.kind === 'pack')!.nodeId!;
    expect(vendor.sent.flatMap((t) => t.drops).map((d) => d.actionParameters)).toEqual([[{ key: 'loadId', value: tote }, { key: 'station', value: `PACK/${pack}` }]]);
    // Vehicles of the model whose profile asks for liftTote (not in their factsheet) got nothing.
    const xl = new Set(withProfiles.devices.amrs.filter((x) => x.model === 'xl-lifter').map((x) => x.serialNumber));
    expect(vendor.sent.every((t) => !xl.has(t.serialNumber))).toBe(true);
  });

  it('a vehicle that refuses our trip with orderError is excluded, journaled, and the line goes to another vehicle', { timeout: 150_000 }, async () => {
    h = await startHarness({ speed: 6 });
    const harness = h;
    await waitFor('the fleet to report in', () => harness.core.registry.freeVehicles(Date.now()).length === demo.devices.amrs.length || undefined, 30_000);
    const seen = await spyOnOrders(harness);
    // The stock farthest from where the fleet stands, and the vendor's vehicle right beside it
    // (not on it: a vehicle that takes no orders must not stand where others have to be).
    const graph = new RouteGraph(demo);
    const nodeOf = new Map(demo.locations.map((l) => [l.id, l.nodeId as string]));
    const y = (n: string): number => demo.graph.nodes.find((x) => x.id === n)!.y;
    const stock = [...amrStock].sort((p, q) => y(nodeOf.get(q.location)!) - y(nodeOf.get(p.location)!))[0]!;
    const pickNode = nodeOf.get(stock.location)!;
    const used = new Set([...nodeOf.values(), ...demo.stations.map((s) => s.nodeId), ...demo.chargers.map((c) => c.nodeId), ...demo.devices.amrs.map((a) => a.startNode)]);
    const node = graph.neighbours(pickNode).sort((p, q) => Number(used.has(p)) - Number(used.has(q)))[0]!;
    const at = demo.graph.nodes.find((n) => n.id === node)!;
    fake = await startRefusingVehicle({
      url: harness.core.mqttUrl,
      interfaceName: harness.core.config.mqttInterface,
      manufacturer: 'acme',
      serialNumber: 'acme-01',
      lastNodeId: node,
      position: { x: at.x, y: at.y, mapId: demo.site.mapId },
      refuse: (o) => ({
        errorType: 'orderError',
        errorLevel: 'WARNING',
        errorDescription: 'unknown parameter locationId',
        errorReferences: [
          { referenceKey: 'orderId', referenceValue: o.orderId },
          { referenceKey: 'orderUpdateId', referenceValue: String(o.orderUpdateId) },
        ],
      }),
    });
    await waitFor('the vendor vehicle free', () => (harness.core.registry.freeVehicles(Date.now()).some((v) => v.id === 'acme-01') ? true : undefined), 20_000);
    const order = await postOrder(harness, [{ sku: stock.sku, quantity: 1 }], 'vp-refuse');
    const lineId = order.lines[0]!.id;
    await waitFor('the refusal understood', () => harness.core.store.aggregateEvents('device', 'acme-01').find((e) => e.type === 'device.tripsExcluded'), 20_000, 50);
    const refused = harness.core.store.tasksOfLine(lineId).find((t) => t.deviceId === 'acme-01');
    expect(refused?.state).toBe('FAILED');
    expect(refused?.progress.failure).toMatch(/orderError/);

    // Nearest, it got the trip first; refused, the line goes to the next best vehicle.
    await picked(harness, order.id);
    const trips = harness.core.store.tasksOfLine(lineId).filter((t) => t.kind === 'amr.pickTrip');
    expect(trips.at(-1)?.deviceId).not.toBe('acme-01');
    // One trip sent, refused once: never again, and never re-sent by the outbox. (Traffic
    // control may still move it out of the way with a plain drive, which it does.)
    const isTrip = (o: VdaOrder): boolean => o.orderId.startsWith('T-');
    expect(fake.orders.filter(isTrip).length).toBe(1);
    expect(seen.filter((o) => o.serialNumber === 'acme-01' && isTrip(o)).length).toBe(1);
    const items = ((await (await harness.api('/api/v1/exceptions')).json()) as { items: ExceptionView[] }).items;
    expect(items.find((e) => e.lineId === lineId && e.deviceId === 'acme-01')).toMatchObject({ type: 'task-failed', status: 'handled' });
    const excluded = harness.core.store.aggregateEvents('device', 'acme-01').find((e) => e.type === 'device.tripsExcluded')?.data;
    expect(excluded?.taskId).toBe(refused!.id);
    expect(excluded?.reason).toMatch(/orderError \(unknown parameter locationId\)/);
  });
});
