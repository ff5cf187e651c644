import { describe, expect, it } from 'vitest';
import { RouteGraph } from './route-graph.js';

// A 3x2 grid: a-b-c on top, d-e-f below, with one slow edge b-c.
const graph = new RouteGraph({
  graph: {
    nodes: [
      { id: 'a', x: 0, y: 0 },
      { id: 'b', x: 1, y: 0 },
      { id: 'c', x: 2, y: 0 },
      { id: 'd', x: 0, y: 1 },
      { id: 'e', x: 1, y: 1 },
      { id: 'f', x: 2, y: 1 },
      { id: 'island', x: 9, y: 9 },
    ],
    edges: [
      { id: 'ab', from: 'a', to: 'b' },
      { id: 'bc', from: 'b', to: 'c', maxSpeed: 0.1 },
      { id: 'ad', from: 'a', to: 'd' },
      { id: 'de', from: 'd', to: 'e' },
      { id: 'ef', from: 'e', to: 'f' },
      { id: 'fc', from: 'f', to: 'c', bidirectional: false },
      { id: 'be', from: 'b', to: 'e' },
    ],
  },
});

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
