/**
 * Test fixture shared by the route-planning tests: a 3x2 grid, a-b-c on top and d-e-f below,
 * with one slow edge (b-c), one one-way edge (f->c) and a node no edge reaches.
 */
export const SMALL_GRAPH_LAYOUT = {
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
};
