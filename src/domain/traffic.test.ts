import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteGraph } from './route-graph.js';
import { findRetreat, planDetour, ReservationTable, resolveDeadlock, type ResolutionContext, type WaitEdge } from './traffic.js';

type Layout = ConstructorParameters<typeof RouteGraph>[0];

/** A cols x rows grid of nodes `x,y`, 1 m apart, 4-neighbours joined both ways; `without` are left out. */
function grid(cols: number, rows: number, without: string[] = []): RouteGraph {
  const gone = new Set(without);
  const nodes: Layout['graph']['nodes'] = [];
  const edges: Layout['graph']['edges'] = [];
  const id = (x: number, y: number): string => `${x},${y}`;
  for (let y = 0; y < rows; y++) for (let x = 0; x < cols; x++) if (!gone.has(id(x, y))) nodes.push({ id: id(x, y), x, y });
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      if (gone.has(id(x, y))) continue;
      if (x + 1 < cols && !gone.has(id(x + 1, y))) edges.push({ id: `${id(x, y)}>${id(x + 1, y)}`, from: id(x, y), to: id(x + 1, y) });
      if (y + 1 < rows && !gone.has(id(x, y + 1))) edges.push({ id: `${id(x, y)}^${id(x, y + 1)}`, from: id(x, y), to: id(x, y + 1) });
    }
  }
  return new RouteGraph({ graph: { nodes, edges } });
}

/** A one-lane corridor a-b-c-d-e-f with a side pocket `p` off `b`. */
const corridor = new RouteGraph({
  graph: {
    nodes: [
      { id: 'a', x: 0, y: 0 },
      { id: 'b', x: 1, y: 0 },
      { id: 'c', x: 2, y: 0 },
      { id: 'd', x: 3, y: 0 },
      { id: 'e', x: 4, y: 0 },
      { id: 'f', x: 5, y: 0 },
      { id: 'p', x: 1, y: 1 },
    ],
    edges: [
      { id: 'ab', from: 'a', to: 'b' },
      { id: 'bc', from: 'b', to: 'c' },
      { id: 'cd', from: 'c', to: 'd' },
      { id: 'de', from: 'd', to: 'e' },
      { id: 'ef', from: 'e', to: 'f' },
      { id: 'bp', from: 'b', to: 'p' },
    ],
  },
});

/** Drives every vehicle one node along its granted window per round, re-asking when at its end. */
function drive(table: ReservationTable, paths: Map<string, string[]>, lookahead: number, rounds: number, onRound?: () => void): void {
  for (let r = 0; r < rounds; r++) {
    for (const [v, nodes] of paths) {
      const p = table.plan(v);
      if (!p || p.at === nodes.length - 1) continue;
      if (p.upTo > p.at) table.advance(v, nodes[p.at + 1] as string, p.at + 1);
      else table.reservePath(v, nodes, p.at, lookahead);
    }
    onRound?.();
  }
}

function contextFor(graph: RouteGraph, table: ReservationTable, priorities: Record<string, number>, stops?: Record<string, number[]>): ResolutionContext {
  return {
    graph,
    table,
    priority: (v) => priorities[v] ?? 0,
    stops: (v) => stops?.[v] ?? [(table.plan(v)?.nodes.length ?? 1) - 1],
    movable: () => true,
  };
}

