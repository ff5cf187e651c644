/**
 * The travel-time table ranks vehicles in place of a route search per vehicle, so it must give
 * the route planner's times exactly: same speeds, one-way edges, speed limits, unreachable nodes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteGraph } from './route-graph.js';
import { TravelTimes } from './travel-times.js';
import { SMALL_GRAPH_LAYOUT } from './small-graph.fixture.js';

const { nodes } = SMALL_GRAPH_LAYOUT.graph;
const layout = SMALL_GRAPH_LAYOUT;

describe('TravelTimes', () => {
  it('gives shortestPath travel time for every pair and speed, and undefined where there is no way', () => {
    const graph = new RouteGraph(layout);
    const times = new TravelTimes(layout);
    for (const speed of [0.5, 1.5]) {
      for (const from of nodes) {
        for (const to of nodes) {
          const expected = graph.shortestPath(from.id, to.id, speed)?.travelTime;
          const got = times.seconds(from.id, to.id, speed);
          if (expected === undefined) expect(got).toBeUndefined();
          else expect(got).toBeCloseTo(expected, 9);
        }
      }
    }
    // One way only: c is reached from f, f is not reached from c except around.
    expect(times.seconds('f', 'c', 1.5)).toBeCloseTo(1 / 1.5, 9);
    expect(times.seconds('island', 'a')).toBeUndefined();
    expect(times.seconds('nowhere', 'a')).toBeUndefined();
    expect(times.seconds('a', 'nowhere')).toBeUndefined();
  });

  it('agrees with the route graph on random grids with slow edges, also when its tables are evicted and rebuilt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 60, maxLength: 60 }), (size, slow) => {
        const ns = Array.from({ length: size * size }, (_, i) => ({ id: `n${i}`, x: i % size, y: Math.floor(i / size) }));
        const edges = ns.flatMap((n, i) => [
          ...(i % size < size - 1 ? [{ id: `h${i}`, from: n.id, to: `n${i + 1}`, ...(slow[i] === 0 ? { maxSpeed: 0.2 } : {}), ...(slow[i] === 1 ? { bidirectional: false } : {}) }] : []),
          ...(i + size < size * size ? [{ id: `v${i}`, from: n.id, to: `n${i + size}` }] : []),
        ]);
        const l = { graph: { nodes: ns, edges } };
        const graph = new RouteGraph(l);
        const times = new TravelTimes(l, 2);
        for (const from of ns) {
          for (const to of ns) {
            const expected = graph.shortestPath(from.id, to.id)?.travelTime;
            const got = times.seconds(from.id, to.id);
            if (expected === undefined) expect(got).toBeUndefined();
            else expect(got).toBeCloseTo(expected, 9);
          }
        }
      }),
      { numRuns: 30 },
    );
  });
});
