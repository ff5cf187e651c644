import { describe, expect, it } from 'vitest';
import {
  etaMoved,
  ewma,
  EWMA_ALPHA,
  orderEta,
  queueWait,
  releaseWait,
  remainingSeconds,
  runningRemaining,
  shipmentEta,
  StepDurations,
  StepPhysics,
  type LineEtaInput,
} from './eta.js';
import { MS_PER_DAY } from './geo.js';
import { RouteGraph } from './route-graph.js';
import type { SiteLayout } from './site-layout.js';
import type { CarrierProfile, SiteProfile } from './sourcing.js';

// A straight aisle: the pack station at x=0, a near location at 3 m and a far one at 30 m; one
// AS/RS bin 8 m down the aisle on level 3; a 20 m loop from the port to an arm station at 5 m.
const layout: SiteLayout = {
  name: 'eta-test',
  description: '',
  site: { id: 'home', name: 'Home', lat: 51.5, lon: 7.46, mapId: 'm' },
  graph: {
    nodes: [
      { id: 'pack', x: 0, y: 0 },
      { id: 'near', x: 3, y: 0 },
      { id: 'far', x: 30, y: 0 },
    ],
    edges: [
      { id: 'e1', from: 'pack', to: 'near' },
      { id: 'e2', from: 'near', to: 'far' },
    ],
  },
  locations: [
    { id: 'A-NEAR', zone: 'amr', nodeId: 'near' },
    { id: 'A-FAR', zone: 'amr', nodeId: 'far' },
    { id: 'S-1', zone: 'asrs', asrsId: 'asrs-1', binId: 'BIN-1', level: 3, position: 8 },
  ],
  skus: [],
  stock: [],
  stations: [
    { id: 'pack-1', kind: 'pack', nodeId: 'pack' },
    { id: 'arm-st', kind: 'arm', armId: 'arm-1' },
  ],
  chargers: [],
  devices: {
    amrs: [{ manufacturer: 'm', serialNumber: 'amr-1', startNode: 'pack', maxSpeed: 1.5, acceleration: 0.5 }],
    asrs: [{ id: 'asrs-1', aisleLength: 10, levels: 4, levelHeight: 1, ports: [{ id: 'port-1', conveyorId: 'conv-1' }] }],
    conveyors: [{ id: 'conv-1', kind: 'loop', length: 20, speed: 1, stops: [{ id: 'port-1', at: 0 }, { id: 'arm-st', at: 5 }] }],
    arms: [{ id: 'arm-1', stationId: 'arm-st', pickTime: 3 }],
  },
};

// Trip = approach + carry (trapezoid at 1.5 m/s, 0.5 m/s²) + lift and set-down (2 × 3 s) + turns (2.5 s).
const FAR_TRIP = 2 * (30 / 1.5 + 1.5 / 0.5) + 6 + 2.5; // 54.5: long legs reach cruise speed
const NEAR_TRIP = 2 * (2 * Math.sqrt(3 / 0.5)) + 6 + 2.5; // 3 m legs never do

describe('StepPhysics: layout-based step durations', () => {
  const physics = new StepPhysics(layout, new RouteGraph(layout));

  it('estimates each step from the layout and the reference physics', () => {
    expect(physics.nominal('amr.pickTrip', { pickNodeId: 'far', dropNodeId: 'pack' })).toBeCloseTo(FAR_TRIP, 6);
    expect(physics.nominal('amr.pickTrip', { pickNodeId: 'near', dropNodeId: 'pack' })).toBeCloseTo(NEAR_TRIP, 6);
    // Shuttle 8 m (2 m/s, 1 m/s²: 6 s) and lift 3 m (3 m/s, 3 m/s²: 2 s) run together: 6 s each way, plus 2 × 2 s handling.
    expect(physics.nominal('asrs.retrieve', { location: 'S-1' })).toBeCloseTo(16, 6);
    // A loop runs one way: 5 m to the station, 15 m on round to the port.
    expect(physics.nominal('conveyor.toStation', { deviceId: 'conv-1', portId: 'port-1', stationId: 'arm-st' })).toBeCloseTo(5, 6);
    expect(physics.nominal('conveyor.toPort', { deviceId: 'conv-1', portId: 'port-1', stationId: 'arm-st' })).toBeCloseTo(15, 6);
    expect(physics.nominal('arm.pick', { deviceId: 'arm-1', quantity: 2 })).toBe(6);
    expect(physics.nominal('amr.pickTrip', { pickNodeId: 'nowhere', dropNodeId: 'pack' })).toBeUndefined();
  });

  it('seeds each kind with the mean over the layout', () => {
    expect(physics.typical.get('amr.pickTrip')).toBeCloseTo((FAR_TRIP + NEAR_TRIP) / 2, 6);
    expect(physics.typical.get('asrs.store')).toBeCloseTo(16, 6);
    expect(physics.typical.get('arm.pick')).toBe(3);
  });
});

