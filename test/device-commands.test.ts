/**
 * Operator device commands (`POST /api/v1/devices/:id/commands`) end to end: real HTTP, real
 * MQTT, the simulated demo site at 5x. Every outcome asserted here is what the devices reported
 * back (paused, charging, where they stand) or what the dispatcher then did, never the core's
 * own bookkeeping alone.
 *
 * The layout is the demo's with amr-04 starting off its charger, so one of the four chargers
 * is free; the rest hold amr-01..03, which never move before the charge test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderProblem } from '../devices/index.js';
import { SimulatedAmr } from '../simulators/index.js';
import { loadSiteLayout } from '../src/adapters/site-loader.js';
import { buildChargeOrder, chargeActionIdOf } from '../src/domain/commands.js';
import { RouteGraph } from '../src/domain/route-graph.js';
import type { JournalEntry, TaskRecord } from '../src/domain/records.js';
import type { SiteLayout } from '../src/domain/site-layout.js';
import { ADMIN_TOKEN, CHANNEL_TOKEN, orderBody, scaledClock, startHarness, VIEWER_TOKEN, waitFor, type Harness } from './support/harness.js';

const OPERATOR_TOKEN = 'test-operator-token-0123456789';
const TOKENS = `admin:admin:${ADMIN_TOKEN},shop:channel:${CHANNEL_TOKEN},watcher:viewer:${VIEWER_TOKEN},olga:operator:${OPERATOR_TOKEN}`;
const SPEED = 5;

interface DeviceBody {
  id: string;
  class: string;
  state: string;
  connection: string;
  battery: number | null;
  charging: boolean;
  position: { x: number; y: number; theta: number } | null;
  lastNodeId: string | null;
  driving: boolean;
  task: string | null;
}
interface CommandBody {
  device: DeviceBody;
  command: { type: string; sent: boolean; at: string; actionType?: string; commandId?: string; charger?: { id: string; nodeId: string } };
}
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; problem: string }[] };
}
interface OrderBody {
  id: string;
  lines: { id: string; sku: string; state: string }[];
}

describe('the charge order', () => {
  const layout = loadSiteLayout('demo');
  const graph = new RouteGraph(layout);
  const vehicle = { manufacturer: 'pickwire-sim', serialNumber: 'amr-05' };
  const build = (nodeAction: boolean) => {
    const route = graph.shortestPath('n-04-01', 'n-03-00');
    if (!route) throw new Error('no route in the demo layout');
    return buildChargeOrder({ header: { headerId: 7, timestamp: '2025-01-01T00:00:00.000Z' }, vehicle, graph, mapId: layout.site.mapId, orderId: 'charge-amr-05-1', route, nodeAction });
  };

  it('ends at the charger with startCharging there when the vehicle takes it as a node action', () => {
    const order = build(true);
    expect(orderProblem(order, vehicle)).toBeUndefined();
    expect(order).toMatchObject({ orderId: 'charge-amr-05-1', orderUpdateId: 0, headerId: 7 });
    expect(order.nodes[0]?.nodeId).toBe('n-04-01');
    const last = order.nodes.at(-1);
    expect(last?.nodeId).toBe('n-03-00');
    expect(last?.actions).toEqual([{ actionId: chargeActionIdOf('charge-amr-05-1'), actionType: 'startCharging', blockingType: 'HARD', actionParameters: [] }]);
    expect(order.nodes.slice(0, -1).every((n) => n.actions.length === 0 && n.released)).toBe(true);
  });

  it('carries no action when startCharging follows as an instant action', () => {
    const order = build(false);
    expect(orderProblem(order, vehicle)).toBeUndefined();
    expect(order.nodes.at(-1)?.nodeId).toBe('n-03-00');
    expect(order.nodes.flatMap((n) => n.actions)).toEqual([]);
  });
});

describe('device commands over HTTP and MQTT with the simulated site', () => {
  let h: Harness;
  let layout: SiteLayout;
  const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-device-commands-'));
  let amrSkus: string[];
  const extraAmrs: SimulatedAmr[] = [];

  beforeAll(async () => {
    layout = structuredClone(loadSiteLayout('demo'));
    const amr04 = layout.devices.amrs.find((a) => a.serialNumber === 'amr-04');
    if (!amr04) throw new Error('the demo layout has no amr-04');
    amr04.startNode = 'n-10-00';
    h = await startHarness({ speed: SPEED, dataDir, layout, env: { PICKWIRE_TOKENS: TOKENS } });
    const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
    amrSkus = layout.stock.filter((s) => zoneOf.get(s.location) === 'amr' && s.onHand - (s.safetyStock ?? 0) > 10).map((s) => s.sku);
    await waitFor('the fleet to report in', () => h.core.registry.freeVehicles(Date.now()).length === layout.devices.amrs.length || undefined, 30_000);
    await waitFor('the arms and the conveyor to report in', () => ['arm-1', 'conv-1'].every((id) => h.core.registry.get(id)?.stateSeenAt !== undefined) || undefined, 30_000);
  });
  afterAll(async () => {
    for (const amr of extraAmrs) await amr.stop().catch(() => undefined);
    await h?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // -- helpers ------------------------------------------------------------------------------

  async function command(id: string, type: unknown, token = OPERATOR_TOKEN): Promise<{ status: number; body: unknown }> {
    const res = await h.api(`/api/v1/devices/${encodeURIComponent(id)}/commands`, { method: 'POST', token, body: JSON.stringify({ type }) });
    return { status: res.status, body: await res.json() };
  }

  async function accepted(id: string, type: string): Promise<CommandBody> {
    const res = await command(id, type);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body as CommandBody;
  }

  async function refused(id: string, type: string): Promise<ErrorBody['error']> {
    const res = await command(id, type);
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    const { error } = res.body as ErrorBody;
    expect(error.code).toBe('PW_ERR_INVALID_STATE');
    return error;
  }

  async function device(id: string): Promise<DeviceBody> {
    const res = await h.api(`/api/v1/devices/${encodeURIComponent(id)}`, { token: OPERATOR_TOKEN });
    expect(res.status).toBe(200);
    return (await res.json()) as DeviceBody;
  }

  const waitState = (id: string, state: string, timeoutMs = 15_000): Promise<DeviceBody> =>
    waitFor(`${id} to report ${state}`, async () => {
      const d = await device(id);
      return d.state === state ? d : undefined;
    }, timeoutMs, 50);

  /** The device's command journal; traffic control journals on devices too (moves aside), not counted here. */
  const journal = (id: string): JournalEntry[] => h.core.store.aggregateEvents('device', id).filter((e) => e.type.startsWith('device.'));

  let orderSeq = 0;
  async function placeAmrLine(): Promise<{ order: OrderBody; task: () => TaskRecord | undefined }> {
    const sku = amrSkus.shift();
    if (!sku) throw new Error('out of AMR SKUs');
    const n = orderSeq++;
    const body = orderBody([{ sku, quantity: 1 }], { customer: { id: `device-cmd-${n}` } });
    (body.shipTo as Record<string, unknown>).line1 = `${n + 1} Charger Lane`;
    const res = await h.api('/api/v1/orders', { method: 'POST', headers: { 'idempotency-key': `device-cmd-${Date.now()}-${n}` }, body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    const order = (await res.json()) as OrderBody;
    const lineId = order.lines[0]?.id ?? '';
    return { order, task: () => h.core.store.tasksOfLine(lineId).find((t) => t.deviceClass === 'amr') };
  }

  const amrIds = (): string[] => layout.devices.amrs.map((a) => a.serialNumber);

  // -- tests --------------------------------------------------------------------------------

  it('answers 403 to viewers and channels, 401 without a token, 404 for an unknown device and 400 for a bad body', async () => {
    for (const token of [VIEWER_TOKEN, CHANNEL_TOKEN]) {
      const res = await command('amr-01', 'pause', token);
      expect(res.status).toBe(403);
      expect((res.body as ErrorBody).error.code).toBe('PW_ERR_FORBIDDEN');
    }
    const anonymous = await fetch(`${h.baseUrl}/api/v1/devices/amr-01/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"pause"}' });
    expect(anonymous.status).toBe(401);

    const unknown = await command('amr-99', 'pause');
    expect(unknown.status).toBe(404);
    expect((unknown.body as ErrorBody).error).toMatchObject({ code: 'PW_ERR_NOT_FOUND', message: 'no device amr-99' });

    for (const bad of ['stop', 42, undefined]) {
      const res = await command('amr-01', bad);
      expect(res.status).toBe(400);
      expect((res.body as ErrorBody).error.code).toBe('PW_ERR_VALIDATION');
    }
    const extra = await h.api('/api/v1/devices/amr-01/commands', { method: 'POST', token: OPERATOR_TOKEN, body: JSON.stringify({ type: 'pause', force: true }) });
    expect(extra.status).toBe(400);

    // None of it reached the device or the journal.
    expect(journal('amr-01')).toEqual([]);
    expect((await device('amr-01')).state).toBe('idle');
  });

  it('pauses an idle AMR by its own report, keeps it from trips, and resumes it', async () => {
    const paused = await accepted('amr-06', 'pause');
    expect(paused.command).toMatchObject({ type: 'pause', sent: true, actionType: 'startPause' });
    expect(paused.device).toMatchObject({ id: 'amr-06', class: 'amr' });
    expect(Number.isNaN(Date.parse(paused.command.at))).toBe(false);

    await waitState('amr-06', 'paused');
    const sim = h.site?.devices.amrs.find((a) => a.serialNumber === 'amr-06');
    expect(sim?.vehicle.state.paused).toBe(true);
    expect(sim?.vehicle.actionStatus(paused.command.commandId ?? '')).toBe('FINISHED');
    expect(h.core.registry.freeVehicles(Date.now()).map((v) => v.id)).not.toContain('amr-06');

    const resumed = await accepted('amr-06', 'resume');
    expect(resumed.command).toMatchObject({ type: 'resume', sent: true, actionType: 'stopPause' });
    await waitState('amr-06', 'idle');
    expect(sim?.vehicle.state.paused).toBe(false);
    expect(h.core.registry.freeVehicles(Date.now()).map((v) => v.id)).toContain('amr-06');

    const events = journal('amr-06');
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['device.paused', 'olga'],
      ['device.resumed', 'olga'],
    ]);
    expect(events[0]?.data).toMatchObject({ command: 'pause', sent: true, actionType: 'startPause', actionId: paused.command.commandId });
  });

  it('pauses and resumes an arm and a conveyor with the pause actions they declare', async () => {
    for (const id of ['arm-1', 'conv-1']) {
      const paused = await accepted(id, 'pause');
      expect(paused.command).toMatchObject({ type: 'pause', sent: true, actionType: 'startPause' });
      await waitState(id, 'paused');
      const resumed = await accepted(id, 'resume');
      expect(resumed.command).toMatchObject({ type: 'resume', sent: true, actionType: 'stopPause' });
      await waitState(id, 'idle');
      expect(journal(id).map((e) => [e.type, e.actor, e.data.actionType])).toEqual([
        ['device.paused', 'olga', 'startPause'],
        ['device.resumed', 'olga', 'stopPause'],
      ]);
    }
    expect((await refused('conv-1', 'charge')).message).toBe('conv-1 is a conveyor: only AMRs can be sent to charge');
  });

  it('sends an idle AMR to the nearest free charger, where it charges until full, and holds it meanwhile', async () => {
    // A vehicle that joins on its own with a battery that needs a few sim-minutes of charge.
    const low = await SimulatedAmr.start({
      layout: h.core.layout,
      spec: { manufacturer: 'pickwire-sim', serialNumber: 'amr-low', startNode: 'n-04-01' },
      interfaceName: h.core.config.mqttInterface,
      url: h.core.mqttUrl,
      clock: scaledClock(SPEED),
      initialBattery: 99.5,
    });
    extraAmrs.push(low);
    await waitFor('amr-low to report in', () => h.core.registry.freeVehicles(Date.now()).some((v) => v.id === 'amr-low') || undefined, 15_000);

    const sent = await accepted('amr-low', 'charge');
    // charger-4 is the only one nobody stands on; chargers 1-3 hold amr-01..03.
    expect(sent.command).toMatchObject({ type: 'charge', sent: true, actionType: 'order', charger: { id: 'charger-4', nodeId: 'n-03-00' } });
    const chargeId = sent.command.commandId ?? '';
    expect(chargeId).toMatch(/^charge-amr-low-\d+$/);
    expect(sent.device).toMatchObject({ id: 'amr-low', state: 'busy', task: chargeId });

    // The charger it was sent to is taken: nobody else gets it. Asked of a vehicle standing idle
    // (one in amr-low's way to the charger is moved aside meanwhile, and busy while it moves),
    // and not one of amr-01..03, which stand on chargers 1-3.
    const other = await waitFor('another idle AMR', async () => {
      for (const id of amrIds().slice(3)) if ((await device(id)).state === 'idle') return id;
      return undefined;
    }, 10_000, 50);
    const none = await refused(other, 'charge');
    expect(none.message).toContain(`no free charger for ${other}`);
    expect(none.message).toContain('charger-4 by amr-low');
    // And a second charge for the same vehicle is refused while the first runs.
    expect((await refused('amr-low', 'charge')).message).toContain(`already charging or on its way to a charger (${chargeId})`);

    const charging = await waitFor('amr-low to report charging at n-03-00', async () => {
      const d = await device('amr-low');
      return d.charging && d.lastNodeId === 'n-03-00' ? d : undefined;
    }, 20_000, 50);
    expect(charging).toMatchObject({ state: 'busy', task: chargeId, driving: false });
    expect(charging.battery).toBeLessThan(100);
    expect(low.vehicle.state.orderId).toBe(chargeId);
    // The simulated AMR takes startCharging only as an instant action: it came on arrival.
    await waitFor('startCharging to finish on amr-low', () => low.vehicle.actionStatus(`${chargeId}-startCharging`) === 'FINISHED' || undefined, 10_000, 50);
    expect(h.core.registry.freeVehicles(Date.now()).map((v) => v.id)).not.toContain('amr-low');

    // Full: the vehicle stops charging by itself, and the core lets it work again.
    const done = await waitFor('amr-low to finish charging and be released', async () => {
      const d = await device('amr-low');
      return !d.charging && d.task === null ? d : undefined;
    }, 40_000, 100);
    expect(done).toMatchObject({ state: 'idle', battery: 100, lastNodeId: 'n-03-00' });

    const events = journal('amr-low');
    expect(events.map((e) => e.type)).toEqual(['device.chargeRequested', 'device.chargeArrived', 'device.chargingStarted', 'device.chargeFinished']);
    expect(events[0]).toMatchObject({ actor: 'olga', data: { command: 'charge', sent: true, orderId: chargeId, charger: 'charger-4', nodeId: 'n-03-00', startCharging: 'instant action on arrival' } });
    expect(events[3]?.data).toMatchObject({ orderId: chargeId, charging: false, battery: 100 });
    // The order was confirmed by the vehicle's echo: the outbox does not re-send it.
    expect(h.core.store.unconfirmed(Date.now() + 1, 1000).filter((m) => m.correlation?.includes(chargeId))).toEqual([]);

    await low.stop();
    await waitState('amr-low', 'offline');
  });

  it('stops an AMR mid-trip on pause and lets it finish after resume; no charge while it has a task', async () => {
    const { task } = await placeAmrLine();
    const running = await waitFor('the trip to be under way', async () => {
      const t = task();
      if (!t?.deviceId || t.state !== 'RUNNING') return undefined;
      return (await device(t.deviceId)).driving ? t : undefined;
    }, 20_000, 50);
    const id = running.deviceId ?? '';

    await accepted(id, 'pause');
    const stopped = await waitState(id, 'paused');
    expect(stopped.task).toBe(running.id);
    await new Promise((r) => setTimeout(r, 1000));
    const still = await device(id);
    expect(still).toMatchObject({ state: 'paused', driving: false, lastNodeId: stopped.lastNodeId });
    expect(still.position).toEqual(stopped.position);
    expect(task()?.state).toBe('RUNNING');

    const busy = await refused(id, 'charge');
    expect(busy.message).toBe(`${id} is working on task ${running.id}: finish or cancel its task first`);

    await accepted(id, 'resume');
    await waitFor('the trip to finish after resume', () => (task()?.state === 'FINISHED' ? true : undefined), 40_000);
    expect(journal(id).map((e) => e.type)).toEqual(['device.paused', 'device.resumed']);
  });

  it('keeps trips away from out-of-service vehicles and brings them back with in-service', async () => {
    // Far from the pick nodes (row y=2, x=6..10 next): with the fleet in service the trips
    // would go to a nearer vehicle.
    const keep = 'amr-10';
    const comeback = 'amr-09';
    const others = amrIds().filter((id) => id !== keep);
    for (const id of others) {
      const res = await accepted(id, 'out-of-service');
      expect(res.command).toMatchObject({ type: 'out-of-service', sent: false });
      expect(res.device.state).toBe('out-of-service');
    }
    expect((await refused('amr-02', 'charge')).message).toBe('amr-02 is out of service: put it in service before sending it to charge');

    const first = await placeAmrLine();
    expect(await waitFor('the first trip to be dispatched', () => first.task()?.deviceId, 20_000)).toBe(keep);
    for (const id of others) expect((await device(id)).state).toBe('out-of-service');

    // Now only `comeback` is in service: the next trip must go to it.
    await accepted(keep, 'out-of-service');
    const back = await accepted(comeback, 'in-service');
    expect(back.command).toMatchObject({ type: 'in-service', sent: false });
    expect(back.device.state).toBe('idle');
    const second = await placeAmrLine();
    expect(await waitFor('the second trip to be dispatched', () => second.task()?.deviceId, 20_000)).toBe(comeback);
    const active = h.core.store.tasksInStates(['DISPATCHED', 'RUNNING'], { devices: 'amr' }).map((t) => t.deviceId);
    expect(active.every((d) => d === keep || d === comeback)).toBe(true);

    for (const id of amrIds()) if ((await device(id)).state === 'out-of-service') await accepted(id, 'in-service');
    for (const id of amrIds()) expect((await device(id)).state).not.toBe('out-of-service');
    const service = journal('amr-05').filter((e) => e.type === 'device.outOfService' || e.type === 'device.inService');
    expect(service.map((e) => [e.type, e.actor, e.data.sent])).toEqual([
      ['device.outOfService', 'olga', false],
      ['device.inService', 'olga', false],
    ]);
    await waitFor('both trips to finish', () => (first.task()?.state === 'FINISHED' && second.task()?.state === 'FINISHED' ? true : undefined), 60_000);
  });

  it('refuses pause and charge for a vehicle whose connection is offline', async () => {
    const sim = h.site?.devices.amrs.find((a) => a.serialNumber === 'amr-10');
    await sim?.stop();
    const before = journal('amr-10').length;
    await waitState('amr-10', 'offline');
    expect((await refused('amr-10', 'charge')).message).toBe('amr-10 cannot be sent to charge: its connection is offline (OFFLINE)');
    expect((await refused('amr-10', 'pause')).message).toBe('amr-10 cannot pause: its connection is offline (OFFLINE), so the command would not reach it');
    // Refused commands leave no trace in the journal.
    expect(journal('amr-10')).toHaveLength(before);
  });

  it('keeps a device out of service across a core restart', async () => {
    await accepted('arm-2', 'out-of-service');
    await h.stop();
    h = await startHarness({ simulate: false, dataDir, layout, env: { PICKWIRE_TOKENS: TOKENS } });
    expect((await device('arm-2')).state).toBe('out-of-service');
    expect((await device('arm-1')).state).toBe('unknown');
    const back = await accepted('arm-2', 'in-service');
    expect(back.device.state).toBe('unknown');
    expect(journal('arm-2').map((e) => e.type)).toEqual(['device.outOfService', 'device.inService']);
  });
});
