import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLayoutReferences, loadSiteLayout, parseSiteLayout, resolveSitePath, type SiteLayout } from '../../src/index.js';
import { formatLayoutJson } from './generate-demo.js';
import { generateG2rLayout, G2R } from './generate-g2r.js';
import { generateRmfsLargeLayout, RMFS_LARGE } from './generate-rmfs-large.js';
import { layoutCounts, stranded, unreachableLocations } from './layout-analysis.js';
import { amrFleetLinesPerHour, asrsLinesPerHour, layoutBounds, pickCapacityUnitsPerHour, unitsPerHourBound } from './bounds.js';

const bundled = (name: string): { text: string; layout: SiteLayout } => {
  const text = readFileSync(fileURLToPath(new URL(`./${name}.json`, import.meta.url)), 'utf8');
  return { text, layout: parseSiteLayout(JSON.parse(text), `${name}.json`) };
};

describe('bundled layouts load by name', () => {
  it.each(['demo', 'rmfs-large', 'g2r'])('%s resolves to the bundled file and passes schema and reference checks', (name) => {
    expect(resolveSitePath(name)).toBe(fileURLToPath(new URL(`./${name}.json`, import.meta.url)));
    const layout = loadSiteLayout(name);
    expect(layout.name).toBe(name);
    expect(checkLayoutReferences(layout)).toEqual([]);
    expect(stranded(layout)).toEqual([]);
    expect(unreachableLocations(layout)).toEqual([]);
  });
});

