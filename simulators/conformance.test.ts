/**
 * Every simulated device class passes the device-protocol conformance suite a real device must
 * pass (devices/conformance), over a real MQTT broker (embedded aedes) on a 10x clock.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../devices/test-broker.js';
import { vdaConformanceSuite, wcsConformanceSuite, type ConformanceSuite, type WcsTestAction } from '../devices/conformance/index.js';
import { SimulatedAmr } from './amr.js';
import { SimulatedArm } from './arm.js';
import { SimulatedAsrs } from './asrs.js';
import { scaledClock } from './clock.js';
import { SimulatedConveyor } from './conveyor.js';
import { generateDemoLayout } from './sites/generate-demo.js';

const layout = generateDemoLayout(1);
const site = layout.site.id;
const clock = scaledClock(10);

let broker: TestBroker | undefined;
/** The broker's URL once it runs (suites are also built earlier, only to list their checks). */
const url = (): string => broker?.url ?? 'mqtt://127.0.0.1:1';
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker?.close();
});

/** Registers the suite's checks as ordered tests sharing one device. */
function conformance(name: string, make: () => ConformanceSuite): void {
  describe(name, () => {
    let suite: ConformanceSuite;
    const ids = make().checks.map((c) => c.id);
    beforeAll(async () => {
      suite = make();
      await suite.setup();
    });
    afterAll(async () => {
      await suite.teardown();
    });
    for (const id of ids) {
      it(id, async () => {
        const check = suite.checks.find((c) => c.id === id);
        if (check === undefined) throw new Error(`check ${id} vanished`);
        await check.run();
      });
    }
  });
}

/** start/kill/stop for one simulated device, restartable after a kill. */
function lifecycle<T extends { stop(graceful?: boolean): Promise<void> }>(start: () => Promise<T>): { start(): Promise<void>; kill(): Promise<void>; stop(): Promise<void> } {
  let current: T | undefined;
  return {
    start: async () => {
      current = await start();
    },
    kill: async () => {
      await current?.stop(false);
      current = undefined;
    },
    stop: async () => {
      await current?.stop(true);
      current = undefined;
    },
  };
}

const amrSpec = layout.devices.amrs[0];
if (amrSpec === undefined) throw new Error('demo layout has no AMR');
const node = (id: string): { nodeId: string; x: number; y: number } => {
  const n = layout.graph.nodes.find((x) => x.id === id);
  if (n === undefined) throw new Error(`no node ${id}`);
  return { nodeId: n.id, x: n.x, y: n.y };
};
const neighbour = layout.graph.edges.find((e) => e.from === amrSpec.startNode)?.to ?? layout.graph.edges.find((e) => e.to === amrSpec.startNode)?.from;
if (neighbour === undefined) throw new Error('start node has no neighbour');

conformance('simulated AMR (VDA 5050)', () =>
  vdaConformanceSuite({
    url: url(),
    interfaceName: 'uagv',
    manufacturer: amrSpec.manufacturer,
    serialNumber: amrSpec.serialNumber,
    mapId: layout.site.mapId,
    route: [node(amrSpec.startNode), node(neighbour)],
    ...lifecycle(() => SimulatedAmr.start({ layout, spec: amrSpec, interfaceName: 'uagv', url: url(), clock, stateIntervalMs: 5000 })),
    routeTimeoutMs: 15_000,
  }),
);

const asrsSpec = layout.devices.asrs[0];
const conveyorSpec = layout.devices.conveyors[0];
const armSpec = layout.devices.arms[0];
if (asrsSpec === undefined || conveyorSpec === undefined || armSpec === undefined) throw new Error('demo layout lacks a wcs device');
const asrsLocations = layout.locations.filter((l) => l.asrsId === asrsSpec.id).sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
const near = asrsLocations[0];
const far = asrsLocations.at(-1);
if (near === undefined || far === undefined) throw new Error('no AS/RS locations');
const port = asrsSpec.ports[0]?.id ?? '';
const retrieve = (l: typeof near): WcsTestAction[] => [{ actionType: 'retrieve', parameters: { binId: l.binId ?? 'BIN-X', locationId: l.id, portId: port } }];
const [s0, s1] = conveyorSpec.stops;
if (s0 === undefined || s1 === undefined) throw new Error('conveyor needs two stops');
const wcs = (): { url: string; site: string; timeoutMs: number; jobTimeoutMs: number } => ({ url: url(), site, timeoutMs: 5000, jobTimeoutMs: 15_000 });

conformance('simulated AS/RS (wcs/v1)', () =>
  wcsConformanceSuite({
    ...wcs(),
    deviceClass: 'asrs',
    deviceId: asrsSpec.id,
    job: retrieve(near),
    longJob: retrieve(far),
    ...lifecycle(() => SimulatedAsrs.start(asrsSpec, layout, { site, url: url(), clock })),
  }),
);

conformance('simulated conveyor (wcs/v1)', () =>
  wcsConformanceSuite({
    ...wcs(),
    deviceClass: 'conveyor',
    deviceId: conveyorSpec.id,
    job: [{ actionType: 'transport', parameters: { loadId: 'CF-TOTE-1', from: s0.id, to: s1.id } }],
    // The loop runs one way: from the second stop back to the first is nearly a full round.
    longJob: [{ actionType: 'transport', parameters: { loadId: 'CF-TOTE-2', from: s1.id, to: s0.id } }],
    ...lifecycle(() => SimulatedConveyor.start(conveyorSpec, { site, url: url(), clock })),
  }),
);

conformance('simulated arm station (wcs/v1)', () =>
  wcsConformanceSuite({
    ...wcs(),
    deviceClass: 'arm',
    deviceId: armSpec.id,
    job: [{ actionType: 'pick', parameters: { sku: 'SKU-0001', quantity: '1', sourceLoadId: 'BIN-1', targetLoadId: 'T-1' } }],
    longJob: [{ actionType: 'pick', parameters: { sku: 'SKU-0002', quantity: '30', sourceLoadId: 'BIN-2', targetLoadId: 'T-2' } }],
    ...lifecycle(() => SimulatedArm.start(armSpec, { site, url: url(), clock })),
  }),
);
