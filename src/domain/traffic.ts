/**
 * Traffic control for AMRs (DESIGN §2.1): which vehicle may enter which node of the route graph.
 * Pure; the live core keeps one table in src/app/traffic-controller.ts.
 *
 * Every vehicle the core knows holds the node it stands on. A vehicle on a trip holds a window
 * of its path: from the node it last reached up to the last node released to it (the VDA 5050
 * base). A node has at most one holder, and so has an edge: the edges between consecutive held
 * nodes belong to the holder in both directions, so two vehicles are never sent across one edge
 * towards each other. Nodes are granted first come, first served, at most `lookahead` ahead of
 * the vehicle and only as a prefix of its path — a base is one run of nodes the vehicle alone
 * may enter, and a base once released is never taken back (a vehicle cannot un-hear an order).
 *
 * A vehicle whose grant stops short waits for the holder of the node it could not get: the
 * wait-for graph. Each vehicle waits for at most one other, so a deadlock is a cycle found by
 * following the edges. It is resolved rather than waited out: the lowest-priority vehicle of the
 * cycle is re-routed around the nodes the others hold or, when no detour exists, backed off to
 * the nearest free node off the others' paths, where it yields to them until they have passed.
 *
 * Two rules keep vehicles from stopping where they would lock each other in:
 * - The mouth of a dead end: a vehicle is not granted the node in front of a dead end (a storage
 *   spur, a bay) it is about to enter while another vehicle holds the dead end; the one inside
 *   could only come out through that node. It waits a node earlier, off the way out.
 * - Admission zones (a station's queue lane and the station): at most `capacity` vehicles are
 *   admitted at once. A vehicle heading for a full zone is not granted the way out of the last
 *   dead end before it (where it picked its load); it waits there, off the lanes, instead of
 *   queueing on a hallway that every other vehicle needs.
 */
import type { RouteGraph } from './route-graph.js';

/** A vehicle's path and how far it has got: `at` is the node last reached, `upTo` the last held. */
export interface TrafficPlan {
  readonly nodes: readonly string[];
  readonly at: number;
  readonly upTo: number;
}

export const BLOCK_REASONS = ['held', 'yield', 'zone'] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

/** Why a grant stopped: the first node not granted, and the vehicle in the way. */
export interface Blocked {
  index: number;
  nodeId: string;
  by: string;
  reason: BlockReason;
}

export interface Grant {
  /** Index of the last node now held (the end of the base); `fromIndex - 1` when not even the start could be held. */
  upTo: number;
  blocked: Blocked | undefined;
  /** Nodes given up by this call (the path changed under them). */
  released: string[];
}

/** One edge of the wait-for graph: `vehicle` waits for `holder`, which holds (or will pass) `nodeId`. */
export interface WaitEdge {
  vehicle: string;
  nodeId: string;
  holder: string;
  reason: BlockReason;
}

interface PlanState extends TrafficPlan {
  /** A node held besides the window: one a vehicle stopped between (it overlaps both ends). */
  pinned: string | undefined;
}

interface Yield {
  /** The vehicles yielded to, each with the path it had then: a new path (a new trip) ends it. */
  to: ReadonlyMap<string, readonly string[]>;
  /** Path indices after this one may not take nodes still ahead of the vehicles in `to`. */
  afterIndex: number;
  /** The path the yield was made for; a new path ends it. */
  nodes: readonly string[];
}

const edgeKey = (a: string, b: string): string => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

/** Nodes that admit at most `capacity` vehicles at once (a station and its queue lane). */
export interface AdmissionZone {
  id: string;
  nodes: readonly string[];
  capacity: number;
}

export interface TableOptions {
  /** Whether the node is a dead end (one neighbour): see the mouth rule above. */
  isDeadEnd?: (nodeId: string) => boolean;
  zones?: readonly AdmissionZone[];
}

