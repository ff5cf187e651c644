/**
 * The site's route graph and shortest paths over it. Travel cost is time at the edge's speed
 * limit (or the vehicle's top speed), so a detour on fast edges can beat a short slow one.
 */
import type { GraphEdge, GraphNode, SiteLayout } from './site-layout.js';

export interface RouteStep {
  edgeId: string;
  from: string;
  to: string;
  length: number;
}

export interface Route {
  nodes: string[];
  steps: RouteStep[];
  length: number;
  /** Seconds at cruise speed, without acceleration or turns. */
  travelTime: number;
}

interface Arc {
  edge: GraphEdge;
  to: string;
  length: number;
}

interface RouteTree {
  time: Map<string, number>;
  next: Map<string, Arc>;
}

/**
 * The arcs again, by node number (compressed rows: node i's arcs are `arcs[start[i]]` up to
 * `arcs[start[i + 1]]`, in the same order as in the map), so that a search keeps its times and
 * marks in typed arrays instead of string-keyed maps: a search over a large site is several
 * times cheaper, with the very same result.
 */
interface ArcTable {
  ids: string[];
  number: Map<string, number>;
  start: Int32Array;
  arcs: Arc[];
  from: Int32Array;
  to: Int32Array;
}

/** Targets whose route trees are kept: pick nodes in use, the pack stations, chargers. */
const MAX_CACHED_TREES = 256;

