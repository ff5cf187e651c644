import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { decodeVda, decodeWcs, encodeVda, encodeWcs } from '../../protocols/index.js';
import { buildStepJob, buildTripOrder, planTripRoute } from './commands.js';
import { planLine, PlanningError } from './execution-plan.js';
import type { TaskRecord } from './records.js';
import { RouteGraph } from './route-graph.js';
import type { SiteLayout } from './site-layout.js';
import { choosePosition, atp } from './stock.js';
import { deriveFulfilment } from './fulfilment.js';

const demo = JSON.parse(readFileSync(new URL('../../simulators/sites/demo.json', import.meta.url), 'utf8')) as SiteLayout;
const amrLocation = demo.locations.find((l) => l.zone === 'amr')!;
const asrsLocation = demo.locations.find((l) => l.zone === 'asrs')!;
const noLoad = { portLoad: new Map<string, number>(), stationLoad: new Map<string, number>() };

function task(draft: ReturnType<typeof planLine>[number], id = 'T-1'): TaskRecord {
  return { id, lineId: 'O-1-L1', orderId: 'O-1', ...draft, state: 'CREATED', progress: { applied: [] }, attempts: 0, createdAt: 0, updatedAt: 0 };
}

describe('execution planning', () => {
  it('plans an AMR-zone line as one pick trip from the storage node to the pack station', () => {
    const [trip, ...rest] = planLine(demo, { lineId: 'L', orderId: 'O-1', sku: 'SKU-1', quantity: 2, location: amrLocation, ...noLoad });
    expect(rest).toEqual([]);
    const pack = demo.stations.find((s) => s.kind === 'pack')!;
    expect(trip).toMatchObject({ kind: 'amr.pickTrip', deviceClass: 'amr', deviceId: undefined, plan: { pickNodeId: amrLocation.nodeId, dropNodeId: pack.nodeId, quantity: 2 } });
  });

  it('sends a trip to the least used pack station, unless the order already has one', () => {
    const rmfs = JSON.parse(readFileSync(new URL('../../simulators/sites/rmfs-large.json', import.meta.url), 'utf8')) as SiteLayout;
    const packs = rmfs.stations.filter((s) => s.kind === 'pack');
    expect(packs.length).toBeGreaterThan(1);
    const location = rmfs.locations.find((l) => l.zone === 'amr')!;
    const load = new Map(packs.map((s, i) => [s.id, i === 2 ? 0 : 5]));
    const plan = (packStationId?: string) => planLine(rmfs, { lineId: 'L', orderId: 'O-1', sku: 'SKU-1', quantity: 1, location, portLoad: new Map(), stationLoad: load, packStationId })[0]!.plan;
    expect(plan().stationId).toBe(packs[2]!.id);
    expect(plan(packs[4]!.id)).toMatchObject({ stationId: packs[4]!.id, dropNodeId: packs[4]!.nodeId });
  });

  it('plans an AS/RS-zone line as retrieve, convey, arm pick, convey back, store, on the least loaded port', () => {
    const busyPort = demo.devices.asrs[0]!.ports[0]!.id;
    const steps = planLine(demo, { lineId: 'L', orderId: 'O-1', sku: 'SKU-2', quantity: 1, location: asrsLocation, portLoad: new Map([[busyPort, 3]]), stationLoad: new Map() });
    expect(steps.map((s) => s.kind)).toEqual(['asrs.retrieve', 'conveyor.toStation', 'arm.pick', 'conveyor.toPort', 'asrs.store']);
    expect(new Set(steps.map((s) => s.loadId))).toEqual(new Set([asrsLocation.binId]));
    expect(steps[0]!.plan.portId).not.toBe(busyPort);
    const station = demo.stations.find((s) => s.id === steps[2]!.plan.stationId)!;
    expect(steps[2]!.deviceId).toBe(station.armId);
  });

  it('refuses to plan a site without a pack station', () => {
    const broken: SiteLayout = { ...demo, stations: demo.stations.filter((s) => s.kind !== 'pack') };
    expect(() => planLine(broken, { lineId: 'L', orderId: 'O', sku: 'S', quantity: 1, location: amrLocation, ...noLoad })).toThrow(PlanningError);
  });
});