export class ReservationTable {
  private readonly nodeHolder = new Map<string, string>();
  private readonly edgeHolder = new Map<string, string>();
  private readonly plans = new Map<string, PlanState>();
  private readonly waiting = new Map<string, WaitEdge>();
  private readonly yields = new Map<string, Yield>();
  private readonly isDeadEnd: (nodeId: string) => boolean;
  private readonly zones: { id: string; nodes: ReadonlySet<string>; list: readonly string[]; capacity: number }[];
  private readonly zoneOfNode = new Map<string, number>();
  /** Vehicles admitted to each zone (by index) that may not stand in it yet. */
  private readonly admitted = new Map<number, Set<string>>();

  constructor(opts: TableOptions = {}) {
    this.isDeadEnd = opts.isDeadEnd ?? (() => false);
    this.zones = (opts.zones ?? []).map((z) => ({ id: z.id, nodes: new Set(z.nodes), list: [...z.nodes], capacity: Math.max(1, Math.floor(z.capacity)) }));
    this.zones.forEach((z, k) => {
      for (const n of z.list) this.zoneOfNode.set(n, k);
    });
  }

  /** The vehicles a zone has admitted: those holding one of its nodes and those let in to come. */
  admittedTo(zoneId: string): string[] {
    const k = this.zones.findIndex((z) => z.id === zoneId);
    return k < 0 ? [] : [...this.occupantsOf(k)].sort();
  }

  /** Who holds the node, if anyone. */
  holder(nodeId: string): string | undefined {
    return this.nodeHolder.get(nodeId);
  }

  /** Who holds the edge between two nodes (either direction), if anyone. */
  edgeHolderOf(a: string, b: string): string | undefined {
    return this.edgeHolder.get(edgeKey(a, b));
  }

  plan(vehicle: string): TrafficPlan | undefined {
    const p = this.plans.get(vehicle);
    return p && { nodes: p.nodes, at: p.at, upTo: p.upTo };
  }

  /** The node held besides the window (see `pin`), if any. */
  pinned(vehicle: string): string | undefined {
    return this.plans.get(vehicle)?.pinned;
  }

  /** The nodes the vehicle holds, in path order (the pinned one last). */
  held(vehicle: string): string[] {
    const p = this.plans.get(vehicle);
    return p ? [...nodesOf(p)] : [];
  }

  vehicles(): string[] {
    return [...this.plans.keys()];
  }

  /** Nodes a vehicle still has to travel: its path from the node it last reached. */
  remaining(vehicle: string): string[] {
    const p = this.plans.get(vehicle);
    return p ? p.nodes.slice(p.at) : [];
  }

  /**
   * A vehicle standing on `nodeId` with nothing to do holds that node (and `alsoHold`, a node it
   * is partly over). False, holding nothing new, when another vehicle holds it.
   */
  park(vehicle: string, nodeId: string, alsoHold?: string): boolean {
    const grant = this.reservePath(vehicle, [nodeId], 0, 0);
    if (grant.upTo < 0) return false;
    this.pin(vehicle, alsoHold);
    return true;
  }

