import { describe, expect, it } from 'vitest';
import { RouteGraph } from './route-graph.js';
import { SMALL_GRAPH_LAYOUT } from './small-graph.fixture.js';

// A 3x2 grid: a-b-c on top, d-e-f below, with one slow edge b-c.
const graph = new RouteGraph(SMALL_GRAPH_LAYOUT);

describe('RouteGraph', () => {
  it('finds the fastest route, not the shortest, when an edge is slow', () => {
    const r = graph.shortestPath('b', 'c', 1)!;
    expect(r.nodes).toEqual(['b', 'e', 'f', 'c']);
    expect(r.steps.map((s) => s.edgeId)).toEqual(['be', 'ef', 'fc']);
    expect(r.length).toBeCloseTo(3);
    expect(r.travelTime).toBeCloseTo(3);
  });

  it('respects one-way edges', () => {
    expect(graph.shortestPath('c', 'f', 1)!.nodes).toEqual(['c', 'b', 'e', 'f']);
  });

  it('returns a zero-length route from a node to itself and undefined when unreachable', () => {
    expect(graph.shortestPath('a', 'a')).toMatchObject({ nodes: ['a'], steps: [], length: 0 });
    expect(graph.shortestPath('a', 'island')).toBeUndefined();
  });

  it('a detour enters no avoided node, walks real edges in order, and reports its own length and time', () => {
    const r = graph.shortestPathAvoiding('a', 'c', new Set(['b']), 1)!;
    expect(r.nodes).toEqual(['a', 'd', 'e', 'f', 'c']);
    expect(r.steps.map((s) => [s.from, s.to])).toEqual([['a', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'c']]);
    const along = graph.routeAlong(r.nodes, 1)!;
    expect(r.steps).toEqual(along.steps);
    expect(r.length).toBeCloseTo(along.length, 12);
    expect(r.travelTime).toBeCloseTo(along.travelTime, 12);
    // Avoiding nothing is the plain search; avoiding the target or every way there finds nothing.
    expect(graph.shortestPathAvoiding('a', 'c', new Set(), 1)).toEqual(graph.shortestPath('a', 'c', 1));
    expect(graph.shortestPathAvoiding('a', 'c', new Set(['c']), 1)).toBeUndefined();
    expect(graph.shortestPathAvoiding('a', 'f', new Set(['b', 'd']), 1)).toBeUndefined();
  });

  it('throws on unknown nodes and finds the nearest node to a point', () => {
    expect(() => graph.shortestPath('a', 'zz')).toThrow(/unknown graph node zz/);
    expect(graph.nearestNode(1.9, 0.8).id).toBe('f');
  });
});
