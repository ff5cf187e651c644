/**
 * Site layouts for the traffic-control tests (layout format: simulators/sites/README.md). Each
 * goes through `parseSiteLayout`, so the tests run on layouts the core would accept from a file.
 */
import { parseSiteLayout, type SiteLayout } from '../../src/index.js';

type Node = SiteLayout['graph']['nodes'][number];
type Edge = SiteLayout['graph']['edges'][number];

const SPACING = 2;
const pad = (n: number): string => String(n).padStart(2, '0');

function base(name: string, description: string, graph: { nodes: Node[]; edges: Edge[] }, amrs: { serialNumber: string; startNode: string }[], storage: { nodeId: string; slots: number }[], packNode: string, onHand: number): SiteLayout {
  const locations: SiteLayout['locations'] = [];
  const skus: SiteLayout['skus'] = [];
  const stock: SiteLayout['stock'] = [];
  for (const s of storage) {
    for (let k = 1; k <= s.slots; k++) {
      const id = `L-${s.nodeId}-${k}`;
      const sku = `SKU-${s.nodeId}-${k}`;
      locations.push({ id, zone: 'amr', nodeId: s.nodeId });
      skus.push({ sku, name: `Item at ${id}`, unitPrice: 30 });
      stock.push({ sku, location: id, onHand });
    }
  }
  return parseSiteLayout(
    {
      name,
      description,
      site: { id: name, name, lat: 51.5, lon: 7.46, mapId: `${name}-floor` },
      graph,
      locations,
      skus,
      stock,
      stations: [{ id: 'pack-1', kind: 'pack', nodeId: packNode }],
      chargers: [],
      devices: {
        amrs: amrs.map((a) => ({ manufacturer: 'pickwire-sim', model: 'tote-picker-1', maxSpeed: 1.5, acceleration: 0.5, ...a })),
        asrs: [],
        conveyors: [],
        arms: [],
      },
    },
    name,
  );
}

/**
 * A narrow one-way grid, 16 x 7 lane nodes at 2 m: horizontal lanes on rows 1, 3, 5, 7 and
 * vertical lanes on columns 0, 5, 10, 15, one lane each, driven one way (alternating, so that
 * every node reaches every other); routes cross at every junction. Storage nodes line rows 3
 * and 5; the pack station sits in a bay beside row 7, entered from the lane and left onto it.
 * Each AMR parks on its own spur below row 1 or above row 7 (dead ends, both ways).
 */
export function gridLayout(amrCount: number, opts: { twoWayColumns?: number[] } = {}): SiteLayout {
  const cols = 16;
  const laneRows = [1, 3, 5, 7];
  const laneCols = [0, 5, 10, 15];
  const id = (c: number, r: number): string => `n-${pad(c)}-${pad(r)}`;
  const nodes = new Map<string, Node>();
  const edges: Edge[] = [];
  const add = (c: number, r: number, zone?: 'amr' | 'pack'): string => {
    const nid = id(c, r);
    if (!nodes.has(nid)) nodes.set(nid, zone ? { id: nid, x: c * SPACING, y: r * SPACING, zone } : { id: nid, x: c * SPACING, y: r * SPACING });
    return nid;
  };
  const oneWay = (a: string, b: string): void => {
    edges.push({ id: `${a}_${b}`, from: a, to: b, bidirectional: false });
  };
  const storage: { nodeId: string; slots: number }[] = [];
  for (const r of laneRows) {
    for (let c = 0; c < cols; c++) {
      const shelf = (r === 3 || r === 5) && !laneCols.includes(c);
      add(c, r, shelf ? 'amr' : undefined);
      if (shelf) storage.push({ nodeId: id(c, r), slots: 2 });
    }
    // Rows 1 and 5 run east, rows 3 and 7 west.
    const east = r === 1 || r === 5;
    for (let c = 0; c + 1 < cols; c++) {
      if (east) oneWay(id(c, r), id(c + 1, r));
      else oneWay(id(c + 1, r), id(c, r));
    }
  }
  for (const c of laneCols) {
    for (let r = 1; r <= 7; r++) add(c, r);
    // Columns 0 and 10 run south (down), 5 and 15 north; `twoWayColumns` both ways.
    const north = c === 5 || c === 15;
    for (let r = 1; r < 7; r++) {
      if (opts.twoWayColumns?.includes(c)) edges.push({ id: `${id(c, r)}_${id(c, r + 1)}`, from: id(c, r), to: id(c, r + 1), bidirectional: true });
      else if (north) oneWay(id(c, r), id(c, r + 1));
      else oneWay(id(c, r + 1), id(c, r));
    }
  }
  // The pack bay: in from row 7 at column 9, out onto it at column 7 (row 7 runs west).
  const pack = add(8, 8, 'pack');
  oneWay(id(9, 7), pack);
  oneWay(pack, id(7, 7));
  const spurs: string[] = [];
  for (let c = 0; c < cols; c++) {
    for (const [spurRow, laneRow] of [
      [0, 1],
      [8, 7],
    ] as const) {
      if (spurRow === 8 && c === 8) continue;
      const s = add(c, spurRow);
      edges.push({ id: `${s}_${id(c, laneRow)}`, from: s, to: id(c, laneRow), bidirectional: true });
      spurs.push(s);
    }
  }
  if (amrCount > spurs.length) throw new RangeError(`the grid parks at most ${spurs.length} AMRs`);
  const amrs = spurs.slice(0, amrCount).map((startNode, i) => ({ serialNumber: `amr-${pad(i + 1)}`, startNode }));
  return base('traffic-grid', `${amrCount} AMRs on a narrow one-way grid with one pack bay`, { nodes: [...nodes.values()], edges }, amrs, storage, pack, 10_000);
}