  /**
   * Grants the vehicle the longest prefix of `nodes` from `fromIndex` (where it stands) up to
   * `lookahead` nodes ahead whose nodes and edges are free or its own. The nodes it held that
   * are not in the new window are released. A different `nodes` than before is a new path (a
   * new trip or a re-route): the caller keeps the released base at its head.
   */
  reservePath(vehicle: string, nodes: readonly string[], fromIndex: number, lookahead: number): Grant {
    if (!Number.isInteger(fromIndex) || fromIndex < 0 || fromIndex >= nodes.length) throw new RangeError(`fromIndex ${fromIndex} outside a path of ${nodes.length} nodes`);
    const start = nodes[fromIndex] as string;
    const startHolder = this.nodeHolder.get(start);
    if (startHolder !== undefined && startHolder !== vehicle) {
      const blocked: Blocked = { index: fromIndex, nodeId: start, by: startHolder, reason: 'held' };
      this.waiting.set(vehicle, { vehicle, nodeId: start, holder: startHolder, reason: 'held' });
      return { upTo: fromIndex - 1, blocked, released: [] };
    }
    const prev = this.plans.get(vehicle);
    const path = prev !== undefined && sameNodes(prev.nodes, nodes) ? prev.nodes : [...nodes];
    const target = Math.min(nodes.length - 1, fromIndex + Math.max(0, Math.floor(lookahead)));
    const granted = path === prev?.nodes ? prev.upTo : fromIndex;
    let upTo = fromIndex;
    let blocked: Blocked | undefined;
    for (let i = fromIndex + 1; i <= target; i++) {
      if (i <= granted) {
        upTo = i;
        continue;
      }
      blocked = this.obstacle(vehicle, path, i);
      if (blocked) break;
      upTo = i;
    }
    // A base once released is never taken back: the vehicle may already be driving it.
    if (path === prev?.nodes && prev.upTo > upTo) {
      upTo = prev.upTo;
      blocked = undefined;
    }
    const released = this.apply(vehicle, { nodes: path, at: fromIndex, upTo, pinned: prev?.pinned });
    if (blocked) this.waiting.set(vehicle, { vehicle, nodeId: blocked.nodeId, holder: blocked.by, reason: blocked.reason });
    else this.waiting.delete(vehicle);
    return { upTo, blocked, released };
  }

  /**
   * The vehicle reached `lastNodeId`: the nodes behind it are released. `index` (its position in
   * the path, when the vehicle's report says so) settles paths that visit a node twice; without
   * it the first visit at or after the current position counts. Returns the released nodes.
   */
  advance(vehicle: string, lastNodeId: string, index?: number): string[] {
    const p = this.plans.get(vehicle);
    if (!p) return [];
    const i = index !== undefined && index >= p.at && index <= p.upTo && p.nodes[index] === lastNodeId ? index : p.nodes.indexOf(lastNodeId, p.at);
    if (i < 0 || i > p.upTo || i === p.at) return [];
    return this.apply(vehicle, { ...p, at: i });
  }

  /**
   * Holds one node besides the window (undefined: none): where a vehicle stopped between two
   * nodes. False when another vehicle holds it.
   */
  pin(vehicle: string, nodeId: string | undefined): boolean {
    const p = this.plans.get(vehicle);
    if (!p) return false;
    if (nodeId !== undefined && !this.freeFor(vehicle, nodeId)) return false;
    this.apply(vehicle, { ...p, pinned: nodeId });
    return true;
  }

  /**
   * Someone physically stands on `nodeId` while another vehicle holds it only as part of the
   * window ahead of it — after a restart, bases recovered from vehicles' reports can overlap where
   * the others stand. Where a vehicle stands wins: the holder's window is cut before the node (it
   * then waits for it like for any held node). False when the holder stands on it or is stopped
   * over it; true when the node is free afterwards.
   */
  cede(nodeId: string): boolean {
    const holder = this.nodeHolder.get(nodeId);
    if (holder === undefined) return true;
    const p = this.plans.get(holder);
    if (!p || p.pinned === nodeId) return false;
    const i = p.nodes.indexOf(nodeId, p.at + 1);
    if (i < 0 || i > p.upTo) return false;
    this.apply(holder, { ...p, upTo: i - 1 });
    return true;
  }

  /** Forgets the vehicle: everything it held is free. Returns the released nodes. */
  releaseAll(vehicle: string): string[] {
    const released = this.apply(vehicle, undefined);
    this.waiting.delete(vehicle);
    this.yields.delete(vehicle);
    for (const [v, y] of this.yields) {
      if (!y.to.has(vehicle)) continue;
      const to = new Map(y.to);
      to.delete(vehicle);
      if (to.size === 0) this.yields.delete(v);
      else this.yields.set(v, { ...y, to });
    }
    return released;
  }

