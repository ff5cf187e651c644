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

  it('throws on unknown nodes and finds the nearest node to a point', () => {
    expect(() => graph.shortestPath('a', 'zz')).toThrow(/unknown graph node zz/);
    expect(graph.nearestNode(1.9, 0.8).id).toBe('f');
  });
});
