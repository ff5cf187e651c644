/**
 * Structural checks of a layout that go beyond id cross-references: can robots get everywhere
 * they must, and can every AS/RS bin reach an arm station? Used by the layout tests and by the
 * runner before a long run, so a broken generated layout fails in seconds, not after an hour.
 * Pure: no I/O.
 */
import type { SiteLayout } from '../../src/index.js';

export interface LayoutCounts {
  amrs: number;
  packStations: number;
  armStations: number;
  chargers: number;
  asrsAisles: number;
  ports: number;
  conveyors: number;
  diverts: number;
  merges: number;
  /** AMR-zone locations that are movable pods. */
  pods: number;
  /** Graph nodes of the AMR storage zone (a pod's home node, or a shelf face). */
  storageNodes: number;
  asrsBins: number;
  skus: number;
}

export function layoutCounts(layout: SiteLayout): LayoutCounts {
  const branches = layout.devices.conveyors.flatMap((c) => c.branches ?? []);
  return {
    amrs: layout.devices.amrs.length,
    packStations: layout.stations.filter((s) => s.kind === 'pack').length,
    armStations: layout.stations.filter((s) => s.kind === 'arm').length,
    chargers: layout.chargers.length,
    asrsAisles: layout.devices.asrs.length,
    ports: layout.devices.asrs.reduce((n, a) => n + a.ports.length, 0),
    conveyors: layout.devices.conveyors.length,
    diverts: branches.filter((b) => b.kind === 'divert').length,
    merges: branches.filter((b) => b.kind === 'merge').length,
    pods: layout.locations.filter((l) => l.zone === 'amr' && l.mobile === true).length,
    storageNodes: layout.graph.nodes.filter((n) => n.zone === 'amr').length,
    asrsBins: layout.locations.filter((l) => l.zone === 'asrs').length,
    skus: layout.skus.length,
  };
}

/** Directed adjacency of the route graph (bidirectional edges both ways). */
function adjacency(layout: SiteLayout): { out: Map<string, string[]>; in: Map<string, string[]> } {
  const out = new Map<string, string[]>();
  const inn = new Map<string, string[]>();
  for (const n of layout.graph.nodes) {
    out.set(n.id, []);
    inn.set(n.id, []);
  }
  const link = (a: string, b: string): void => {
    out.get(a)?.push(b);
    inn.get(b)?.push(a);
  };
  for (const e of layout.graph.edges) {
    link(e.from, e.to);
    if (e.bidirectional !== false) link(e.to, e.from);
  }
  return { out, in: inn };
}

function reach(start: string, next: Map<string, string[]>): Set<string> {
  const seen = new Set([start]);
  const stack = [start];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    for (const n of next.get(id) ?? []) {
      if (!seen.has(n)) {
        seen.add(n);
        stack.push(n);
      }
    }
  }
  return seen;
}

/**
 * Nodes outside the graph's main strongly connected part: from the first node every node must be
 * reachable and every node must be able to get back (one-way queue lanes included). Empty when
 * the whole graph is one strongly connected component.
 */
export function stranded(layout: SiteLayout): string[] {
  const first = layout.graph.nodes[0];
  if (!first) return [];
  const { out, in: inn } = adjacency(layout);
  const forward = reach(first.id, out);
  const backward = reach(first.id, inn);
  return layout.graph.nodes.filter((n) => !forward.has(n.id) || !backward.has(n.id)).map((n) => n.id);
}

export interface ReachProblem {
  id: string;
  problem: string;
}

/**
 * Every storage location must be workable: an AMR-zone location's node must be on the strongly
 * connected graph together with a pack station and, when robots exist, their start nodes; an AS/RS
 * location's aisle must have a port on a conveyor that also stops at an arm station.
 */
export function unreachableLocations(layout: SiteLayout): ReachProblem[] {
  const problems: ReachProblem[] = [];
  const lost = new Set(stranded(layout));
  const pack = layout.stations.filter((s) => s.kind === 'pack' && s.nodeId !== undefined && !lost.has(s.nodeId));
  const armStations = new Set(layout.stations.filter((s) => s.kind === 'arm').map((s) => s.id));
  const asrsServed = new Map<string, boolean>();
  for (const a of layout.devices.asrs) {
    const served = a.ports.some((p) => {
      const conveyor = layout.devices.conveyors.find((c) => c.id === p.conveyorId);
      return conveyor !== undefined && conveyor.stops.some((s) => s.id === p.id) && conveyor.stops.some((s) => armStations.has(s.id));
    });
    asrsServed.set(a.id, served);
  }
  for (const l of layout.locations) {
    if (l.zone === 'amr') {
      if (l.nodeId === undefined || lost.has(l.nodeId)) problems.push({ id: l.id, problem: `node ${l.nodeId ?? '(none)'} is cut off from the route graph` });
      else if (pack.length === 0) problems.push({ id: l.id, problem: 'no reachable pack station to bring its goods to' });
    } else if (asrsServed.get(l.asrsId ?? '') !== true) {
      problems.push({ id: l.id, problem: `AS/RS ${l.asrsId ?? '(none)'} has no port on a conveyor that reaches an arm station` });
    }
  }
  for (const a of layout.devices.amrs) {
    if (lost.has(a.startNode)) problems.push({ id: a.serialNumber, problem: `start node ${a.startNode} is cut off from the route graph` });
  }
  return problems;
}