describe('ReservationTable', () => {
  it('grants the free prefix up to the lookahead and holds the edges between, in both directions', () => {
    const t = new ReservationTable();
    const g = t.reservePath('amr-1', ['a', 'b', 'c', 'd', 'e'], 0, 3);
    expect(g).toEqual({ upTo: 3, blocked: undefined, released: [] });
    expect(t.held('amr-1')).toEqual(['a', 'b', 'c', 'd']);
    expect(t.holder('d')).toBe('amr-1');
    expect(t.holder('e')).toBeUndefined();
    expect(t.edgeHolderOf('c', 'b')).toBe('amr-1');
    expect(t.edgeHolderOf('d', 'e')).toBeUndefined();
    expect(t.waits()).toEqual([]);
  });

  it('stops at the first node another vehicle holds, never grants beyond it, and records the wait', () => {
    const t = new ReservationTable();
    expect(t.park('amr-2', 'c')).toBe(true);
    const g = t.reservePath('amr-1', ['a', 'b', 'c', 'd'], 0, 3);
    expect(g.upTo).toBe(1);
    expect(g.blocked).toEqual({ index: 2, nodeId: 'c', by: 'amr-2', reason: 'held' });
    expect(t.holder('d')).toBeUndefined();
    expect(t.waitOf('amr-1')).toEqual({ vehicle: 'amr-1', nodeId: 'c', holder: 'amr-2', reason: 'held' });
    // The parked vehicle leaves: the rest is granted and the wait is over.
    t.releaseAll('amr-2');
    expect(t.reservePath('amr-1', ['a', 'b', 'c', 'd'], 0, 3).upTo).toBe(3);
    expect(t.waitOf('amr-1')).toBeUndefined();
  });

  it('a vehicle cannot take the node another stands on, even as its own start', () => {
    const t = new ReservationTable();
    t.park('amr-2', 'a');
    const g = t.reservePath('amr-1', ['a', 'b'], 0, 3);
    expect(g.upTo).toBe(-1);
    expect(t.held('amr-1')).toEqual([]);
    expect(t.park('amr-1', 'a')).toBe(false);
  });

  it('cedes a node held only ahead of a vehicle to one that stands on it, never the node the holder stands on', () => {
    const t = new ReservationTable();
    t.reservePath('amr-1', ['a', 'b', 'c', 'd'], 0, 3);
    expect(t.park('amr-2', 'c')).toBe(false);
    expect(t.cede('c')).toBe(true);
    expect(t.held('amr-1')).toEqual(['a', 'b']);
    expect(t.edgeHolderOf('b', 'c')).toBeUndefined();
    expect(t.park('amr-2', 'c')).toBe(true);
    expect(t.reservePath('amr-1', ['a', 'b', 'c', 'd'], 0, 3).blocked).toMatchObject({ nodeId: 'c', by: 'amr-2' });
    expect(t.cede('a')).toBe(false);
    expect(t.cede('zz')).toBe(true);
  });

  it('releases the nodes behind a vehicle as it advances, keeping a node the path visits again', () => {
    const t = new ReservationTable();
    const path = ['a', 'b', 'p', 'b', 'c'];
    t.reservePath('amr-1', path, 0, 4);
    expect(t.advance('amr-1', 'b')).toEqual(['a']);
    expect(t.advance('amr-1', 'p')).toEqual([]);
    expect(t.held('amr-1')).toEqual(['p', 'b', 'c']);
    // The second visit of b: the first occurrence at or after the current position.
    expect(t.advance('amr-1', 'b')).toEqual(['p']);
    expect(t.plan('amr-1')).toMatchObject({ at: 3, upTo: 4 });
    // A node outside the window changes nothing.
    expect(t.advance('amr-1', 'zz')).toEqual([]);
  });

  it('never takes back a base once granted, whatever the lookahead asked next', () => {
    const t = new ReservationTable();
    const path = ['a', 'b', 'c', 'd', 'e'];
    t.reservePath('amr-1', path, 0, 3);
    expect(t.reservePath('amr-1', path, 1, 1).upTo).toBe(3);
    expect(t.held('amr-1')).toEqual(['b', 'c', 'd']);
  });

  it('a new path releases what the old one held beyond the shared head', () => {
    const t = new ReservationTable();
    t.reservePath('amr-1', ['a', 'b', 'c', 'd'], 0, 3);
    const g = t.reservePath('amr-1', ['a', 'b', 'p'], 0, 3);
    expect(g.released.sort()).toEqual(['c', 'd']);
    expect(t.held('amr-1')).toEqual(['a', 'b', 'p']);
    expect(t.edgeHolderOf('b', 'c')).toBeUndefined();
  });

  it('a pinned node is held besides the window until unpinned', () => {
    const t = new ReservationTable();
    t.park('amr-1', 'b', 'c');
    expect(t.held('amr-1')).toEqual(['b', 'c']);
    expect(t.reservePath('amr-2', ['e', 'd', 'c'], 0, 3).blocked?.by).toBe('amr-1');
    t.pin('amr-1', undefined);
    expect(t.holder('c')).toBeUndefined();
  });

  it('releaseAll frees every node and edge of the vehicle', () => {
    const t = new ReservationTable();
    t.reservePath('amr-1', ['a', 'b', 'c'], 0, 3);
    expect(t.releaseAll('amr-1').sort()).toEqual(['a', 'b', 'c']);
    expect(t.holder('b')).toBeUndefined();
    expect(t.edgeHolderOf('a', 'b')).toBeUndefined();
    expect(t.plan('amr-1')).toBeUndefined();
  });

  it('a yielding vehicle takes no node still ahead of the one it yields to, until that one passed', () => {
    const t = new ReservationTable();
    t.reservePath('winner', ['d', 'c', 'b', 'a'], 0, 1);
    const path = ['p', 'b', 'c', 'd'];
    t.yieldTo('loser', ['winner'], 0, path);
    const g = t.reservePath('loser', path, 0, 3);
    expect(g.upTo).toBe(0);
    expect(g.blocked).toMatchObject({ nodeId: 'b', by: 'winner', reason: 'yield' });
    // The winner drives through b and on: b and c are behind it now.
    t.reservePath('winner', ['d', 'c', 'b', 'a'], 0, 3);
    t.advance('winner', 'a');
    expect(t.reservePath('loser', path, 0, 3).upTo).toBe(3);
  });

  it('a yield ends when the vehicle yielded to gets another path (a new trip)', () => {
    const t = new ReservationTable();
    t.reservePath('winner', ['d', 'c', 'b', 'a'], 0, 0);
    const path = ['p', 'b', 'c'];
    t.yieldTo('loser', ['winner'], 0, path);
    expect(t.reservePath('loser', path, 0, 3).blocked?.reason).toBe('yield');
    t.reservePath('winner', ['d', 'e', 'f'], 0, 1);
    expect(t.reservePath('loser', path, 0, 3).upTo).toBe(2);
  });

  it('a yield also covers a node the vehicle still holds from before it backed off', () => {
    const t = new ReservationTable();
    t.park('winner', 'd');
    t.reservePath('winner', ['d', 'c', 'b', 'a'], 0, 0);
    t.park('loser', 'b');
    const path = ['b', 'p', 'b', 'c'];
    t.yieldTo('loser', ['winner'], 1, path);
    const g = t.reservePath('loser', path, 0, 3);
    expect(g.upTo).toBe(1);
    expect(g.blocked).toMatchObject({ index: 2, nodeId: 'b', by: 'winner', reason: 'yield' });
  });
});

