/**
 * Generates the bundled `g2r` layout: a goods-to-robot site. Six single-crane AS/RS aisles send
 * bins through their ports onto one conveyor loop; diverts take each bin off the loop to one of
 * four robot-arm pick stations, merges put it back, and a divert returns it to its aisle's port.
 *
 *   npx tsx simulators/sites/generate-g2r.ts   (writes simulators/sites/g2r.json)
 *
 * Conveyor `loop-1` (160 m, 1 m/s, 0.8 m pitch) is one conveyor controller: every port and arm
 * station is a stop on it, reached over a spur. Per stop: a divert branch 1 m before the stop's
 * point on the loop (loop -> stop) and a merge branch 1 m after it (stop -> loop, waiting for a
 * 1.2 m gap). Ports sit at 4..44 m, arm stations at 80..134 m.
 *
 * Storage: 1,400 bins, one SKU each, in aisles of 40 m x 10 levels of 0.4 m. 800 SKUs listed best
 * seller first: ranks 1-100 (A) get 4 bins each, spread over different aisles, on the first 10 m
 * of an aisle; 101-400 (B) 2 bins within 25 m; 401-800 (C) 1 bin anywhere.
 * There is no AMR floor: the route graph is the outbound dock the format requires (two nodes).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { SiteLayout } from '../../src/index.js';
import { createRng, type Rng } from '../random.js';
import { homeNetwork, makeCatalogue, pad, shuffle, writeLayout } from './generator-kit.js';

export const G2R = {
  aisles: 6,
  aisleLength: 40,
  levels: 10,
  levelHeight: 0.4,
  armStations: 4,
  armPickSeconds: 4,
  skus: 800,
  loopLength: 160,
} as const;

const PORT_AT = (k: number): number => 4 + 8 * k;
const STATION_AT = (j: number): number => 80 + 18 * j;

type ConveyorBranch = NonNullable<SiteLayout['devices']['conveyors'][number]['branches']>[number];

function spurs(stop: string, at: number, length: number, capacity: number): ConveyorBranch[] {
  return [
    { id: `${stop}-in`, kind: 'divert', stop, at: at - 1, length, capacity },
    { id: `${stop}-out`, kind: 'merge', stop, at: at + 1, length, capacity, mergeGap: 1.2 },
  ];
}

export function generateG2rLayout(seed = 1): SiteLayout {
  const rng = createRng(seed);
  const asrsIds = Array.from({ length: G2R.aisles }, (_, k) => `asrs-${k + 1}`);
  const portOf = (k: number): string => `asrs-${k + 1}-p1`;
  const stationIds = Array.from({ length: G2R.armStations }, (_, j) => `arm-st-${j + 1}`);

  const stops = [...asrsIds.map((_, k) => ({ id: portOf(k), at: PORT_AT(k) })), ...stationIds.map((id, j) => ({ id, at: STATION_AT(j) }))];
  const branches = [...asrsIds.flatMap((_, k) => spurs(portOf(k), PORT_AT(k), 3, 3)), ...stationIds.flatMap((id, j) => spurs(id, STATION_AT(j), 4, 4))];

  const skus = makeCatalogue(rng.fork('skus'), G2R.skus);
  const { locations, stock } = slotBins(skus, asrsIds, rng);

  const site = { id: 'g2r', name: 'Pickwire Goods-to-Robot Bielefeld', lat: 52.02, lon: 8.53, mapId: 'g2r-floor' };
  return {
    name: 'g2r',
    description:
      'Goods-to-robot site: six single-crane AS/RS aisles with one port each on a 160 m conveyor loop; diverts and merges connect the ports and four robot-arm pick stations. No AMR floor.',
    site,
    graph: {
      nodes: [
        { id: 'dock-1', x: 0, y: 0 },
        { id: 'dock-2', x: 4, y: 0 },
      ],
      edges: [{ id: 'dock-1_dock-2', from: 'dock-1', to: 'dock-2', bidirectional: true }],
    },
    locations,
    skus,
    stock,
    stations: stationIds.map((id, j) => ({ id, kind: 'arm', armId: `arm-${j + 1}` })),
    chargers: [],
    devices: {
      amrs: [],
      asrs: asrsIds.map((id, k) => ({
        id,
        aisleLength: G2R.aisleLength,
        levels: G2R.levels,
        levelHeight: G2R.levelHeight,
        ports: [{ id: portOf(k), conveyorId: 'loop-1' }],
        crane: { travel: { maxSpeed: 2, accel: 1 }, lift: { maxSpeed: 3, accel: 3 }, handlingTime: 2 },
      })),
      conveyors: [{ id: 'loop-1', kind: 'loop', length: G2R.loopLength, speed: 1, pitch: 0.8, stops, branches }],
      arms: stationIds.map((stationId, j) => ({ id: `arm-${j + 1}`, stationId, pickTime: G2R.armPickSeconds })),
    },
    orderFeed: { ordersPerMinute: 4, maxLinesPerOrder: 3, maxUnitsPerLine: 3, seed: 1 },
    network: homeNetwork(site, 1500),
  };
}

/** Class-based slotting: fast movers near the port end, their replicas in different aisles. */
function slotBins(skus: SiteLayout['skus'], asrsIds: string[], rng: Rng): Pick<SiteLayout, 'locations' | 'stock'> {
  const slotsOf = new Map<string, { level: number; position: number; side: 'L' | 'R' }[]>();
  for (const id of asrsIds) {
    const slots: { level: number; position: number; side: 'L' | 'R' }[] = [];
    for (let level = 0; level < G2R.levels; level++) {
      for (let p = 1; p <= G2R.aisleLength * 2; p++) for (const side of ['L', 'R'] as const) slots.push({ level, position: p * 0.5, side });
    }
    slotsOf.set(id, shuffle(slots, rng.fork(`slots-${id}`)));
  }
  const take = (asrsId: string, maxPosition: number): { level: number; position: number; side: 'L' | 'R' } => {
    const slots = slotsOf.get(asrsId) ?? [];
    const i = slots.findIndex((s) => s.position <= maxPosition);
    if (i < 0) throw new Error(`aisle ${asrsId} is full up to ${maxPosition} m`);
    return slots.splice(i, 1)[0] as { level: number; position: number; side: 'L' | 'R' };
  };
  const stockRng = rng.fork('stock');
  const locations: SiteLayout['locations'] = [];
  const stock: SiteLayout['stock'] = [];
  let aisleCursor = 0;
  skus.forEach((s, i) => {
    const rank = i + 1;
    const [count, reach, slotClass, lo, hi] = rank <= 100 ? [4, 10, 'A', 150, 300] as const : rank <= 400 ? [2, 25, 'B', 60, 120] as const : [1, G2R.aisleLength, 'C', 30, 60] as const;
    for (let r = 0; r < count; r++) {
      const asrsId = asrsIds[aisleCursor++ % asrsIds.length] as string;
      const slot = take(asrsId, reach);
      const id = `${asrsId.replace('asrs-', 'S')}-${slot.level}-${pad(Math.round(slot.position * 10), 3)}-${slot.side}`;
      locations.push({ id, zone: 'asrs', asrsId, binId: `BIN-${pad(locations.length + 1, 4)}`, level: slot.level, position: slot.position, slotClass });
      stock.push({ sku: s.sku, location: id, onHand: stockRng.int(lo, hi), safetyStock: 0 });
    }
  });
  return { locations, stock };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = join(dirname(fileURLToPath(import.meta.url)), 'g2r.json');
  writeLayout(out, generateG2rLayout(1));
  console.log(`wrote ${out}`);
}