describe('rmfs-large', () => {
  const { text, layout } = bundled('rmfs-large');
  const counts = layoutCounts(layout);

  it('is exactly what the seeded generator writes', () => {
    expect(text).toBe(`${formatLayoutJson(generateRmfsLargeLayout(1))}\n`);
  });

  it("has MaTi Large's shape: 56 robots, 7 stations with queues, about 1,900 pods on a 1 m grid", () => {
    expect(counts).toMatchObject({ amrs: 56, packStations: 7, pods: 1900, storageNodes: 1920, chargers: 16, skus: 1000 });
    expect(new Set(layout.devices.amrs.map((a) => a.startNode)).size).toBe(56);
    const nodes = new Map(layout.graph.nodes.map((n) => [n.id, n]));
    for (const e of layout.graph.edges) {
      const a = nodes.get(e.from);
      const b = nodes.get(e.to);
      expect(a && b && Math.hypot(a.x - b.x, a.y - b.y)).toBe(1);
    }
    for (const s of layout.stations) {
      expect(s.queueNodes).toHaveLength(4);
      expect(s.pickTime).toBe(RMFS_LARGE.stationPickSeconds);
    }
  });

  it('keeps loaded robots out of pod blocks: every storage node is a dead end off an aisle', () => {
    const degree = new Map<string, number>();
    for (const e of layout.graph.edges) for (const n of [e.from, e.to]) degree.set(n, (degree.get(n) ?? 0) + 1);
    for (const n of layout.graph.nodes.filter((x) => x.zone === 'amr')) expect(degree.get(n.id)).toBe(1);
  });

  it('puts every pod on its own storage node, mobile, slotted A/B/C, with 1-4 SKUs', () => {
    const pods = layout.locations.filter((l) => l.mobile === true);
    expect(new Set(pods.map((p) => p.nodeId)).size).toBe(pods.length);
    const perPod = new Map<string, number>();
    for (const s of layout.stock) perPod.set(s.location, (perPod.get(s.location) ?? 0) + 1);
    expect(perPod.size).toBe(1900);
    for (const n of perPod.values()) expect(n).toBeGreaterThanOrEqual(1);
    for (const n of perPod.values()) expect(n).toBeLessThanOrEqual(4);
    expect(new Set(layout.stock.map((s) => `${s.location}/${s.sku}`)).size).toBe(layout.stock.length);
    expect(new Set(layout.stock.map((s) => s.sku)).size).toBe(1000);
    // Class A pods lie nearer the stations (east) than class C pods.
    const nodes = new Map(layout.graph.nodes.map((n) => [n.id, n]));
    const meanX = (c: string): number => {
      const xs = pods.filter((p) => p.slotClass === c).map((p) => nodes.get(p.nodeId ?? '')?.x ?? 0);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    expect(meanX('A')).toBeGreaterThan(meanX('B'));
    expect(meanX('B')).toBeGreaterThan(meanX('C'));
  });

  it('bounds units/h by stations x 3600 / pick seconds per unit', () => {
    expect(pickCapacityUnitsPerHour(layout)).toBe(7 * 360);
    expect(unitsPerHourBound(layout)).toBe(2520);
    const fleet = amrFleetLinesPerHour(layout);
    expect(fleet).toBeGreaterThan(0);
    // Fewer robots, proportionally lower fleet bound.
    expect(amrFleetLinesPerHour(layout, { robots: 28 })).toBeCloseTo((fleet ?? 0) / 2, 6);
    expect(layoutBounds(layout).map((b) => b.unit)).toEqual(['units/h', 'lines/h']);
  });
});

describe('g2r', () => {
  const { text, layout } = bundled('g2r');

  it('is exactly what the seeded generator writes', () => {
    expect(text).toBe(`${formatLayoutJson(generateG2rLayout(1))}\n`);
  });

  it('has AS/RS aisles with ports, a conveyor loop with diverts and merges, and arm stations', () => {
    expect(layoutCounts(layout)).toMatchObject({ amrs: 0, asrsAisles: G2R.aisles, ports: G2R.aisles, conveyors: 1, armStations: G2R.armStations, diverts: 10, merges: 10, asrsBins: 1400, skus: 800 });
    const loop = layout.devices.conveyors[0];
    for (const stop of loop?.stops ?? []) {
      const spurs = (loop?.branches ?? []).filter((b) => b.stop === stop.id);
      expect(spurs.map((b) => b.kind).sort()).toEqual(['divert', 'merge']);
      // Diverted just before the stop's point on the loop, merged back just after it.
      expect(spurs.find((b) => b.kind === 'divert')?.at).toBeLessThan(stop.at);
      expect(spurs.find((b) => b.kind === 'merge')?.at).toBeGreaterThan(stop.at);
    }
  });

  it('spreads a fast mover over different aisles and keeps it near the port', () => {
    const aisleOf = new Map(layout.locations.map((l) => [l.id, l]));
    const top = layout.stock.filter((s) => s.sku === 'SKU-0001').map((s) => aisleOf.get(s.location));
    expect(new Set(top.map((l) => l?.asrsId)).size).toBe(4);
    for (const l of top) expect(l?.position).toBeLessThanOrEqual(10);
  });

  it('bounds lines/h by the cranes and units/h by the arms', () => {
    expect(unitsPerHourBound(layout)).toBe(4 * 900);
    expect(asrsLinesPerHour(layout)).toBeGreaterThan(0);
  });
});

describe('layout checks for the optional fields', () => {
  const base = (): SiteLayout => generateG2rLayout(1);

  it('reports a conveyor branch to an unknown stop or beyond the belt', () => {
    const layout = base();
    const loop = layout.devices.conveyors[0];
    if (!loop?.branches) throw new Error('no branches');
    loop.branches.push({ id: 'bad-1', kind: 'divert', stop: 'nowhere', at: 500, length: 2 });
    expect(checkLayoutReferences(layout).map((p) => p.problem)).toEqual(['unknown stop nowhere of conveyor loop-1', 'beyond the belt length 160']);
  });

  it('reports an unknown or duplicated station queue node', () => {
    const layout = generateRmfsLargeLayout(1);
    const st = layout.stations[0];
    if (!st?.queueNodes) throw new Error('no queue');
    st.queueNodes.push('ghost', st.queueNodes[0] as string);
    expect(checkLayoutReferences(layout).map((p) => p.problem)).toEqual(['unknown node ghost', `node ${st.queueNodes[0] ?? ''} appears twice in the queue`]);
  });

  it('allows mobile pods in the AMR zone only', () => {
    const layout = base();
    const bin = layout.locations[0];
    if (!bin) throw new Error('no bins');
    bin.mobile = true;
    expect(checkLayoutReferences(layout)).toEqual([{ path: '/locations/0/mobile', problem: 'only AMR-zone locations can be mobile pods' }]);
  });

  it('finds a node cut off from the graph and the locations on it', () => {
    const layout = generateRmfsLargeLayout(1);
    const pod = layout.locations[0];
    layout.graph.edges = layout.graph.edges.filter((e) => e.to !== pod?.nodeId && e.from !== pod?.nodeId);
    expect(stranded(layout)).toEqual([pod?.nodeId]);
    expect(unreachableLocations(layout).map((p) => p.id)).toEqual([pod?.id]);
  });
});
