/**
 * Seconds of travel from any node to a target, for ranking vehicles against a trip. Ranking is
 * the dispatcher's hottest loop (every free vehicle against every trip), and only the time is
 * needed there, not the route: one reverse Dijkstra per target and top speed fills a table that
 * then answers each vehicle with one array read. Routes are planned only for the chosen one.
 *
 * The arithmetic is the route graph's (straight-line edge length at the lower of the vehicle's
 * and the edge's speed), so the costs journaled with an assignment are the times its route
 * planner would give. Tables are kept for the most recently used targets (pick nodes, packs).
 */
import type { SiteLayout } from './site-layout.js';

interface ReverseArc {
  /** Index of the node the arc leaves from: driving it reaches the node it is listed under. */
  from: number;
  length: number;
  edgeMaxSpeed: number | undefined;
}

const DEFAULT_SPEED = 1.5;

export class TravelTimes {
  private readonly index = new Map<string, number>();
  private readonly into: ReverseArc[][] = [];
  private readonly tables = new Map<string, Float64Array>();

  constructor(
    layout: Pick<SiteLayout, 'graph'>,
    /** Targets (per speed) whose tables are kept. */
    private readonly capacity = 512,
  ) {
    const at = new Map(layout.graph.nodes.map((n) => [n.id, n]));
    for (const n of layout.graph.nodes) {
      this.index.set(n.id, this.into.length);
      this.into.push([]);
    }
    for (const e of layout.graph.edges) {
      const a = at.get(e.from);
      const b = at.get(e.to);
      const ia = this.index.get(e.from);
      const ib = this.index.get(e.to);
      if (!a || !b || ia === undefined || ib === undefined) continue;
      const length = Math.hypot(b.x - a.x, b.y - a.y);
      this.into[ib]?.push({ from: ia, length, edgeMaxSpeed: e.maxSpeed });
      if (e.bidirectional !== false) this.into[ia]?.push({ from: ib, length, edgeMaxSpeed: e.maxSpeed });
    }
  }

  /** Fastest seconds from `from` to `to` at `maxSpeed`; undefined when either is unknown or `to` cannot be reached. */
  seconds(from: string, to: string, maxSpeed = DEFAULT_SPEED): number | undefined {
    const i = this.index.get(from);
    if (i === undefined) return undefined;
    const table = this.tableInto(to, maxSpeed);
    const t = table?.[i];
    return t === undefined || !Number.isFinite(t) ? undefined : t;
  }

  /** The whole table into `to` (Infinity where unreachable), indexed as `indexOf` says; undefined for an unknown node. */
  tableInto(to: string, maxSpeed = DEFAULT_SPEED): Float64Array | undefined {
    const key = `${to}\u0000${maxSpeed}`;
    const hit = this.tables.get(key);
    if (hit) {
      // Most recently used last: the first key is the one to evict.
      this.tables.delete(key);
      this.tables.set(key, hit);
      return hit;
    }
    const target = this.index.get(to);
    if (target === undefined) return undefined;
    const table = this.dijkstraInto(target, maxSpeed);
    if (this.tables.size >= this.capacity) this.tables.delete(this.tables.keys().next().value as string);
    this.tables.set(key, table);
    return table;
  }

  indexOf(nodeId: string): number | undefined {
    return this.index.get(nodeId);
  }

  private dijkstraInto(target: number, maxSpeed: number): Float64Array {
    const time = new Float64Array(this.into.length).fill(Number.POSITIVE_INFINITY);
    const done = new Uint8Array(this.into.length);
    time[target] = 0;
    const heap = new IndexHeap();
    heap.push(0, target);
    while (heap.size > 0) {
      const [t, id] = heap.pop();
      if (done[id] === 1) continue;
      done[id] = 1;
      for (const arc of this.into[id] ?? []) {
        const speed = Math.min(maxSpeed, arc.edgeMaxSpeed ?? maxSpeed);
        const nt = t + arc.length / speed;
        if (nt < (time[arc.from] ?? Number.POSITIVE_INFINITY)) {
          time[arc.from] = nt;
          heap.push(nt, arc.from);
        }
      }
    }
    return time;
  }
}

/** Binary min-heap of (time, node index) pairs. */
class IndexHeap {
  private readonly keys: number[] = [];
  private readonly values: number[] = [];

  get size(): number {
    return this.keys.length;
  }

  push(key: number, value: number): void {
    const { keys, values } = this;
    let i = keys.length;
    keys.push(key);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((keys[parent] as number) <= key) break;
      keys[i] = keys[parent] as number;
      values[i] = values[parent] as number;
      i = parent;
    }
    keys[i] = key;
    values[i] = value;
  }

  pop(): [number, number] {
    const { keys, values } = this;
    const top: [number, number] = [keys[0] as number, values[0] as number];
    const lastKey = keys.pop() as number;
    const lastValue = values.pop() as number;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (keys[r] as number) < (keys[l] as number) ? r : l;
        if ((keys[c] as number) >= lastKey) break;
        keys[i] = keys[c] as number;
        values[i] = values[c] as number;
        i = c;
      }
      keys[i] = lastKey;
      values[i] = lastValue;
    }
    return top;
  }
}