export class RouteGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly arcs = new Map<string, Arc[]>();
  private deadEnds: Set<string> | undefined;
  /** Arcs by the node they lead to, built on first use by `shortestPathCached`. */
  private reverse: Map<string, Arc[]> | undefined;
  private readonly trees = new Map<string, RouteTree>();
  private readonly table: ArcTable;
  private readonly scratch: { time: Float64Array; via: Int32Array; done: Uint8Array; heap: MinHeap<number> };

  constructor(layout: Pick<SiteLayout, 'graph'>) {
    for (const n of layout.graph.nodes) {
      this.nodes.set(n.id, n);
      this.arcs.set(n.id, []);
    }
    for (const e of layout.graph.edges) {
      const a = this.node(e.from);
      const b = this.node(e.to);
      const length = Math.hypot(b.x - a.x, b.y - a.y);
      this.arcs.get(e.from)?.push({ edge: e, to: e.to, length });
      if (e.bidirectional !== false) this.arcs.get(e.to)?.push({ edge: e, to: e.from, length });
    }
    this.table = arcTable(this.arcs);
    const n = this.table.ids.length;
    this.scratch = { time: new Float64Array(n), via: new Int32Array(n), done: new Uint8Array(n), heap: new MinHeap<number>() };
  }

  has(nodeId: string): boolean {
    return this.nodes.has(nodeId);
  }

  node(id: string): GraphNode {
    const n = this.nodes.get(id);
    if (!n) throw new RangeError(`unknown graph node ${id}`);
    return n;
  }

  /** The node closest to a point: where a vehicle that reports only coordinates stands. */
  nearestNode(x: number, y: number): GraphNode {
    let best: GraphNode | undefined;
    let bestD = Infinity;
    for (const n of this.nodes.values()) {
      const d = Math.hypot(n.x - x, n.y - y);
      if (d < bestD) {
        bestD = d;
        best = n;
      }
    }
    if (!best) throw new RangeError('the route graph has no nodes');
    return best;
  }

  /** Dijkstra on travel time; undefined when `to` cannot be reached. */
  shortestPath(from: string, to: string, maxSpeed = 1.5): Route | undefined {
    return this.search(from, to, undefined, maxSpeed);
  }

  /**
   * The same travel time as `shortestPath`, from a cached tree of fastest routes into `to`
   * (one reverse Dijkstra per target and speed; the graph never changes). Ranking many vehicles
   * against one pick node costs one search instead of one per vehicle. Among routes of equal
   * time it may pick a different one than `shortestPath`.
   */
  shortestPathCached(from: string, to: string, maxSpeed = 1.5): Route | undefined {
    this.node(from);
    const tree = this.treeInto(to, maxSpeed);
    const travelTime = tree.time.get(from);
    if (travelTime === undefined) return undefined;
    const nodes = [from];
    const steps: RouteStep[] = [];
    let length = 0;
    for (let at = from; at !== to; ) {
      const hop = tree.next.get(at);
      if (!hop) return undefined;
      steps.push({ edgeId: hop.edge.id, from: at, to: hop.to, length: hop.length });
      nodes.push(hop.to);
      length += hop.length;
      at = hop.to;
    }
    return { nodes, steps, length, travelTime };
  }

  /**
   * The fastest route that enters none of `avoid` (traffic control's detour around nodes other
   * vehicles hold); `from` itself may be in it. Undefined when no such route exists.
   */
  shortestPathAvoiding(from: string, to: string, avoid: ReadonlySet<string>, maxSpeed = 1.5): Route | undefined {
    if (avoid.has(to) && to !== from) return undefined;
    return this.search(from, to, avoid, maxSpeed);
  }

  /** Nodes one edge away from `id` in the direction of travel. */
  neighbours(id: string): string[] {
    return (this.arcs.get(id) ?? []).map((a) => a.to);
  }

  /** Whether only one other node connects to `id`, in either direction: a spur, a parking bay. */
  isDeadEnd(id: string): boolean {
    if (this.deadEnds === undefined) {
      const adjacent = new Map<string, Set<string>>();
      for (const [from, arcs] of this.arcs) {
        for (const arc of arcs) {
          adjacent.set(from, (adjacent.get(from) ?? new Set()).add(arc.to));
          adjacent.set(arc.to, (adjacent.get(arc.to) ?? new Set()).add(from));
        }
      }
      this.deadEnds = new Set([...adjacent].filter(([, s]) => s.size === 1).map(([n]) => n));
    }
    return this.deadEnds.has(id);
  }

  /**
   * The route along a given node sequence (each step over an edge between the pair, fastest
   * first); undefined when two consecutive nodes are not joined in that direction.
   */
  routeAlong(nodes: readonly string[], maxSpeed = 1.5): Route | undefined {
    const steps: RouteStep[] = [];
    let travelTime = 0;
    for (let i = 1; i < nodes.length; i++) {
      const from = nodes[i - 1] as string;
      const to = nodes[i] as string;
      let best: { arc: Arc; time: number } | undefined;
      for (const arc of this.arcs.get(from) ?? []) {
        if (arc.to !== to) continue;
        const time = arc.length / Math.min(maxSpeed, arc.edge.maxSpeed ?? maxSpeed);
        if (!best || time < best.time) best = { arc, time };
      }
      if (!best) return undefined;
      steps.push({ edgeId: best.arc.edge.id, from, to, length: best.arc.length });
      travelTime += best.time;
    }
    return { nodes: [...nodes], steps, length: steps.reduce((s, x) => s + x.length, 0), travelTime };
  }

  /** Fastest times into `to` from every node that reaches it, and each node's next hop; LRU-cached. */
  private treeInto(to: string, maxSpeed: number): RouteTree {
    const key = `${to}\u0000${maxSpeed}`;
    const hit = this.trees.get(key);
    if (hit) {
      this.trees.delete(key);
      this.trees.set(key, hit);
      return hit;
    }
    this.node(to);
    if (this.reverse === undefined) {
      this.reverse = new Map([...this.nodes.keys()].map((id) => [id, []]));
      for (const [from, arcs] of this.arcs) for (const arc of arcs) this.reverse.get(arc.to)?.push({ edge: arc.edge, to: from, length: arc.length });
    }
    const time = new Map<string, number>([[to, 0]]);
    const next = new Map<string, Arc>();
    const heap = new MinHeap<string>();
    heap.push(0, to);
    const done = new Set<string>();
    while (heap.size > 0) {
      const t = heap.topKey();
      const id = heap.pop();
      if (done.has(id)) continue;
      done.add(id);
      // `back.to` is the node an arc leaves from; driving it reaches `id`.
      for (const back of this.reverse.get(id) ?? []) {
        const speed = Math.min(maxSpeed, back.edge.maxSpeed ?? maxSpeed);
        const nt = t + back.length / speed;
        if (nt < (time.get(back.to) ?? Infinity)) {
          time.set(back.to, nt);
          next.set(back.to, { edge: back.edge, to: id, length: back.length });
          heap.push(nt, back.to);
        }
      }
    }
    const tree = { time, next };
    if (this.trees.size >= MAX_CACHED_TREES) this.trees.delete(this.trees.keys().next().value as string);
    this.trees.set(key, tree);
    return tree;
  }

  private search(from: string, to: string, avoid: ReadonlySet<string> | undefined, maxSpeed: number): Route | undefined {
    this.node(from);
    this.node(to);
    const { ids, number, start, arcs, from: arcFrom, to: arcTo } = this.table;
    const source = number.get(from) as number;
    const target = number.get(to) as number;
    // Infinity: not reached yet; `via` is the arc a node was last reached by (-1: none).
    // One set of scratch arrays per graph, refilled per search: a search used to allocate three
    // arrays the size of the site, a good part of what the dispatcher left for the garbage
    // collector per trip. Searches never nest (nothing below calls back out).
    const { time, via, done, heap } = this.scratch;
    time.fill(Infinity);
    via.fill(-1);
    done.fill(0);
    heap.clear();
    time[source] = 0;
    heap.push(0, source);
    while (heap.size > 0) {
      const t = heap.topKey();
      const id = heap.pop();
      if (done[id] === 1) continue;
      done[id] = 1;
      if (id === target) break;
      const last = start[id + 1] as number;
      for (let k = start[id] as number; k < last; k++) {
        const arc = arcs[k] as Arc;
        if (avoid?.has(arc.to)) continue;
        const speed = Math.min(maxSpeed, arc.edge.maxSpeed ?? maxSpeed);
        const nt = t + arc.length / speed;
        const next = arcTo[k] as number;
        if (nt < (time[next] as number)) {
          time[next] = nt;
          via[next] = k;
          heap.push(nt, next);
        }
      }
    }
    if (time[target] === Infinity) return undefined;
    const nodes = [to];
    const steps: RouteStep[] = [];
    for (let at = target; at !== source; ) {
      const k = via[at] as number;
      if (k < 0) return undefined;
      const arc = arcs[k] as Arc;
      const prev = arcFrom[k] as number;
      steps.push({ edgeId: arc.edge.id, from: ids[prev] as string, to: ids[at] as string, length: arc.length });
      nodes.push(ids[prev] as string);
      at = prev;
    }
    nodes.reverse();
    steps.reverse();
    const length = steps.reduce((s, x) => s + x.length, 0);
    return { nodes, steps, length, travelTime: time[target] as number };
  }
}