  /**
   * Along `nodes` (the path the vehicle is about to get), nodes after `afterIndex` that are still
   * ahead of any of `others` on its current path are not granted to `vehicle` until it has passed
   * them (or got another path). Makes a backed-off vehicle let the others through instead of
   * driving straight back into them.
   */
  yieldTo(vehicle: string, others: readonly string[], afterIndex: number, nodes: readonly string[]): void {
    const to = new Map<string, readonly string[]>();
    for (const o of others) {
      const p = this.plans.get(o);
      if (p) to.set(o, p.nodes);
    }
    this.yields.set(vehicle, { to, afterIndex, nodes: [...nodes] });
  }

  /**
   * Whether asking again for `nodes` from where the vehicle is (`reservePath(vehicle, nodes,
   * plan.at, lookahead)`) would grant and record exactly what it already has: it waits for the
   * node right after its window, within the lookahead, and the same vehicle still holds that
   * node. Lets a caller skip retrying it. False whenever unsure (other kinds of waits).
   */
  stillBlocked(vehicle: string, nodes: readonly string[], lookahead: number): boolean {
    const w = this.waiting.get(vehicle);
    const p = this.plans.get(vehicle);
    if (!w || !p || w.reason !== 'held') return false;
    const next = p.upTo + 1;
    if (next > Math.min(p.nodes.length - 1, p.at + Math.max(0, Math.floor(lookahead)))) return false;
    return p.nodes[next] === w.nodeId && this.nodeHolder.get(w.nodeId) === w.holder && w.holder !== vehicle && sameNodes(p.nodes, nodes);
  }

  /** Who each waiting vehicle waits for. */
  waits(): WaitEdge[] {
    return [...this.waiting.values()];
  }

  waitOf(vehicle: string): WaitEdge | undefined {
    return this.waiting.get(vehicle);
  }

  /** Forgets that the vehicle waits (it got its node, or its path is being replaced). */
  clearWait(vehicle: string): void {
    this.waiting.delete(vehicle);
  }

  /**
   * A wait that only the waiter's holder could end by moving on, and it cannot move on by
   * itself: the node is the last one of its window (or the one it is stopped over), so it keeps
   * it until it gets more. A node inside the window is released as the holder drives on.
   */
  isHardWait(edge: WaitEdge): boolean {
    if (edge.reason === 'yield') return true;
    // Waiting to be admitted to a zone ends as the zone empties, whatever the vehicle waited for does.
    if (edge.reason === 'zone') return false;
    const hp = this.plans.get(edge.holder);
    if (!hp || this.nodeHolder.get(edge.nodeId) !== edge.holder) return false;
    if (hp.pinned === edge.nodeId) return true;
    // A dead end is left only through its mouth, which the waiter needs too (the mouth rule).
    if (this.isDeadEnd(edge.nodeId)) return true;
    return hp.nodes[hp.upTo] === edge.nodeId;
  }

  /** A cycle of hard waits, in order (each edge's holder waits in the next edge), or undefined. */
  findDeadlock(): WaitEdge[] | undefined {
    const done = new Set<string>();
    for (const startVehicle of [...this.waiting.keys()].sort()) {
      if (done.has(startVehicle)) continue;
      const walk: WaitEdge[] = [];
      const onWalk = new Map<string, number>();
      let v: string | undefined = startVehicle;
      while (v !== undefined && !done.has(v)) {
        const seen = onWalk.get(v);
        if (seen !== undefined) return walk.slice(seen);
        const e = this.waiting.get(v);
        if (!e || !this.isHardWait(e) || this.plans.get(e.holder) === undefined) break;
        onWalk.set(v, walk.length);
        walk.push(e);
        v = e.holder;
      }
      for (const e of walk) done.add(e.vehicle);
      done.add(startVehicle);
    }
    return undefined;
  }

