/**
 * Re-routing AS/RS bins between arm stations over real MQTT with the simulated demo site (one
 * conveyor loop, two arm stations): a bin whose station's infeed jams while the belt runs is
 * sent to the other station with a job update, and a bin bound for a station whose arm crashed
 * is re-planned there before it leaves its port. Either way the other arm picks, the bin goes
 * home, a handled exception says what was done, and stock is conserved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExceptionView } from '../src/app/exception-service.js';
import type { OrderView } from '../src/app/queries.js';
import type { TaskRecord } from '../src/domain/records.js';
import { CHANNEL_TOKEN, orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

async function setUp(): Promise<Harness> {
  const h = await startHarness({ speed: 6 });
  await waitFor('the arms and the conveyor to report in', () => (h.core.registry.list().filter((d) => d.class !== 'amr').every((d) => d.lastSeenAt !== undefined) ? true : undefined), 30_000);
  return h;
}

let customer = 0;
async function placeAsrsOrder(h: Harness, skip: number): Promise<{ order: OrderView; sku: string; onHandBefore: number }> {
  const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
  const sku = h.core.layout.stock.filter((s) => zoneOf.get(s.location) === 'asrs' && s.onHand > 10 && (s.safetyStock ?? 0) === 0)[skip]!.sku;
  const onHandBefore = h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0);
  const r = await h.api('/api/v1/orders', { method: 'POST', token: CHANNEL_TOKEN, body: JSON.stringify(orderBody([{ sku, quantity: 1 }], { customer: { id: `reroute-${++customer}` } })) });
  expect(r.status).toBe(201);
  return { order: (await r.json()) as OrderView, sku, onHandBefore };
}

const stepOf = (h: Harness, lineId: string, kind: TaskRecord['kind']): TaskRecord | undefined => h.core.store.tasksOfLine(lineId).filter((t) => t.kind === kind).at(-1);

/** The line picked and its bin stored back; returns the line's steps then. */
async function completed(h: Harness, order: OrderView): Promise<TaskRecord[]> {
  const lineId = order.lines[0]!.id;
  await waitFor('the line picked', async () => {
    const o = (await (await h.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
    return o.lines[0]?.state === 'PICKED' || o.lines[0]?.state === 'PACKED' || o.lines[0]?.state === 'SHIPPED' ? true : undefined;
  }, 90_000, 250);
  return waitFor('the bin stored back', () => (stepOf(h, lineId, 'asrs.store')?.state === 'FINISHED' ? h.core.store.tasksOfLine(lineId) : undefined), 60_000, 100);
}

async function exceptionOf(h: Harness, lineId: string, type: string): Promise<ExceptionView | undefined> {
  const items = ((await (await h.api('/api/v1/exceptions')).json()) as { items: ExceptionView[] }).items;
  return items.find((e) => e.lineId === lineId && e.type === type);
}

const stationsOf = (h: Harness): Map<string, string> => new Map(h.core.layout.stations.filter((s) => s.kind === 'arm').map((s) => [s.id, s.armId!]));

describe('station re-routing', () => {
  describe("a station's infeed jams while its bin is on the belt", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await setUp();
    });
    afterAll(async () => h?.stop());

    it('sends the bin to the other station with a job update; the other arm picks and the bin goes home', async () => {
      const { order, sku, onHandBefore } = await placeAsrsOrder(h, 0);
      const lineId = order.lines[0]!.id;
      const onBelt = await waitFor('the bin on the belt', () => {
        const t = stepOf(h, lineId, 'conveyor.toStation');
        return t?.state === 'RUNNING' ? t : undefined;
      }, 60_000, 20);
      const jammed = onBelt.plan.stationId!;
      const conveyor = h.site!.devices.conveyors.find((c) => c.device.deviceId === onBelt.deviceId)!;
      conveyor.blockStop(jammed);
      try {
        const steps = await completed(h, order);
        const stations = stationsOf(h);
        const other = [...stations.keys()].find((s) => s !== jammed)!;
        const pick = steps.find((t) => t.kind === 'arm.pick')!;
        expect(pick).toMatchObject({ state: 'FINISHED', deviceId: stations.get(other) });
        const transport = steps.find((t) => t.kind === 'conveyor.toStation')!;
        expect([transport.id, transport.state, transport.plan.stationId, transport.progress.updateId]).toEqual([onBelt.id, 'FINISHED', other, 1]);
        expect(steps.find((t) => t.kind === 'conveyor.toPort')?.plan.stationId).toBe(other);
        const record = await exceptionOf(h, lineId, 'conveyor-jam');
        expect(record).toMatchObject({ status: 'handled', deviceId: onBelt.deviceId, taskId: onBelt.id });
        expect(record!.summary).toContain(`cannot deliver ${onBelt.loadId} to ${jammed}: its infeed is blocked`);
        expect(record!.actions.map((a) => a.action)).toEqual([`re-routed (job update sent) ${onBelt.loadId} from ${jammed} to ${other}; the pick moves to ${stations.get(other)}`]);
        const timeline = (await (await h.api(`/api/v1/orders/${order.id}/timeline`)).json()) as { events: { type: string; data: Record<string, unknown> }[] };
        expect(timeline.events.find((e) => e.type === 'task.rerouted')?.data).toMatchObject({ from: jammed, to: other, reason: 'stop-blocked', sent: true });
        expect(h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0)).toBe(onHandBefore - 1);
      } finally {
        conveyor.unblockStop(jammed);
      }
    });
  });

  describe("a station's arm crashes before the bin leaves its port", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await setUp();
    });
    afterAll(async () => h?.stop());

    it('re-plans the bin to the other station, whose arm picks it', async () => {
      const { order, sku, onHandBefore } = await placeAsrsOrder(h, 1);
      const lineId = order.lines[0]!.id;
      const transport = await waitFor('the bin planned to a station', () => {
        const t = stepOf(h, lineId, 'conveyor.toStation');
        return t?.state === 'CREATED' && stepOf(h, lineId, 'asrs.retrieve')?.state !== 'CREATED' ? t : undefined;
      }, 60_000, 20);
      const stations = stationsOf(h);
      const planned = transport.plan.stationId!;
      const deadArm = stations.get(planned)!;
      const other = [...stations.keys()].find((s) => s !== planned)!;
      // No DISCONNECT: the broker publishes the arm's will (CONNECTIONBROKEN).
      await h.site!.devices.arms.find((a) => a.device.deviceId === deadArm)!.stop(false);

      const steps = await completed(h, order);
      expect(steps.find((t) => t.kind === 'arm.pick')).toMatchObject({ state: 'FINISHED', deviceId: stations.get(other) });
      expect(steps.find((t) => t.kind === 'conveyor.toStation')?.plan.stationId).toBe(other);
      const record = await exceptionOf(h, lineId, 'device-unreachable');
      expect(record).toMatchObject({ status: 'handled', deviceId: deadArm, taskId: transport.id });
      expect(record!.summary).toBe(`${deadArm} at ${planned} is unreachable (connectionbroken)`);
      expect(record!.actions.map((a) => a.action)).toEqual([expect.stringMatching(new RegExp(`^re-(planned|routed \\(job update sent\\)) .* from ${planned} to ${other}; the pick moves to ${stations.get(other)}$`))]);
      expect(h.core.store.stockOf(sku).reduce((n, p) => n + p.onHand, 0)).toBe(onHandBefore - 1);
    });
  });
});