describe('learned durations (EWMA)', () => {
  it('averages the first observations plainly, then weighs each new one by alpha', () => {
    let l = { seconds: 10, samples: 0 };
    l = ewma(l, 20);
    expect(l).toEqual({ seconds: 15, samples: 1 }); // the seed counts as one observation
    l = ewma(l, 20);
    expect(l.seconds).toBeCloseTo(50 / 3, 9); // weight 1/3
    expect(EWMA_ALPHA).toBe(0.2);
    expect(ewma({ seconds: 10, samples: 10 }, 20).seconds).toBeCloseTo(12, 9); // weight alpha
  });

  it('caps a long outlier at four times the average, but learns a shorter duration fully', () => {
    expect(ewma({ seconds: 10, samples: 10 }, 1000).seconds).toBeCloseTo(10 + 0.2 * 30, 9);
    expect(ewma({ seconds: 10, samples: 10 }, 1).seconds).toBeCloseTo(10 - 0.2 * 9, 9);
  });

  it('forgets a seed five times too pessimistic within a couple of dozen steps', () => {
    let l = { seconds: 50, samples: 0 };
    for (let i = 0; i < 25; i++) l = ewma(l, 10);
    expect(l.seconds).toBeLessThan(10.2);
  });

  it('scales the learned typical duration by each task’s physics, and normalises what it observes', () => {
    const d = new StepDurations(new StepPhysics(layout, new RouteGraph(layout)));
    const typical = (FAR_TRIP + NEAR_TRIP) / 2;
    const far = { pickNodeId: 'far', dropNodeId: 'pack' };
    expect(d.expected('amr.pickTrip', far)).toBeCloseTo(FAR_TRIP, 6);
    // The far trip took half its physics estimate: the typical trip is learned as half too.
    expect(d.observe('amr.pickTrip', far, FAR_TRIP / 2)).toBeCloseTo(typical / 2, 6);
    expect(d.typical('amr.pickTrip')).toBeCloseTo(0.75 * typical, 6);
    expect(d.expected('amr.pickTrip', far)).toBeCloseTo(0.75 * FAR_TRIP, 6);
    expect(d.expected('amr.pickTrip', { pickNodeId: 'near', dropNodeId: 'pack' })).toBeCloseTo(0.75 * NEAR_TRIP, 6);
    expect(d.snapshot().find((s) => s.kind === 'amr.pickTrip')).toMatchObject({ deviceClass: 'amr', samples: 1 });
    // Conveyor queue service time: the mean of its two kinds.
    expect(d.classMean('conveyor')).toBeCloseTo(10, 6);
  });
});

describe('remaining time of a plan', () => {
  it('counts down a running step, then keeps a floor that grows once it is overdue', () => {
    expect(runningRemaining(60, 20)).toBe(40);
    expect(runningRemaining(60, 57)).toBeCloseTo(6, 9); // floor: a tenth of the expected time
    expect(runningRemaining(60, 80)).toBeCloseTo(6 + 10, 9); // plus half the overrun
  });

  it('moves the picked-by of a stalled step later as time passes', () => {
    const started = 0;
    const pickedBy = (now: number): number => now + runningRemaining(60, now - started);
    expect(pickedBy(30)).toBe(60); // on time: the ETA stands
    expect(pickedBy(55)).toBe(61); // near its end: the floor holds the ETA a little ahead
    expect(pickedBy(90) - pickedBy(80)).toBeCloseTo(15, 9); // overdue: 1.5 s later per second
  });

  it('waits for the tasks ahead shared over the class’s devices', () => {
    expect(queueWait(6, 3, 20)).toBe(40);
    expect(queueWait(2, 0, 20)).toBe(40);
    expect(queueWait(-1, 3, 20)).toBe(0);
  });

  it('waits for a release slot only once the window is full', () => {
    expect(releaseWait({ linesAhead: 5, activeLines: 190, window: 200, meanLineSeconds: 60 })).toBe(0);
    expect(releaseWait({ linesAhead: 99, activeLines: 200, window: 200, meanLineSeconds: 60 })).toBeCloseTo(30, 9);
  });

  it('sums work up to the picking step and adds the bottleneck queue once', () => {
    const seconds = remainingSeconds([
      { kind: 'asrs.retrieve', status: 'done' },
      { kind: 'conveyor.toStation', status: 'running', expected: 5, elapsed: 2 },
      { kind: 'arm.pick', status: 'waiting', expected: 6, queueWait: 10 },
      // The bin's ride home does not hold the order.
      { kind: 'conveyor.toPort', status: 'waiting', expected: 15, queueWait: 100 },
      { kind: 'asrs.store', status: 'waiting', expected: 16, queueWait: 100 },
    ]);
    expect(seconds).toBeCloseTo(3 + 6 + 10, 9);
    const notStarted = remainingSeconds([
      { kind: 'asrs.retrieve', status: 'waiting', expected: 16, queueWait: 4 },
      { kind: 'conveyor.toStation', status: 'waiting', expected: 5, queueWait: 1 },
      { kind: 'arm.pick', status: 'waiting', expected: 6, queueWait: 10 },
    ]);
    expect(notStarted).toBeCloseTo(27 + 10, 9);
  });
});

