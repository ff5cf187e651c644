/**
 * Generates the bundled `demo` site layout deterministically from a seed, so the JSON in the
 * repository can always be regenerated and reviewed as a diff.
 *
 *   npx tsx simulators/sites/generate-demo.ts      (writes simulators/sites/demo.json)
 *
 * Floor plan (2 m grid, x to the right, y up, 20 x 12 grid points):
 *   row 0        parking and chargers (AMR start nodes)
 *   rows 2-3     rack block A (no nodes: the racks stand there), cols 3..16
 *   rows 6-7     rack block B, cols 3..16
 *   rows 1,4,5,8 picking aisles; their nodes in cols 3..16 are the AMR storage nodes
 *   rows 9-11    front area with the pack station; cols 0-2 and 17-19 are cross aisles
 * The AS/RS aisle, its conveyor loop and the two arm stations stand beside the AMR floor and
 * are not on the route graph: totes reach them only by conveyor.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { SiteLayout } from '../../src/index.js';
import { createRng, type Rng } from '../random.js';

const COLS = 20;
const ROWS = 12;
const SPACING = 2;
const RACK_ROWS = new Set([2, 3, 6, 7]);
const AISLE_ROWS = new Set([1, 4, 5, 8]);
const RACK_COLS = { from: 3, to: 16 };
const SKU_COUNT = 500;
const AMR_COUNT = 10;

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
const nodeId = (col: number, row: number): string => `n-${pad(col)}-${pad(row)}`;
const inRackCols = (col: number): boolean => col >= RACK_COLS.from && col <= RACK_COLS.to;

export function generateDemoLayout(seed = 1): SiteLayout {
  const rng = createRng(seed);
  const chargerNodes = [0, 1, 2, 3].map((c) => nodeId(c, 0));
  const packNode = nodeId(18, 10);

  const nodes: SiteLayout['graph']['nodes'] = [];
  const exists = (col: number, row: number): boolean =>
    col >= 0 && col < COLS && row >= 0 && row < ROWS && !(RACK_ROWS.has(row) && inRackCols(col));
  for (let row = 0; row < ROWS; row++) {
    for (let col = 0; col < COLS; col++) {
      if (!exists(col, row)) continue;
      const id = nodeId(col, row);
      const zone = chargerNodes.includes(id) ? 'charge' : id === packNode ? 'pack' : AISLE_ROWS.has(row) && inRackCols(col) ? 'amr' : undefined;
      nodes.push(graphNode(id, col * SPACING, row * SPACING, zone));
    }
  }

  // One bidirectional edge per pair of 4-neighbours.
  const edges: SiteLayout['graph']['edges'] = [];
  for (let row = 0; row < ROWS; row++) {
    for (let col = 0; col < COLS; col++) {
      if (!exists(col, row)) continue;
      for (const [dc, dr] of [[1, 0], [0, 1]] as const) {
        if (!exists(col + dc, row + dr)) continue;
        const a = nodeId(col, row);
        const b = nodeId(col + dc, row + dr);
        edges.push({ id: `${a}_${b}`, from: a, to: b, bidirectional: true });
      }
    }
  }

  const skus = makeSkus(rng.fork('skus'));
  // Exactly half the SKUs go to each zone, chosen at random so popularity spans both zones.
  const order = shuffle(skus.map((s) => s.sku), rng.fork('zones'));
  const amrSkus = order.slice(0, SKU_COUNT / 2).sort();
  const asrsSkus = order.slice(SKU_COUNT / 2).sort();

  const locations: SiteLayout['locations'] = [];
  const stock: SiteLayout['stock'] = [];
  const stockRng = rng.fork('stock');
  const addStock = (sku: string, location: string): void => {
    stock.push({ sku, location, onHand: stockRng.int(40, 200), safetyStock: stockRng.int(0, 5) });
  };

  const storageNodes = nodes.filter((n) => n.zone === 'amr');
  amrSkus.forEach((sku, i) => {
    const node = storageNodes[i % storageNodes.length];
    if (node === undefined) throw new Error('no storage nodes');
    const slot = Math.floor(i / storageNodes.length) + 1;
    const id = `A-${node.id.slice(2)}-${slot}`;
    locations.push({ id, zone: 'amr', nodeId: node.id });
    addStock(sku, id);
  });

  const asrsSlots: { level: number; position: number; side: 'L' | 'R' }[] = [];
  for (let level = 0; level < 6; level++) {
    for (let p = 1; p <= 58; p++) {
      for (const side of ['L', 'R'] as const) asrsSlots.push({ level, position: p * 0.5, side });
    }
  }
  const chosen = shuffle(asrsSlots, rng.fork('asrs-slots')).slice(0, asrsSkus.length);
  asrsSkus.forEach((sku, i) => {
    const slot = chosen[i];
    if (slot === undefined) throw new Error('not enough AS/RS slots');
    const id = `S-${slot.level}-${pad(Math.round(slot.position * 10), 3)}-${slot.side}`;
    locations.push({ id, zone: 'asrs', asrsId: 'asrs-1', binId: `BIN-${pad(i + 1, 4)}`, level: slot.level, position: slot.position });
    addStock(sku, id);
  });

  const parking = Array.from({ length: AMR_COUNT }, (_, i) => nodeId(i, 0));
  return {
    name: 'demo',
    description:
      'Demo fulfilment floor: 10 tote AMRs on a 2 m grid with two rack blocks, one AS/RS aisle feeding a conveyor loop with two robot-arm pick stations, one pack station.',
    site: { id: 'demo', name: 'Pickwire Demo DC Dortmund', lat: 51.5, lon: 7.46, mapId: 'demo-floor' },
    graph: { nodes, edges },
    locations,
    skus,
    stock,
    stations: [
      { id: 'pack-1', kind: 'pack', nodeId: packNode },
      { id: 'arm-st-1', kind: 'arm', armId: 'arm-1' },
      { id: 'arm-st-2', kind: 'arm', armId: 'arm-2' },
    ],
    chargers: chargerNodes.map((n, i) => ({ id: `charger-${i + 1}`, nodeId: n })),
    devices: {
      amrs: parking.map((startNode, i) => ({
        manufacturer: 'pickwire-sim',
        serialNumber: `amr-${pad(i + 1)}`,
        model: 'tote-picker-1',
        startNode,
        maxSpeed: 1.5,
        acceleration: 0.5,
      })),
      asrs: [
        {
          id: 'asrs-1',
          aisleLength: 30,
          levels: 6,
          levelHeight: 0.5,
          ports: [
            { id: 'asrs-1-p1', conveyorId: 'conv-1' },
            { id: 'asrs-1-p2', conveyorId: 'conv-1' },
          ],
        },
      ],
      conveyors: [
        {
          id: 'conv-1',
          kind: 'loop',
          length: 40,
          speed: 1,
          stops: [
            { id: 'asrs-1-p1', at: 0 },
            { id: 'asrs-1-p2', at: 4 },
            { id: 'arm-st-1', at: 14 },
            { id: 'arm-st-2', at: 26 },
          ],
        },
      ],
      arms: [
        { id: 'arm-1', stationId: 'arm-st-1', pickTime: 3 },
        { id: 'arm-2', stationId: 'arm-st-2', pickTime: 3 },
      ],
    },
    orderFeed: { ordersPerMinute: 6, maxLinesPerOrder: 3, maxUnitsPerLine: 3, seed: 1 },
  };
}

type LayoutNode = SiteLayout['graph']['nodes'][number];

function graphNode(id: string, x: number, y: number, zone: 'amr' | 'charge' | 'pack' | undefined): LayoutNode {
  return zone === undefined ? { id, x, y } : { id, x, y, zone };
}

const ADJECTIVES = ['Blue', 'Compact', 'Sturdy', 'Organic', 'Classic', 'Mini', 'Deluxe', 'Eco', 'Smart', 'Rugged', 'Soft', 'Bright'];
const NOUNS = ['Mug', 'Notebook', 'Cable', 'Lamp', 'Bottle', 'Charger', 'Towel', 'Brush', 'Speaker', 'Backpack', 'Candle', 'Glove', 'Tape', 'Socket'];

function makeSkus(rng: Rng): SiteLayout['skus'] {
  return Array.from({ length: SKU_COUNT }, (_, i) => ({
    sku: `SKU-${pad(i + 1, 4)}`,
    name: `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} ${i + 1}`,
    unitPrice: Math.round(rng.uniform(1.5, 80)) - 0.01,
  }));
}

function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Objects expanded, array elements one compact JSON per line: readable diffs, small file. */
export function formatLayoutJson(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => `${indent}  ${JSON.stringify(v)}`).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{\n${entries.map(([k, v]) => `${indent}  ${JSON.stringify(k)}: ${formatLayoutJson(v, `${indent}  `)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = join(dirname(fileURLToPath(import.meta.url)), 'demo.json');
  writeFileSync(out, `${formatLayoutJson(generateDemoLayout(1))}\n`);
  console.log(`wrote ${out}`);
}
