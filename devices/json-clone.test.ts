import { describe, expect, it } from 'vitest';
import { cloneJson } from './json-clone.js';

describe('cloneJson', () => {
  it('copies JSON-shaped data deeply, as structuredClone does', () => {
    const state = {
      orderId: 'o1',
      driving: true,
      n: 0,
      missing: undefined,
      nothing: null,
      nodeStates: [{ nodeId: 'A', sequenceId: 0, released: true }],
      agvPosition: { x: 1.5, y: -2, theta: 0, mapId: 'm' },
      nested: [[1, 2], [{ a: 'b' }]],
    };
    const copy = cloneJson(state);
    expect(copy).toEqual(structuredClone(state));
    expect('missing' in copy).toBe(true);
    copy.nodeStates[0]!.released = false;
    copy.agvPosition.x = 99;
    (copy.nested[1] as { a: string }[])[0]!.a = 'changed';
    expect(state.nodeStates[0]!.released).toBe(true);
    expect(state.agvPosition.x).toBe(1.5);
    expect((state.nested[1] as { a: string }[])[0]!.a).toBe('b');
  });

  it('returns primitives as they are', () => {
    expect(cloneJson(3)).toBe(3);
    expect(cloneJson('x')).toBe('x');
    expect(cloneJson(null)).toBe(null);
    expect(cloneJson(undefined)).toBe(undefined);
  });
});