// CET site (UTC+1), road carrier leaving at 16:00 local (15:00 UTC), 600 km a day, at least a day.
const carrier: CarrierProfile = { id: 'road', mode: 'road', cutoff: '16:00', costPerShipment: 4, costPerKm: 0.002, kmPerDay: 600, minTransitDays: 1 };
const home: SiteProfile = {
  id: 'home',
  name: 'Home',
  lat: 51.5,
  lon: 7.46,
  utcOffsetMinutes: 60,
  handlingCostPerUnit: 1,
  capacityPerHour: 1000,
  replenishmentDays: 7,
  co2GramsPerKm: { road: 110 },
  carriers: [carrier],
};
const at = (iso: string): number => Date.parse(iso);

describe('from picked to delivered', () => {
  it('packs in the configured time: by default a minute plus 10 s per unit', () => {
    const picked = at('2024-03-04T10:00:00Z');
    expect(shipmentEta(picked, 2, home, carrier, 300).packedBy - picked).toBe(80_000);
    expect(shipmentEta(picked, 2, home, carrier, 300, { baseSeconds: 30, secondsPerUnit: 5 }).packedBy - picked).toBe(40_000);
    const line = { lineId: 'L-1', units: 2, pickedBy: picked, shipping: { site: home, carrier, distanceKm: 300 }, promiseDate: undefined };
    expect(orderEta([line], { baseSeconds: 0, secondsPerUnit: 0 })!.packedBy).toBe(picked);
  });

  it('ships at the cut-off of the day the parcel is packed, and arrives after the transit days', () => {
    const eta = shipmentEta(at('2024-03-04T14:00:00Z'), 2, home, carrier, 300);
    expect(eta.packedBy).toBe(at('2024-03-04T14:01:20Z'));
    expect(eta.shipsAt).toBe(at('2024-03-04T15:00:00Z'));
    expect(eta.deliversBy).toBe(at('2024-03-05T15:00:00Z'));
  });

  it('rolls over to the next day when packing ends after the cut-off', () => {
    const eta = shipmentEta(at('2024-03-04T14:59:00Z'), 2, home, carrier, 700);
    expect(eta.packedBy).toBe(at('2024-03-04T15:00:20Z'));
    expect(eta.shipsAt).toBe(at('2024-03-05T15:00:00Z'));
    expect(eta.deliversBy).toBe(eta.shipsAt + 2 * MS_PER_DAY); // 700 km at 600 km a day
  });

  it('still makes the departure when packed exactly at the cut-off', () => {
    expect(shipmentEta(at('2024-03-04T14:58:40Z'), 2, home, carrier, 10).shipsAt).toBe(at('2024-03-04T15:00:00Z'));
  });

  it('takes the latest shipment of the order, and the promise of lines picked elsewhere', () => {
    const shipping = { site: home, carrier, distanceKm: 300 };
    const lines: LineEtaInput[] = [
      { lineId: 'L1', units: 1, pickedBy: at('2024-03-04T10:00:00Z'), shipping, promiseDate: undefined },
      { lineId: 'L2', units: 3, pickedBy: at('2024-03-04T10:30:00Z'), shipping, promiseDate: undefined },
    ];
    const eta = orderEta(lines)!;
    expect(eta.pickedBy).toBe(at('2024-03-04T10:30:00Z'));
    expect(eta.packedBy).toBe(at('2024-03-04T10:30:00Z') + 100_000); // one parcel for both lines: 60 s + 4 units x 10 s
    expect(eta.shipsAt).toBe(at('2024-03-04T15:00:00Z'));
    expect(eta.deliversBy).toBe(at('2024-03-05T15:00:00Z'));
    const remote = orderEta([...lines, { lineId: 'L3', units: 1, pickedBy: undefined, shipping: undefined, promiseDate: at('2024-03-08T12:00:00Z') }])!;
    expect(remote.deliversBy).toBe(at('2024-03-08T12:00:00Z'));
    expect(remote.pickedBy).toBe(eta.pickedBy);
    expect(orderEta([{ lineId: 'L4', units: 1, pickedBy: undefined, shipping: undefined, promiseDate: undefined }])).toBeUndefined();
  });

  it('calls an ETA moved at a second or more', () => {
    const a = { pickedBy: 10_000, packedBy: 20_000, shipsAt: 30_000, deliversBy: 40_000 };
    expect(etaMoved(a, { ...a, pickedBy: 10_999 })).toBe(false);
    expect(etaMoved(a, { ...a, pickedBy: 11_000 })).toBe(true);
    expect(etaMoved(a, { ...a, shipsAt: null })).toBe(true);
    expect(etaMoved(undefined, a)).toBe(true);
    expect(etaMoved(undefined, undefined)).toBe(false);
  });
});