describe('wait-for graph and deadlocks', () => {
  it('two vehicles heading at each other in a corridor are a deadlock: a cycle of two', () => {
    const t = new ReservationTable();
    t.reservePath('amr-1', ['a', 'b', 'c', 'd', 'e'], 0, 2);
    t.reservePath('amr-2', ['f', 'e', 'd', 'c', 'b'], 0, 2);
    t.advance('amr-1', 'c');
    t.advance('amr-2', 'd');
    t.reservePath('amr-1', ['a', 'b', 'c', 'd', 'e'], 2, 2);
    t.reservePath('amr-2', ['f', 'e', 'd', 'c', 'b'], 2, 2);
    const cycle = t.findDeadlock();
    expect(cycle?.map((e) => [e.vehicle, e.nodeId, e.holder]).sort()).toEqual([
      ['amr-1', 'd', 'amr-2'],
      ['amr-2', 'c', 'amr-1'],
    ]);
  });

  it('following another vehicle, or waiting for one that will drive on, is no deadlock', () => {
    const t = new ReservationTable();
    t.reservePath('lead', ['c', 'd', 'e', 'f'], 0, 3);
    t.reservePath('follower', ['a', 'b', 'c', 'd'], 0, 3);
    expect(t.waitOf('follower')?.holder).toBe('lead');
    expect(t.isHardWait(t.waitOf('follower') as WaitEdge)).toBe(false);
    expect(t.findDeadlock()).toBeUndefined();
  });

  it('finds a cycle of four vehicles going round a square, each waiting for the next', () => {
    const t = new ReservationTable();
    const corners = ['0,0', '1,0', '1,1', '0,1'];
    corners.forEach((n, i) => t.park(`v${i}`, n));
    corners.forEach((n, i) => t.reservePath(`v${i}`, [n, corners[(i + 1) % 4] as string], 0, 1));
    const cycle = t.findDeadlock();
    expect(cycle?.map((e) => e.vehicle).sort()).toEqual(['v0', 'v1', 'v2', 'v3']);
    for (const [i, e] of (cycle ?? []).entries()) expect(e.holder).toBe(cycle?.[(i + 1) % 4]?.vehicle);
    // One of them leaves: no cycle any more.
    t.releaseAll('v2');
    expect(t.findDeadlock()).toBeUndefined();
  });
});