/** Numbers the nodes in the map's order and lays their arcs out in rows (see ArcTable). */
function arcTable(byNode: ReadonlyMap<string, readonly Arc[]>): ArcTable {
  const ids = [...byNode.keys()];
  const number = new Map(ids.map((id, i) => [id, i]));
  const start = new Int32Array(ids.length + 1);
  const arcs: Arc[] = [];
  const from: number[] = [];
  const to: number[] = [];
  ids.forEach((id, i) => {
    start[i] = arcs.length;
    for (const arc of byNode.get(id) ?? []) {
      arcs.push(arc);
      from.push(i);
      to.push(number.get(arc.to) as number);
    }
  });
  start[ids.length] = arcs.length;
  return { ids, number, start, arcs, from: Int32Array.from(from), to: Int32Array.from(to) };
}

/**
 * Binary heap keyed by a number; the graph searches' priority queue. Ties pop in an order fixed
 * by the sequence of pushes and pops alone, so a search is deterministic.
 */
class MinHeap<V> {
  // Entries live in [0, count); the arrays keep their length when entries go, so a heap that is
  // cleared and filled again (one per graph, reused by every search) stops allocating once it
  // has grown to the largest search.
  private readonly keys: number[] = [];
  private readonly values: V[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.count = 0;
  }

  push(key: number, value: V): void {
    // Sift up: parents with a greater key move down into the hole until the new entry fits.
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.keys[i] = this.keys[parent]!;
      this.values[i] = this.values[parent]!;
      i = parent;
    }
    this.keys[i] = key;
    this.values[i] = value;
  }

  /** The smallest key; only when not empty. */
  topKey(): number {
    return this.keys[0]!;
  }

  /** Removes the entry with the smallest key and returns its value; only when not empty. */
  pop(): V {
    const top = this.values[0]!;
    const n = --this.count;
    const lastKey = this.keys[n]!;
    const lastValue = this.values[n]!;
    if (n > 0) {
      // Sift down: the smaller child moves up into the hole while it is smaller than the last entry.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mKey = lastKey;
        if (l < n && this.keys[l]! < mKey) {
          m = l;
          mKey = this.keys[l]!;
        }
        if (r < n && this.keys[r]! < mKey) m = r;
        if (m === i) break;
        this.keys[i] = this.keys[m]!;
        this.values[i] = this.values[m]!;
        i = m;
      }
      this.keys[i] = lastKey;
      this.values[i] = lastValue;
    }
    return top;
  }
}
