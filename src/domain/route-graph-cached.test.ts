/**
 * `shortestPathCached` (a reverse tree per target, used to rank many vehicles against one pick
 * node) must agree with the plain search on travel time, respect one-way edges and speed limits,
 * and return routes that really are drivable edge by edge.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteGraph } from './route-graph.js';
import { SMALL_GRAPH_LAYOUT } from './small-graph.fixture.js';

const { nodes } = SMALL_GRAPH_LAYOUT.graph;
const graph = new RouteGraph(SMALL_GRAPH_LAYOUT);

describe('RouteGraph.shortestPathCached', () => {
  it('matches shortestPath on travel time for every pair and speed, and walks real edges', () => {
    for (const speed of [0.5, 1.5]) {
      for (const from of nodes) {
        for (const to of nodes) {
          const plain = graph.shortestPath(from.id, to.id, speed);
          const cached = graph.shortestPathCached(from.id, to.id, speed);
          expect(cached === undefined).toBe(plain === undefined);
          if (!plain || !cached) continue;
          expect(cached.travelTime).toBeCloseTo(plain.travelTime, 9);
          expect(cached.nodes[0]).toBe(from.id);
          expect(cached.nodes.at(-1)).toBe(to.id);
          // The node sequence is drivable, and its own travel time is the reported one.
          expect(graph.routeAlong(cached.nodes, speed)?.travelTime).toBeCloseTo(cached.travelTime, 9);
        }
      }
    }
  });

  it('honours one-way edges: c cannot go back to f, so c -> f detours', () => {
    expect(graph.shortestPathCached('f', 'c', 1)?.nodes).toEqual(['f', 'c']);
    expect(graph.shortestPathCached('c', 'f', 1)?.nodes).not.toEqual(['c', 'f']);
    expect(graph.shortestPathCached('a', 'island', 1)).toBeUndefined();
    expect(() => graph.shortestPathCached('nowhere', 'a', 1)).toThrow(RangeError);
  });

  it('agrees with shortestPath on random grids with one-way and slow edges', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ oneWay: fc.boolean(), slow: fc.boolean(), present: fc.boolean() }), { minLength: 24, maxLength: 24 }), (flags) => {
        const n = 4;
        const id = (c: number, r: number): string => `${c}-${r}`;
        const gNodes = Array.from({ length: n * n }, (_, k) => ({ id: id(k % n, Math.floor(k / n)), x: k % n, y: Math.floor(k / n) }));
        const edges = [];
        let f = 0;
        for (let r = 0; r < n; r++) {
          for (let c = 0; c < n; c++) {
            for (const [dc, dr] of [[1, 0], [0, 1]] as const) {
              if (c + dc >= n || r + dr >= n) continue;
              const flag = flags[f++ % flags.length]!;
              if (!flag.present) continue;
              edges.push({ id: `${id(c, r)}_${id(c + dc, r + dr)}`, from: id(c, r), to: id(c + dc, r + dr), bidirectional: !flag.oneWay, ...(flag.slow ? { maxSpeed: 0.3 } : {}) });
            }
          }
        }
        const g = new RouteGraph({ graph: { nodes: gNodes, edges } });
        for (const from of gNodes) {
          for (const to of gNodes) {
            const plain = g.shortestPath(from.id, to.id, 1);
            const cached = g.shortestPathCached(from.id, to.id, 1);
            if ((plain === undefined) !== (cached === undefined)) return false;
            if (plain && cached && Math.abs(plain.travelTime - cached.travelTime) > 1e-9) return false;
          }
        }
        return true;
      }),
      { numRuns: 30 },
    );
  });
});