describe('resolveDeadlock', () => {
  it('re-routes the lower-priority vehicle around the other when the grid has a detour', () => {
    const g = grid(5, 2);
    const t = new ReservationTable();
    const p1 = ['0,0', '1,0', '2,0', '3,0', '4,0'];
    const p2 = ['4,0', '3,0', '2,0', '1,0', '0,0'];
    t.reservePath('old', p1, 0, 1);
    t.advance('old', '1,0');
    t.reservePath('new', p2, 0, 1);
    t.advance('new', '3,0');
    t.reservePath('old', p1, 1, 2);
    t.reservePath('new', p2, 1, 2);
    const cycle = t.findDeadlock();
    expect(cycle).toBeDefined();
    const r = resolveDeadlock(cycle as WaitEdge[], contextFor(g, t, { old: 2, new: 1 }));
    expect(r.kind).toBe('reroute');
    if (r.kind !== 'reroute') return;
    expect(r.vehicle).toBe('new');
    // The base (up to 3,0) stays the head; the detour leaves the row the other one holds.
    expect(r.nodes.slice(0, 2)).toEqual(['4,0', '3,0']);
    expect(r.nodes[r.nodes.length - 1]).toBe('0,0');
    expect(r.nodes.slice(2).some((n) => t.holder(n) === 'old' && n !== '0,0')).toBe(false);
  });

  it('backs a vehicle off into a side pocket when the corridor has no detour, and both get through', () => {
    const t = new ReservationTable();
    const paths = new Map([
      ['east', ['a', 'b', 'c', 'd', 'e', 'f']],
      ['west', ['f', 'e', 'd', 'c', 'b', 'a']],
    ]);
    t.park('east', 'a');
    t.park('west', 'f');
    drive(t, paths, 2, 6);
    const cycle = t.findDeadlock();
    expect(cycle).toBeDefined();
    const r = resolveDeadlock(cycle as WaitEdge[], contextFor(corridor, t, { east: 1, west: 2 }));
    expect(r).toMatchObject({ kind: 'backoff', vehicle: 'east', retreatTo: 'p', yieldTo: ['west'] });
    if (r.kind !== 'backoff') return;
    expect(r.nodes[r.nodes.length - 1]).toBe('f');
    const at = t.plan('east')?.at ?? 0;
    t.yieldTo('east', r.yieldTo, r.retreatIndex, r.nodes);
    t.reservePath('east', r.nodes, at, 2);
    paths.set('east', r.nodes);
    const positions: string[][] = [];
    drive(t, paths, 2, 40, () => positions.push([...paths.keys()].map((v) => t.plan(v)?.nodes[t.plan(v)?.at ?? 0] ?? '?')));
    expect(t.plan('east')?.nodes[t.plan('east')?.at ?? 0]).toBe('f');
    expect(t.plan('west')?.nodes[t.plan('west')?.at ?? 0]).toBe('a');
    for (const [e, w] of positions) expect(e).not.toBe(w);
    expect(t.findDeadlock()).toBeUndefined();
  });

  it('does not re-route through the node of a vehicle that waits for the cycle: that only closes the next one', () => {
    // A jammed two-lane aisle, as late-vehicles.test.ts saw it under load: v2, v3 and v10 head
    // east, v4, v5 and v6 west to their picks. v4 waits for v2, v2 for v3, v3 for v5 and v5 for
    // v4: the cycle. v10 waits for v4 and v6 for v3, queued behind it.
    const g = grid(6, 2);
    const t = new ReservationTable();
    const paths: Record<string, string[]> = {
      v10: ['1,0', '2,0', '3,0', '4,0', '5,0'],
      v4: ['2,0', '2,1', '1,1'],
      v2: ['2,1', '3,1', '4,1', '5,1'],
      v3: ['3,1', '3,0', '4,0', '5,0'],
      v5: ['3,0', '2,0', '2,1'],
      v6: ['4,1', '3,1'],
    };
    for (const [v, p] of Object.entries(paths)) t.park(v, p[0] as string);
    for (const [v, p] of Object.entries(paths)) t.reservePath(v, p, 0, 2);
    const cycle = t.findDeadlock() as WaitEdge[];
    expect(new Set(cycle.map((e) => e.vehicle))).toEqual(new Set(['v4', 'v2', 'v3', 'v5']));
    // v4 gives way first, v5 next. Before, v4 was sent round through v10's node: v10 waits for
    // v4, so that closed a cycle of two, whose detour led back through v2's node, and so on.
    const priorities = { v10: 6, v2: 5, v3: 4, v6: 3, v5: 2, v4: 1 };
    const r = resolveDeadlock(cycle, contextFor(g, t, priorities));
    const queued = new Set([...t.held('v10'), ...t.held('v6')]);
    if (r.kind === 'reroute') expect(r.nodes.filter((n) => queued.has(n))).toEqual([]);
    // Here no detour is left, so one of the cycle backs off out of the others' way.
    expect(r).toMatchObject({ kind: 'backoff', vehicle: 'v2' });
    if (r.kind !== 'backoff') return;
    for (const v of ['v4', 'v3', 'v5']) expect(paths[v]).not.toContain(r.retreatTo);
    t.yieldTo(r.vehicle, r.yieldTo, r.retreatIndex, r.nodes);
    t.reservePath(r.vehicle, r.nodes, 0, 2);
    expect(t.waitOf('v2')).toBeUndefined();
  });

  it('says so when nobody can give way', () => {
    const line = new RouteGraph({ graph: { nodes: [{ id: 'a', x: 0, y: 0 }, { id: 'b', x: 1, y: 0 }], edges: [{ id: 'ab', from: 'a', to: 'b' }] } });
    const t = new ReservationTable();
    t.park('x', 'a');
    t.park('y', 'b');
    t.reservePath('x', ['a', 'b'], 0, 1);
    t.reservePath('y', ['b', 'a'], 0, 1);
    const cycle = t.findDeadlock();
    expect(cycle).toHaveLength(2);
    expect(resolveDeadlock(cycle as WaitEdge[], contextFor(line, t, {})).kind).toBe('none');
    expect(resolveDeadlock(cycle as WaitEdge[], { ...contextFor(line, t, {}), movable: () => false })).toMatchObject({ kind: 'none' });
  });

  it('plans a detour through the remaining stops in order and finds the nearest free node off given paths', () => {
    const g = grid(3, 3);
    const plan = { nodes: ['0,0', '1,0', '2,0', '2,1', '2,2'], at: 0, upTo: 1 };
    const detour = planDetour(g, plan, [2, 4], new Set(['1,1']));
    expect(detour?.slice(0, 3)).toEqual(['0,0', '1,0', '2,0']);
    expect(detour?.[detour.length - 1]).toBe('2,2');
    expect(planDetour(g, plan, [2, 4], new Set(['2,0']))).toBeUndefined();
    const t = new ReservationTable();
    t.park('other', '0,1');
    expect(findRetreat(g, t, 'me', '0,0', new Set(['0,0', '1,0', '2,0']))).toEqual(['0,0', '1,0', '1,1']);
  });

  it('moves a vehicle out of the way to a dead end rather than onto a lane when one is near, and can pass idle ones', () => {
    // A row a-b-c-d with a spur s off d: from a, b is nearer but the spur is worth the detour.
    const g = new RouteGraph({
      graph: {
        nodes: ['a', 'b', 'c', 'd', 's'].map((id, i) => ({ id, x: i, y: 0 })),
        edges: [
          { id: 'ab', from: 'a', to: 'b' },
          { id: 'bc', from: 'b', to: 'c' },
          { id: 'cd', from: 'c', to: 'd' },
          { id: 'ds', from: 'd', to: 's' },
        ],
      },
    });
    expect(g.isDeadEnd('s')).toBe(true);
    expect(g.isDeadEnd('a')).toBe(true);
    expect(g.isDeadEnd('b')).toBe(false);
    const t = new ReservationTable();
    t.park('me', 'a');
    expect(findRetreat(g, t, 'me', 'a', new Set(), { deadEndBonus: 30 })).toEqual(['a', 'b', 'c', 'd', 's']);
    expect(findRetreat(g, t, 'me', 'a', new Set(), { deadEndBonus: 0 })).toEqual(['a', 'b']);
    // Another vehicle on c: blocked, unless it is one that can be moved on first.
    t.park('idle', 'c');
    expect(findRetreat(g, t, 'me', 'a', new Set(['b']), { deadEndBonus: 30 })).toBeUndefined();
    expect(findRetreat(g, t, 'me', 'a', new Set(['b']), { deadEndBonus: 30, through: (v) => v === 'idle' })).toEqual(['a', 'b', 'c', 'd', 's']);
  });

  it('shortestPathAvoiding keeps out of the avoided nodes, or finds nothing', () => {
    const g = grid(3, 2);
    expect(g.shortestPathAvoiding('0,0', '2,0', new Set(['1,0']))?.nodes).toEqual(['0,0', '0,1', '1,1', '2,1', '2,0']);
    expect(g.shortestPathAvoiding('0,0', '2,0', new Set(['1,0', '1,1']))).toBeUndefined();
    expect(g.routeAlong(['0,0', '1,0', '1,1'])?.steps.map((s) => s.edgeId)).toEqual(['0,0>1,0', '1,0^1,1']);
    expect(g.routeAlong(['0,0', '1,1'])).toBeUndefined();
  });
});