  private obstacle(vehicle: string, path: readonly string[], i: number): Blocked | undefined {
    const nodeId = path[i] as string;
    const holder = this.nodeHolder.get(nodeId);
    if (holder !== undefined && holder !== vehicle) return { index: i, nodeId, by: holder, reason: 'held' };
    const edgeHolder = this.edgeHolder.get(edgeKey(path[i - 1] as string, nodeId));
    if (edgeHolder !== undefined && edgeHolder !== vehicle) return { index: i, nodeId, by: edgeHolder, reason: 'held' };
    const next = path[i + 1];
    if (next !== undefined && this.isDeadEnd(next)) {
      const inside = this.nodeHolder.get(next);
      if (inside !== undefined && inside !== vehicle) return { index: i, nodeId: next, by: inside, reason: 'held' };
    }
    const full = this.zoneClosed(vehicle, path, i);
    if (full) return full;
    // A node the vehicle holds for an earlier visit is still subject to its yield: a backed-off
    // vehicle must not turn straight back into the way it has just cleared.
    const y = this.yields.get(vehicle);
    if (!y || i <= y.afterIndex || !sameNodes(y.nodes, path)) return undefined;
    for (const [other, theirs] of [...y.to].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const op = this.plans.get(other);
      if (op && op.nodes === theirs && op.nodes.indexOf(nodeId, op.at) >= 0) return { index: i, nodeId, by: other, reason: 'yield' };
    }
    return undefined;
  }

  /**
   * Leaving a dead end (path[i - 1]) for a zone entered further on, before any other dead end:
   * blocked while the zone has admitted as many vehicles as it holds. Otherwise the vehicle is
   * admitted now, so that the next one counts it.
   */
  private zoneClosed(vehicle: string, path: readonly string[], i: number): Blocked | undefined {
    if (this.zones.length === 0 || !this.isDeadEnd(path[i - 1] as string)) return undefined;
    let k: number | undefined;
    for (let j = i; j < path.length; j++) {
      k = this.zoneOfNode.get(path[j] as string);
      if (k !== undefined || (j > i && this.isDeadEnd(path[j] as string))) break;
    }
    if (k === undefined) return undefined;
    const occupants = this.occupantsOf(k);
    const zone = this.zones[k] as (typeof this.zones)[number];
    if (occupants.has(vehicle) || occupants.size < zone.capacity) {
      const set = this.admitted.get(k) ?? new Set<string>();
      set.add(vehicle);
      this.admitted.set(k, set);
      return undefined;
    }
    // Waits for the vehicle deepest in the zone: the next to leave it.
    let by = [...occupants].sort()[0] as string;
    for (let n = zone.list.length - 1; n >= 0; n--) {
      const h = this.nodeHolder.get(zone.list[n] as string);
      if (h !== undefined) {
        by = h;
        break;
      }
    }
    return { index: i, nodeId: path[i] as string, by, reason: 'zone' };
  }

  private occupantsOf(k: number): Set<string> {
    const out = new Set<string>(this.admitted.get(k) ?? []);
    for (const n of (this.zones[k] as (typeof this.zones)[number]).list) {
      const h = this.nodeHolder.get(n);
      if (h !== undefined) out.add(h);
    }
    return out;
  }

  /** Admissions end once the vehicle's path no longer leads into the zone. */
  private settleAdmissions(vehicle: string, plan: PlanState | undefined): void {
    for (const [k, set] of this.admitted) {
      if (!set.has(vehicle)) continue;
      const zone = this.zones[k] as (typeof this.zones)[number];
      if (plan && leadsInto(plan, zone.nodes)) continue;
      set.delete(vehicle);
      if (set.size === 0) this.admitted.delete(k);
    }
  }

  private freeFor(vehicle: string, nodeId: string): boolean {
    const h = this.nodeHolder.get(nodeId);
    return h === undefined || h === vehicle;
  }

