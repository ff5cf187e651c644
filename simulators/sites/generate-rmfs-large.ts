/**
 * Generates the bundled `rmfs-large` layout: a robotic mobile fulfilment system (goods-to-person)
 * shaped like RAWSim-O's MaTi "Large" instance — 56 robots, 7 pick stations on the east border
 * with queues, about 1,900 storage pods on a 1 m grid, robots at 1.5 m/s and 0.5 m/s^2 with 3 s to
 * lift or set down a pod.
 *
 *   npx tsx simulators/sites/generate-rmfs-large.ts   (writes simulators/sites/rmfs-large.json)
 *
 * Floor plan (1 m grid, x east, y north; one grid point = one node):
 *   x 0..106, y 0..41   open floor. Inside it, the storage area x 3..103, y 3..39 holds 20 x 12
 *                       pod blocks of 4 (east-west) x 2 (north-south) storage nodes, one-node
 *                       aisles between blocks; rows y 0..2 (south), 40..41 (north) and columns
 *                       x 0..2 (west), 104..106 (east) are hallways.
 *   x 107..111          seven station bays at y = 5, 10, ..., 35: a one-way queue lane east on
 *                       row y (x 107..110) into the station node (111, y), and a one-way exit lane
 *                       west on row y + 1 back to the east hallway.
 *   y 42                16 charger spurs off the north hallway.
 * Every lane of the open floor is one-way, alternating like a Manhattan street grid (even rows
 * east, odd rows west, even columns north, odd columns and the west border south): robots meet
 * only at crossings and follow each other along a lane, never head-on where neither could give
 * way. Storage nodes are dead ends off the aisle they face: a robot carrying a pod never drives through
 * another pod (RAWSim-O lets empty robots pass under pods; we do not, which is conservative).
 * 1,920 storage nodes hold 1,900 pods, leaving 20 free spots for putting pods away elsewhere.
 * Each pod is one AMR-zone location (`mobile: true`) holding 1-4 SKUs; 1,000 SKUs listed best
 * seller first, slotted class-based: A (ranks 1-100) on the third of pods nearest the stations,
 * B (101-400) in the middle third, C (401-1000) on the west third.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { SiteLayout } from '../../src/index.js';
import { createRng, type Rng } from '../random.js';
import { homeNetwork, makeCatalogue, pad, shuffle, writeLayout } from './generator-kit.js';

export const RMFS_LARGE = {
  robots: 56,
  stations: 7,
  blocksX: 20,
  blocksY: 12,
  pods: 1900,
  skus: 1000,
  chargers: 16,
  stationPickSeconds: 10,
} as const;

const FLOOR = { width: 107, height: 42 };
const STORE = { x0: 3, y0: 3 };
const STATION_ROWS = Array.from({ length: RMFS_LARGE.stations }, (_, k) => 5 + 5 * k);
const QUEUE_X = [107, 108, 109, 110];
const STATION_X = 111;

const nodeId = (x: number, y: number): string => `n-${pad(x, 3)}-${pad(y)}`;

/** Which storage block cell a floor point is, if any: [blockX, blockY] and its offsets. */
function podCell(x: number, y: number): { bx: number; by: number } | undefined {
  const dx = x - STORE.x0;
  const dy = y - STORE.y0;
  if (dx < 0 || dy < 0) return undefined;
  const bx = Math.floor(dx / 5);
  const by = Math.floor(dy / 3);
  if (bx >= RMFS_LARGE.blocksX || by >= RMFS_LARGE.blocksY) return undefined;
  return dx % 5 !== 0 && dy % 3 !== 0 ? { bx, by } : undefined;
}

/**
 * Lane directions of the open floor: even rows run east, odd rows west; even columns north, odd
 * south, but the west border column south, so the border is one loop (every corner has a way in
 * and a way out).
 */
const rowRunsEast = (y: number): boolean => y % 2 === 0;
const columnRunsNorth = (x: number): boolean => x !== 0 && x % 2 === 0;

type Node = SiteLayout['graph']['nodes'][number];
type Edge = SiteLayout['graph']['edges'][number];