describe('properties', () => {
  const g = grid(4, 4);
  const nodeIds = Array.from({ length: 16 }, (_, i) => `${i % 4},${Math.floor(i / 4)}`);
  const vehicles = ['v1', 'v2', 'v3', 'v4'];
  const op = fc.oneof(
    fc.record({ kind: fc.constant('route' as const), v: fc.constantFrom(...vehicles), to: fc.constantFrom(...nodeIds), lookahead: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('step' as const), v: fc.constantFrom(...vehicles), lookahead: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('release' as const), v: fc.constantFrom(...vehicles) }),
    fc.record({ kind: fc.constant('resolve' as const) }),
  );

  it('no node or edge ever has two holders, a vehicle holds one run of its path, and vehicles never share or swap a node', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(nodeIds, { minLength: 4, maxLength: 4 }), fc.array(op, { maxLength: 80 }), (starts, ops) => {
        const t = new ReservationTable();
        const pos = new Map<string, string>();
        vehicles.forEach((v, i) => {
          t.park(v, starts[i] as string);
          pos.set(v, starts[i] as string);
        });
        const check = (): void => {
          const owner = new Map<string, string>();
          for (const v of t.vehicles()) {
            const p = t.plan(v);
            if (!p) continue;
            for (const n of t.held(v)) {
              expect(owner.get(n), `${n} held twice`).toBeUndefined();
              owner.set(n, v);
              expect(t.holder(n)).toBe(v);
            }
            // The window is a contiguous run from where the vehicle is, and it stands in it.
            expect(p.at).toBeLessThanOrEqual(p.upTo);
            expect(t.held(v)).toEqual(expect.arrayContaining(p.nodes.slice(p.at, p.upTo + 1)));
            expect(p.nodes[p.at]).toBe(pos.get(v));
            for (let i = p.at; i < p.upTo; i++) expect(t.edgeHolderOf(p.nodes[i] as string, p.nodes[i + 1] as string)).toBe(v);
          }
          const at = [...pos.values()];
          expect(new Set(at).size).toBe(at.length);
        };
        for (const o of ops) {
          if (o.kind === 'route') {
            const from = pos.get(o.v) as string;
            const r = g.shortestPath(from, o.to);
            if (r) t.reservePath(o.v, r.nodes, 0, o.lookahead);
          } else if (o.kind === 'step') {
            const p = t.plan(o.v);
            if (p && p.upTo > p.at) {
              // A vehicle only ever drives onto a node it holds, over an edge it holds.
              const next = p.nodes[p.at + 1] as string;
              expect(t.holder(next)).toBe(o.v);
              expect(t.edgeHolderOf(pos.get(o.v) as string, next)).toBe(o.v);
              t.advance(o.v, next, p.at + 1);
              pos.set(o.v, next);
            } else if (p) t.reservePath(o.v, p.nodes, p.at, o.lookahead);
          } else if (o.kind === 'release') {
            t.park(o.v, pos.get(o.v) as string);
          } else {
            const cycle = t.findDeadlock();
            if (!cycle) continue;
            for (const [i, e] of cycle.entries()) expect(e.holder).toBe(cycle[(i + 1) % cycle.length]?.vehicle);
            const r = resolveDeadlock(cycle, contextFor(g, t, {}));
            if (r.kind === 'none') continue;
            const p = t.plan(r.vehicle);
            expect(r.nodes.slice(0, (p?.upTo ?? 0) + 1)).toEqual(p?.nodes.slice(0, (p?.upTo ?? 0) + 1));
            if (r.kind === 'backoff') t.yieldTo(r.vehicle, r.yieldTo, r.retreatIndex, r.nodes);
            t.reservePath(r.vehicle, r.nodes, p?.at ?? 0, 2);
          }
          check();
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('properties: asking again changes nothing', () => {
  // A 4x4 grid with two pockets (dead ends off 1,0 and 2,3) and a zone on the right-hand column.
  const g = grid(4, 4, ['0,0', '3,3']);
  const nodeIds = Array.from({ length: 16 }, (_, i) => `${i % 4},${Math.floor(i / 4)}`).filter((n) => g.has(n));
  const pairs = nodeIds.flatMap((a) => g.neighbours(a).map((b) => [a, b] as const));
  const vehicles = ['v1', 'v2', 'v3', 'v4'];
  const zones = [{ id: 'z', nodes: ['3,1', '3,2'], capacity: 1 }];
  const op = fc.oneof(
    fc.record({ kind: fc.constant('route' as const), v: fc.constantFrom(...vehicles), to: fc.constantFrom(...nodeIds), lookahead: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('step' as const), v: fc.constantFrom(...vehicles), lookahead: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ kind: fc.constant('pin' as const), v: fc.constantFrom(...vehicles), on: fc.boolean() }),
  );
  /** Everything a caller can observe of the table. */
  const snapshot = (t: ReservationTable): unknown => ({
    holders: nodeIds.map((n) => t.holder(n) ?? '-'),
    edges: pairs.map(([a, b]) => t.edgeHolderOf(a, b) ?? '-'),
    plans: vehicles.map((v) => [t.plan(v), t.pinned(v), t.waitOf(v), t.held(v)]),
    admitted: t.admittedTo('z'),
  });

  it('the same reservation asked again (a waiting vehicle retried) returns the same grant and leaves every holding, wait and admission as it was', () => {
    let stillBlocked = 0;
    fc.assert(
      fc.property(fc.shuffledSubarray(nodeIds, { minLength: 4, maxLength: 4 }), fc.array(op, { maxLength: 60 }), (starts, ops) => {
        const t = new ReservationTable({ isDeadEnd: (n) => g.isDeadEnd(n), zones });
        vehicles.forEach((v, i) => t.park(v, starts[i] as string));
        for (const o of ops) {
          const p = t.plan(o.v);
          if (!p) continue;
          let ask: (() => ReturnType<ReservationTable['reservePath']>) | undefined;
          if (o.kind === 'route') {
            const r = g.shortestPath(p.nodes[p.at] as string, o.to);
            if (r) ask = () => t.reservePath(o.v, r.nodes, 0, o.lookahead);
          } else if (o.kind === 'step') {
            if (p.upTo > p.at) t.advance(o.v, p.nodes[p.at + 1] as string, p.at + 1);
            else ask = () => t.reservePath(o.v, p.nodes, p.at, o.lookahead);
          } else {
            t.pin(o.v, o.on ? g.neighbours(p.nodes[p.at] as string)[0] : undefined);
          }
          // Whenever the table says a vehicle is still blocked, asking again indeed changes nothing.
          for (const v of vehicles) {
            const mine = t.plan(v);
            const lookahead = 'lookahead' in o ? o.lookahead : 2;
            if (!mine || !t.stillBlocked(v, mine.nodes, lookahead)) continue;
            stillBlocked++;
            const before = snapshot(t);
            const again = t.reservePath(v, mine.nodes, mine.at, lookahead);
            expect(again.upTo).toBe(mine.upTo);
            expect(again.released).toEqual([]);
            expect(snapshot(t)).toEqual(before);
          }
          if (!ask) continue;
          const first = ask();
          const before = snapshot(t);
          const again = ask();
          expect(again.upTo).toBe(first.upTo);
          expect(again.blocked).toEqual(first.blocked);
          expect(again.released).toEqual([]);
          expect(snapshot(t)).toEqual(before);
        }
      }),
      { numRuns: 200 },
    );
    // The shortcut was exercised, not only the plain retries.
    expect(stillBlocked).toBeGreaterThan(0);
  });
});

describe('ReservationTable: dead ends and admission zones', () => {
  const deadEnd = (n: string): boolean => corridor.isDeadEnd(n);

  it('does not stop a vehicle in the mouth of a dead end another vehicle is in; it waits a node earlier', () => {
    const t = new ReservationTable({ isDeadEnd: deadEnd });
    // amr-2 is in the pocket p and will come out through b.
    t.park('amr-2', 'p');
    const g = t.reservePath('amr-1', ['a', 'b', 'p'], 0, 2);
    expect(g.upTo).toBe(0);
    expect(g.blocked).toEqual({ index: 1, nodeId: 'p', by: 'amr-2', reason: 'held' });
    expect(t.holder('b')).toBeUndefined();
    // The wait is hard while amr-2 stays: an idle vehicle there is moved out.
    expect(t.isHardWait(t.waitOf('amr-1') as WaitEdge)).toBe(true);
    // amr-2 comes out past b; then amr-1 gets the mouth and the pocket together.
    t.releaseAll('amr-2');
    expect(t.reservePath('amr-1', ['a', 'b', 'p'], 0, 2).upTo).toBe(2);
  });

  it('passes the mouth of an occupied dead end it does not enter', () => {
    const t = new ReservationTable({ isDeadEnd: deadEnd });
    t.park('amr-2', 'p');
    expect(t.reservePath('amr-1', ['a', 'b', 'c'], 0, 2).upTo).toBe(2);
  });

  it('admits at most `capacity` vehicles into a zone; the next waits in the dead end it leaves until one is out', () => {
    // Zone {d, e} (a station and its queue); vehicles pick in the pocket p and head through it to f.
    const path = ['p', 'b', 'c', 'd', 'e', 'f'];
    const two = new ReservationTable({ isDeadEnd: deadEnd, zones: [{ id: 'st', nodes: ['d', 'e'], capacity: 2 }] });
    two.park('amr-1', 'e');
    two.park('amr-2', 'p');
    // Room for two: amr-2 is admitted as it leaves the pocket, before it reaches the zone.
    expect(two.reservePath('amr-2', path, 0, 1).upTo).toBe(1);
    expect(two.admittedTo('st')).toEqual(['amr-1', 'amr-2']);

    const one = new ReservationTable({ isDeadEnd: deadEnd, zones: [{ id: 'st', nodes: ['d', 'e'], capacity: 1 }] });
    one.park('amr-1', 'e');
    one.park('amr-3', 'p');
    const g = one.reservePath('amr-3', path, 0, 3);
    expect(g.upTo).toBe(0);
    expect(g.blocked).toEqual({ index: 1, nodeId: 'b', by: 'amr-1', reason: 'zone' });
    // Not a deadlock edge: the zone empties whatever amr-3 does.
    expect(one.isHardWait(one.waitOf('amr-3') as WaitEdge)).toBe(false);
    // amr-1 drives out of the zone: amr-3 is let in.
    one.reservePath('amr-1', ['e', 'f'], 0, 1);
    one.advance('amr-1', 'f');
    expect(one.admittedTo('st')).toEqual([]);
    expect(one.reservePath('amr-3', path, 0, 3).upTo).toBe(3);
    expect(one.admittedTo('st')).toEqual(['amr-3']);
    // Its path changes to one that no longer leads into the zone: the admission ends.
    one.reservePath('amr-3', ['p', 'b', 'a'], 0, 2);
    expect(one.admittedTo('st')).toEqual([]);
  });
});