describe('commands', () => {
  const graph = new RouteGraph(demo);
  const start = demo.devices.amrs[0]!;

  it('builds a VDA 5050 order that passes our own schema validation, with pick and drop where planned', () => {
    const t = task(planLine(demo, { lineId: 'L', orderId: 'O-1', sku: 'SKU-1', quantity: 2, location: amrLocation, ...noLoad })[0]!);
    const route = planTripRoute(graph, start.startNode, t)!;
    const order = buildTripOrder({ header: { headerId: 7, timestamp: '2026-01-01T00:00:00.000Z' }, vehicle: start, graph, mapId: demo.site.mapId, task: t, route, orderUpdateId: 0 });
    const decoded = decodeVda('order', encodeVda('order', order));
    expect(decoded.nodes.map((n) => n.sequenceId)).toEqual(route.nodes.map((_, i) => i * 2));
    expect(decoded.edges.map((e) => e.sequenceId)).toEqual(route.steps.map((_, i) => i * 2 + 1));
    expect(decoded.nodes[0]!.nodeId).toBe(start.startNode);
    const pickNode = decoded.nodes.find((n) => n.actions.some((a) => a.actionType === 'pick'))!;
    expect(pickNode.nodeId).toBe(amrLocation.nodeId);
    expect(decoded.nodes.at(-1)!.actions.map((a) => a.actionType)).toEqual(['drop']);
    for (let i = 0; i < decoded.edges.length; i++) {
      expect(decoded.edges[i]!.startNodeId).toBe(decoded.nodes[i]!.nodeId);
      expect(decoded.edges[i]!.endNodeId).toBe(decoded.nodes[i + 1]!.nodeId);
    }
  });

  it('builds wcs jobs for every AS/RS step that round-trip through the protobuf codec', () => {
    const steps = planLine(demo, { lineId: 'L', orderId: 'O-1', sku: 'SKU-2', quantity: 3, location: asrsLocation, ...noLoad });
    const actions = steps.map((s, i) => {
      const job = buildStepJob({ header: { headerId: i + 1, timestamp: '2026-01-01T00:00:00.000Z' }, site: demo.site.id, task: task(s, `T-${i}`), jobUpdateId: 0 });
      const back = decodeWcs('job', encodeWcs('job', job));
      expect(back.header.deviceId).toBe(s.deviceId);
      return back.actions[0]!;
    });
    expect(actions.map((a) => a.actionType)).toEqual(['retrieve', 'transport', 'pick', 'transport', 'store']);
    const pick = Object.fromEntries(actions[2]!.actionParameters.map((p) => [p.key, p.value]));
    expect(pick).toMatchObject({ sku: 'SKU-2', quantity: '3', sourceLoadId: asrsLocation.binId, targetLoadId: 'TOTE-O-1' });
  });
});

describe('stock and fulfilment arithmetic', () => {
  const p = (location: string, onHand: number, reserved = 0, safetyStock = 0) => ({ site: 's', location, sku: 'X', zone: 'amr' as const, onHand, reserved, safetyStock });

  it('computes ATP and chooses the position that fills the quantity with the least left over', () => {
    expect(atp(p('a', 10, 3, 2))).toBe(5);
    expect(atp(p('a', 1, 3, 2))).toBe(0);
    expect(choosePosition([p('a', 50), p('b', 6), p('c', 3)], 5)?.location).toBe('b');
    expect(choosePosition([p('a', 5, 1)], 5)).toBeUndefined();
  });

  it('derives the order fulfilment from its lines, surfacing exceptions', () => {
    expect(deriveFulfilment(['PICKED', 'PICKING'])).toBe('PICKING');
    expect(deriveFulfilment(['PICKED', 'CANCELED'])).toBe('PICKED');
    expect(deriveFulfilment(['PICKED', 'BACKORDERED'])).toBe('BACKORDERED');
    expect(deriveFulfilment(['CANCELED'])).toBe('CANCELED');
  });
});