export function generateRmfsLargeLayout(seed = 1): SiteLayout {
  const rng = createRng(seed);
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  const link = (a: string, b: string, oneWay = false): void => {
    edges.push(oneWay ? { id: `${a}_${b}`, from: a, to: b, bidirectional: false } : { id: `${a}_${b}`, from: a, to: b, bidirectional: true });
  };

  // Open floor: travel nodes everywhere but pod cells; pod cells are storage nodes.
  const storageNodes: { id: string; x: number; y: number }[] = [];
  for (let y = 0; y < FLOOR.height; y++) {
    for (let x = 0; x < FLOOR.width; x++) {
      const id = nodeId(x, y);
      if (podCell(x, y)) {
        nodes.push({ id, x, y, zone: 'amr' });
        storageNodes.push({ id, x, y });
      } else {
        nodes.push({ id, x, y });
      }
    }
  }
  // One-way lanes, alternating (a Manhattan grid): two robots never meet head-on in a one-node
  // aisle, where neither could get out of the other's way.
  for (let y = 0; y < FLOOR.height; y++) {
    for (let x = 0; x < FLOOR.width; x++) {
      if (podCell(x, y)) continue;
      if (x + 1 < FLOOR.width && !podCell(x + 1, y)) {
        const [from, to] = rowRunsEast(y) ? [nodeId(x, y), nodeId(x + 1, y)] : [nodeId(x + 1, y), nodeId(x, y)];
        link(from, to, true);
      }
      if (y + 1 < FLOOR.height && !podCell(x, y + 1)) {
        const [from, to] = columnRunsNorth(x) ? [nodeId(x, y), nodeId(x, y + 1)] : [nodeId(x, y + 1), nodeId(x, y)];
        link(from, to, true);
      }
    }
  }
  // Each storage node hangs off the aisle row it faces: the lower pod row faces south, the upper north.
  for (const s of storageNodes) {
    const facesSouth = (s.y - STORE.y0) % 3 === 1;
    link(nodeId(s.x, facesSouth ? s.y - 1 : s.y + 1), s.id);
  }

  // Station bays: queue lane in (east), station, exit lane out (west).
  const stations: SiteLayout['stations'] = [];
  STATION_ROWS.forEach((y, k) => {
    const queue = QUEUE_X.map((x) => nodeId(x, y));
    const station = nodeId(STATION_X, y);
    for (const x of QUEUE_X) nodes.push({ id: nodeId(x, y), x, y });
    nodes.push({ id: station, x: STATION_X, y, zone: 'pack' });
    const exit = [STATION_X, ...[...QUEUE_X].reverse()].map((x) => nodeId(x, y + 1));
    for (const x of [STATION_X, ...QUEUE_X]) nodes.push({ id: nodeId(x, y + 1), x, y: y + 1 });
    const lane = [nodeId(FLOOR.width - 1, y), ...queue, station, ...exit, nodeId(FLOOR.width - 1, y + 1)];
    for (let i = 1; i < lane.length; i++) link(lane[i - 1] as string, lane[i] as string, true);
    stations.push({ id: `st-${k + 1}`, kind: 'pack', nodeId: station, queueNodes: queue, pickTime: RMFS_LARGE.stationPickSeconds });
  });

  // Chargers: spurs north of the north hallway, so a charging robot blocks no lane.
  const chargers: SiteLayout['chargers'] = [];
  for (let k = 0; k < RMFS_LARGE.chargers; k++) {
    const x = 6 + 6 * k;
    const id = nodeId(x, FLOOR.height);
    nodes.push({ id, x, y: FLOOR.height, zone: 'charge' });
    link(nodeId(x, FLOOR.height - 1), id);
    chargers.push({ id: `charger-${pad(k + 1)}`, nodeId: id });
  }

  const skus = makeCatalogue(rng.fork('skus'), RMFS_LARGE.skus);
  const { locations, stock } = slotPods(storageNodes, skus, rng);

  // Robots start spread over the south hallway, on rows 0 and 2 so row 1 stays free to leave by.
  const amrs: SiteLayout['devices']['amrs'] = Array.from({ length: RMFS_LARGE.robots }, (_, i) => ({
    manufacturer: 'pickwire-sim',
    serialNumber: `amr-${pad(i + 1)}`,
    model: 'pod-lifter-1',
    startNode: nodeId(4 + 3 * Math.floor(i / 2), i % 2 === 0 ? 0 : 2),
    maxSpeed: 1.5,
    acceleration: 0.5,
  }));

  const site = { id: 'rmfs-large', name: 'Pickwire RMFS Lüneburg', lat: 53.25, lon: 10.41, mapId: 'rmfs-large-floor' };
  return {
    name: 'rmfs-large',
    description:
      "Robotic mobile fulfilment (goods-to-person) shaped like RAWSim-O's MaTi Large instance: 56 pod-lifting robots, 7 pick stations with queues on the east border, 1,900 pods on 1,920 storage nodes of a 1 m grid, 16 chargers.",
    site,
    graph: { nodes, edges },
    locations,
    skus,
    stock,
    stations,
    chargers,
    devices: { amrs, asrs: [], conveyors: [], arms: [] },
    orderFeed: { ordersPerMinute: 12, maxLinesPerOrder: 3, maxUnitsPerLine: 3, seed: 1 },
    network: homeNetwork(site, 2500),
  };
}