/**
 * A one-lane corridor (c1..c5, both ways) between a west and an east block of 2 x 3 nodes, with
 * a side pocket off its middle. The pack station is in the west block. `west` starts in the west
 * block and picks in the east one, `east` the other way round: sent together, they meet head-on
 * in the corridor.
 */
export function corridorLayout(): SiteLayout {
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  const node = (nid: string, c: number, r: number, zone?: 'amr' | 'pack'): void => {
    nodes.push(zone ? { id: nid, x: c * SPACING, y: r * SPACING, zone } : { id: nid, x: c * SPACING, y: r * SPACING });
  };
  const both = (a: string, b: string): void => {
    edges.push({ id: `${a}_${b}`, from: a, to: b });
  };
  // West block: columns 0-1, rows 0-2; the pack station top left, a shelf top right.
  node('w00', 0, 0);
  node('w10', 1, 0);
  node('w01', 0, 1);
  node('w11', 1, 1);
  node('pack', 0, 2, 'pack');
  node('w12', 1, 2, 'amr');
  // East block: columns 7-8; a shelf top right.
  node('e00', 7, 0);
  node('e10', 8, 0);
  node('e01', 7, 1);
  node('e11', 8, 1);
  node('e02', 7, 2);
  node('e12', 8, 2, 'amr');
  for (const [a, b] of [
    ['w00', 'w10'],
    ['w00', 'w01'],
    ['w10', 'w11'],
    ['w01', 'w11'],
    ['w01', 'pack'],
    ['w11', 'w12'],
    ['pack', 'w12'],
    ['e00', 'e10'],
    ['e00', 'e01'],
    ['e10', 'e11'],
    ['e01', 'e11'],
    ['e01', 'e02'],
    ['e11', 'e12'],
    ['e02', 'e12'],
  ] as const) both(a, b);
  // The corridor from w11 to e01, and the pocket off its middle.
  const corridor = ['w11', 'c1', 'c2', 'c3', 'c4', 'c5', 'e01'];
  for (let i = 1; i <= 5; i++) node(`c${i}`, 1 + i, 1);
  for (let i = 0; i + 1 < corridor.length; i++) both(corridor[i] as string, corridor[i + 1] as string);
  node('pocket', 4, 2);
  both('c3', 'pocket');
  return base(
    'traffic-corridor',
    'Two blocks joined by a one-lane corridor with a side pocket',
    { nodes, edges },
    [
      { serialNumber: 'west', startNode: 'w10' },
      { serialNumber: 'east', startNode: 'e00' },
    ],
    [
      { nodeId: 'w12', slots: 1 },
      { nodeId: 'e12', slots: 1 },
    ],
    'pack',
    100,
  );
}
