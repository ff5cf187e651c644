/**
 * A site for the fleet benchmarks: `amrCount` AMRs, each parked on its own dead-end spur off a
 * two-way lane grid, storage on the lane nodes of the middle rows (deep stock, so picks never run
 * short), one pack station. Built through `parseSiteLayout` like any site file.
 */
import { parseSiteLayout, type SiteLayout } from '../src/index.js';

type Node = SiteLayout['graph']['nodes'][number];
type Edge = SiteLayout['graph']['edges'][number];

const SPACING = 2;
export const FLEET_MANUFACTURER = 'pickwire-bench';
export const FLEET_MODEL = 'bench-tote-1';

export function fleetLayout(amrCount: number): SiteLayout {
  const cols = Math.max(2, Math.ceil(Math.sqrt(amrCount * 1.25)));
  const rows = Math.ceil(amrCount / cols);
  const id = (c: number, r: number): string => `n-${c}-${r}`;
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  const locations: SiteLayout['locations'] = [];
  const skus: SiteLayout['skus'] = [];
  const stock: SiteLayout['stock'] = [];
  const shelfRows = new Set([Math.floor(rows / 3), Math.floor((2 * rows) / 3)]);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const shelf = shelfRows.has(r) && c > 0;
      nodes.push(shelf ? { id: id(c, r), x: c * SPACING, y: r * SPACING, zone: 'amr' } : { id: id(c, r), x: c * SPACING, y: r * SPACING });
      if (c + 1 < cols) edges.push({ id: `${id(c, r)}_${id(c + 1, r)}`, from: id(c, r), to: id(c + 1, r), bidirectional: true });
      if (r + 1 < rows) edges.push({ id: `${id(c, r)}_${id(c, r + 1)}`, from: id(c, r), to: id(c, r + 1), bidirectional: true });
      if (shelf) {
        const loc = `L-${c}-${r}`;
        const sku = `SKU-${c}-${r}`;
        locations.push({ id: loc, zone: 'amr', nodeId: id(c, r) });
        skus.push({ sku, name: `Bench item at ${loc}`, unitPrice: 10 });
        stock.push({ sku, location: loc, onHand: 1_000_000 });
      }
    }
  }
  const amrs: SiteLayout['devices']['amrs'] = [];
  for (let k = 0; k < amrCount; k++) {
    const c = k % cols;
    const r = Math.floor(k / cols);
    const spur = `p-${c}-${r}`;
    nodes.push({ id: spur, x: c * SPACING + 0.5, y: r * SPACING + 1 });
    edges.push({ id: `${spur}_${id(c, r)}`, from: spur, to: id(c, r), bidirectional: true });
    amrs.push({ serialNumber: `bench-${String(k + 1).padStart(4, '0')}`, startNode: spur, manufacturer: FLEET_MANUFACTURER, model: FLEET_MODEL, maxSpeed: 1.5, acceleration: 0.5 });
  }
  nodes.push({ id: 'pack', x: -SPACING, y: 0, zone: 'pack' });
  edges.push({ id: `pack_${id(0, 0)}`, from: 'pack', to: id(0, 0), bidirectional: true });
  return parseSiteLayout(
    {
      name: 'bench-fleet',
      description: `${amrCount} AMRs on spurs off a ${cols} x ${rows} two-way lane grid`,
      site: { id: 'bench-fleet', name: 'bench-fleet', lat: 51.5, lon: 7.46, mapId: 'bench-fleet-floor' },
      graph: { nodes, edges },
      locations,
      skus,
      stock,
      stations: [{ id: 'pack-1', kind: 'pack', nodeId: 'pack' }],
      chargers: [],
      devices: { amrs, asrs: [], conveyors: [], arms: [] },
    },
    'bench-fleet',
  );
}