  /** Replaces the vehicle's plan (undefined: none) and the holdings that follow from it. */
  private apply(vehicle: string, next: PlanState | undefined): string[] {
    const prev = this.plans.get(vehicle);
    // The same path, window and pin hold the same nodes and edges: nothing to release or take,
    // and the vehicle's admissions still lead where they did (each one was settled, or made by a
    // grant along this very path). The common case by far: a waiting vehicle retried and still
    // blocked, on every state that frees a node anywhere.
    if (prev !== undefined && next !== undefined && samePlan(prev, next)) {
      this.plans.set(vehicle, next);
      return [];
    }
    const before = prev ? nodesOf(prev) : new Set<string>();
    const after = next ? nodesOf(next) : new Set<string>();
    for (const n of after) {
      const h = this.nodeHolder.get(n);
      if (h !== undefined && h !== vehicle) throw new Error(`traffic: ${vehicle} would take ${n}, held by ${h}`);
    }
    const released: string[] = [];
    for (const n of before) {
      if (after.has(n)) continue;
      this.nodeHolder.delete(n);
      released.push(n);
    }
    for (const n of after) this.nodeHolder.set(n, vehicle);
    for (const k of prev ? edgesOf(prev) : []) this.edgeHolder.delete(k);
    for (const k of next ? edgesOf(next) : []) this.edgeHolder.set(k, vehicle);
    if (next) this.plans.set(vehicle, next);
    else this.plans.delete(vehicle);
    if (this.admitted.size > 0) this.settleAdmissions(vehicle, next);
    return released;
  }
}

function samePlan(a: PlanState, b: PlanState): boolean {
  return a.nodes === b.nodes && a.at === b.at && a.upTo === b.upTo && a.pinned === b.pinned;
}

/** Whether a node of `zone` lies ahead of the node the vehicle last reached. */
function leadsInto(plan: PlanState, zone: ReadonlySet<string>): boolean {
  for (let i = plan.at + 1; i < plan.nodes.length; i++) if (zone.has(plan.nodes[i] as string)) return true;
  return false;
}

function nodesOf(p: PlanState): Set<string> {
  const s = new Set(p.nodes.slice(p.at, p.upTo + 1));
  if (p.pinned !== undefined) s.add(p.pinned);
  return s;
}

function edgesOf(p: PlanState): string[] {
  const out: string[] = [];
  for (let i = p.at; i < p.upTo; i++) out.push(edgeKey(p.nodes[i] as string, p.nodes[i + 1] as string));
  return out;
}