/** Velocity classes by distance to the stations: the east third of pods is A, the west third C. */
function slotPods(storageNodes: { id: string; x: number; y: number }[], skus: SiteLayout['skus'], rng: Rng): Pick<SiteLayout, 'locations' | 'stock'> {
  const free = new Set(shuffle(storageNodes.map((n) => n.id), rng.fork('free-spots')).slice(0, storageNodes.length - RMFS_LARGE.pods));
  const podNodes = storageNodes.filter((n) => !free.has(n.id)).sort((a, b) => b.x - a.x || a.y - b.y);
  const third = Math.ceil(podNodes.length / 3);
  const classes = (['A', 'B', 'C'] as const).map((slotClass, c) => ({
    slotClass,
    pods: podNodes.slice(c * third, (c + 1) * third),
  }));
  const podIds = new Map(podNodes.map((n, i) => [n.id, `POD-${pad(i + 1, 4)}`]));
  const locations: SiteLayout['locations'] = [...podNodes]
    .sort((a, b) => (podIds.get(a.id) ?? '').localeCompare(podIds.get(b.id) ?? ''))
    .map((n, i) => ({ id: podIds.get(n.id) ?? '', zone: 'amr', nodeId: n.id, mobile: true, slotClass: i < third ? 'A' : i < 2 * third ? 'B' : 'C' }));

  // Faster movers sit on more pods with more units: replicas per SKU and units per replica by rank.
  const stockRng = rng.fork('stock');
  const stock: SiteLayout['stock'] = [];
  const classOf = (rank: number): 0 | 1 | 2 => (rank <= 100 ? 0 : rank <= 400 ? 1 : 2);
  const replicas = (rank: number): number => (rank <= 20 ? 16 : rank <= 100 ? 8 : rank <= 400 ? 4 : 3);
  const units = (rank: number): [number, number] => (rank <= 100 ? [200, 400] : rank <= 400 ? [100, 200] : [50, 100]);
  for (const [c, cls] of classes.entries()) {
    const members = skus.map((s, i) => ({ sku: s.sku, rank: i + 1 })).filter((s) => classOf(s.rank) === c);
    const order = shuffle(cls.pods, rng.fork(`slots-${cls.slotClass}`));
    // Deal replicas round-robin over a shuffled pod order: a SKU's replicas land on distinct pods.
    let cursor = 0;
    for (const m of members) {
      for (let r = 0; r < replicas(m.rank); r++) {
        const pod = order[cursor++ % order.length];
        if (pod === undefined) throw new Error('no pods in class');
        const [lo, hi] = units(m.rank);
        stock.push({ sku: m.sku, location: podIds.get(pod.id) ?? '', onHand: stockRng.int(lo, hi), safetyStock: 0 });
      }
    }
  }
  stock.sort((a, b) => a.location.localeCompare(b.location) || a.sku.localeCompare(b.sku));
  return { locations, stock };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = join(dirname(fileURLToPath(import.meta.url)), 'rmfs-large.json');
  writeLayout(out, generateRmfsLargeLayout(1));
  console.log(`wrote ${out}`);
}