function sameNodes(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// -- resolution -------------------------------------------------------------------------------

export interface ResolutionContext {
  graph: RouteGraph;
  table: ReservationTable;
  /** Higher goes first; the lowest of a cycle gives way (ties: the greater vehicle id). */
  priority(vehicle: string): number;
  /**
   * Path indices the vehicle must still visit, in order, ending with its destination (e.g. the
   * pick node while the pick is to come, then the drop node).
   */
  stops(vehicle: string): readonly number[];
  /** Whether the vehicle's order may be changed now (e.g. no update of it still unanswered). */
  movable(vehicle: string): boolean;
  maxSpeed?: number;
}

export type Resolution =
  | { kind: 'reroute'; vehicle: string; nodes: string[]; avoided: string[] }
  | { kind: 'backoff'; vehicle: string; nodes: string[]; retreatTo: string; retreatIndex: number; yieldTo: string[] }
  | { kind: 'none'; reason: string };

export const RESOLUTION_KINDS = ['reroute', 'backoff', 'none'] as const;

/**
 * How to break a deadlock: re-route the lowest-priority vehicle that has a detour around the
 * nodes the others hold (first avoiding every other vehicle, then only those that cannot move
 * before the cycle is broken: its members and every vehicle whose waits lead into it); failing
 * that, back the lowest-priority vehicle that can off to the nearest free node that no other
 * member of the cycle still has to pass, and let it yield to them; failing that too, a detour
 * around the members alone. The new path keeps the vehicle's released base as its head, since a
 * base cannot be taken back.
 *
 * A detour through a node of a vehicle waiting for the cycle would only close the next one: in
 * a jammed two-lane aisle (test/late-vehicles.test.ts under load) one vehicle was re-routed
 * twice a second for two minutes, between a cycle of four and the vehicle queued behind it.
 */
export function resolveDeadlock(cycle: readonly WaitEdge[], ctx: ResolutionContext): Resolution {
  const members = [...new Set(cycle.map((e) => e.vehicle))];
  const candidates = members
    .filter((v) => ctx.movable(v) && ctx.table.plan(v) !== undefined)
    .sort((a, b) => ctx.priority(a) - ctx.priority(b) || (a < b ? 1 : a > b ? -1 : 0));
  if (candidates.length === 0) return { kind: 'none', reason: 'no vehicle of the cycle can take a new order now' };

  const heldByOthers = (v: string, among: readonly string[] | undefined): Set<string> => {
    const out = new Set<string>();
    for (const other of among ?? ctx.table.vehicles()) if (other !== v) for (const n of ctx.table.held(other)) out.add(n);
    return out;
  };

  const detour = (among: readonly string[] | undefined): Resolution | undefined => {
    for (const v of candidates) {
      const avoid = heldByOthers(v, among);
      const nodes = planDetour(ctx.graph, ctx.table.plan(v) as TrafficPlan, ctx.stops(v), avoid, ctx.maxSpeed);
      if (nodes) return { kind: 'reroute', vehicle: v, nodes, avoided: [...avoid].sort() };
    }
    return undefined;
  };
  const clear = detour(undefined) ?? detour([...waitingOn(members, ctx.table.waits())]);
  if (clear) return clear;

  for (const v of candidates) {
    const p = ctx.table.plan(v) as TrafficPlan;
    const others = members.filter((m) => m !== v);
    const keepClear = new Set(others.flatMap((m) => ctx.table.remaining(m)));
    const crowded = new Set(ctx.table.vehicles().flatMap((m) => (m === v ? [] : ctx.table.remaining(m))));
    const from = p.nodes[p.upTo] as string;
    const retreat = findRetreat(ctx.graph, ctx.table, v, from, keepClear, { crowded });
    if (!retreat) continue;
    const head = [...p.nodes.slice(0, p.upTo + 1), ...retreat.slice(1)];
    const tail = legs(ctx.graph, retreat[retreat.length - 1] as string, stopNodes(p, ctx.stops(v)), undefined, ctx.maxSpeed);
    if (!tail) continue;
    return { kind: 'backoff', vehicle: v, nodes: [...head, ...tail], retreatTo: retreat[retreat.length - 1] as string, retreatIndex: head.length - 1, yieldTo: others };
  }
  // Last, a detour past a vehicle queued behind the cycle: it closes another cycle, whose own
  // resolution may still move things on (it may give way in its turn).
  return detour(members) ?? { kind: 'none', reason: 'no detour around the cycle and no free node to back off to' };
}

/** The cycle's members and every vehicle whose chain of waits leads to one of them. */
function waitingOn(members: readonly string[], waits: readonly WaitEdge[]): Set<string> {
  const waitersOf = new Map<string, string[]>();
  for (const w of waits) {
    const list = waitersOf.get(w.holder);
    if (list) list.push(w.vehicle);
    else waitersOf.set(w.holder, [w.vehicle]);
  }
  const stuck = new Set(members);
  const queue = [...members];
  for (let v = queue.pop(); v !== undefined; v = queue.pop()) {
    for (const waiter of waitersOf.get(v) ?? []) {
      if (stuck.has(waiter)) continue;
      stuck.add(waiter);
      queue.push(waiter);
    }
  }
  return stuck;
}

/**
 * The vehicle's path up to the end of its base, then on to each remaining stop avoiding
 * `avoid` (the first leg must; later legs fall back to the plain fastest route, as the nodes
 * held now will have moved on by then). Undefined when the first leg has no such route.
 */
export function planDetour(graph: RouteGraph, plan: TrafficPlan, stops: readonly number[], avoid: ReadonlySet<string>, maxSpeed?: number): string[] | undefined {
  const targets = stopNodes(plan, stops);
  if (targets.length === 0) return undefined;
  const tail = legs(graph, plan.nodes[plan.upTo] as string, targets, avoid, maxSpeed);
  return tail && [...plan.nodes.slice(0, plan.upTo + 1), ...tail];
}

/** Extra hops a retreat goes for a better place: a dead end, or a node no one is about to pass. */
const CROWDED_PENALTY = 4;

export interface RetreatOptions {
  /** Other vehicles' routes: a node on one is worth a few hops less. */
  crowded?: ReadonlySet<string>;
  /** Hops a dead end (a spur, a bay) is worth: a few for a vehicle that will come back, many for one that will wait there. */
  deadEndBonus?: number;
  /** Vehicles whose nodes the path may cross (idle ones that can be moved on first); never a target. */
  through?: (holder: string) => boolean;
}

/**
 * Where a vehicle can get out of the way: a node reachable from `from` over nodes free for
 * `vehicle`, not in `keepClear` (the paths of those it makes way for). Nearest first, but a
 * dead end (a spur, a bay) is worth some hops more and a node on one of the `crowded` paths
 * (other vehicles' routes) a few hops less, so that a vehicle moved aside does not stop where
 * the next one will want to pass. The path from `from`, or undefined.
 */
export function findRetreat(
  graph: RouteGraph,
  table: ReservationTable,
  vehicle: string,
  from: string,
  keepClear: ReadonlySet<string>,
  opts: RetreatOptions = {},
): string[] | undefined {
  const { crowded = new Set<string>(), deadEndBonus = 4, through = () => false } = opts;
  const free = (n: string): boolean => {
    const h = table.holder(n);
    return h === undefined || h === vehicle;
  };
  const passable = (n: string): boolean => {
    const h = table.holder(n);
    return h === undefined || h === vehicle || through(h);
  };
  const prev = new Map<string, string>([[from, from]]);
  const hops = new Map<string, number>([[from, 0]]);
  const queue = [from];
  let best: { node: string; cost: number } | undefined;
  for (let head = 0; head < queue.length; head++) {
    const at = queue[head] as string;
    const d = (hops.get(at) as number) + 1;
    if (best && d - deadEndBonus > best.cost) break;
    for (const n of graph.neighbours(at)) {
      if (prev.has(n) || !passable(n)) continue;
      const edgeHolder = table.edgeHolderOf(at, n);
      if (edgeHolder !== undefined && edgeHolder !== vehicle && !through(edgeHolder)) continue;
      prev.set(n, at);
      hops.set(n, d);
      queue.push(n);
      if (keepClear.has(n) || !free(n)) continue;
      const cost = d - (graph.isDeadEnd(n) ? deadEndBonus : 0) + (crowded.has(n) ? CROWDED_PENALTY : 0);
      if (!best || cost < best.cost) best = { node: n, cost };
    }
  }
  if (!best) return undefined;
  const path = [best.node];
  for (let p = prev.get(best.node) as string; p !== from; p = prev.get(p) as string) path.unshift(p);
  return [from, ...path];
}

function stopNodes(plan: TrafficPlan, stops: readonly number[]): string[] {
  return stops.filter((i) => i > plan.upTo && i < plan.nodes.length).map((i) => plan.nodes[i] as string);
}

/** Consecutive fastest legs from `from` through `targets`, without `from` itself. */
function legs(graph: RouteGraph, from: string, targets: readonly string[], avoid: ReadonlySet<string> | undefined, maxSpeed?: number): string[] | undefined {
  const out: string[] = [];
  let at = from;
  for (const [k, to] of targets.entries()) {
    if (to === at) continue;
    const r = (avoid ? graph.shortestPathAvoiding(at, to, avoid, maxSpeed) : undefined) ?? (k > 0 || !avoid ? graph.shortestPath(at, to, maxSpeed) : undefined);
    if (!r) return undefined;
    out.push(...r.nodes.slice(1));
    at = to;
  }
  return out;
}
