import { describe, expect, it } from 'vitest';
import { Belt, type BeltSpec, type Tote } from './belt.js';

/** Runs the belt's own events until `until` (belt seconds); returns delivery times by load id. */
function simulate(belt: Belt, until: number, deliver: (t: Tote, bt: number) => boolean = () => true, arrivals: { at: number; add: () => void }[] = []): Map<string, number> {
  const done = new Map<string, number>();
  const pending = [...arrivals].sort((a, b) => a.at - b.at);
  let bt = 0;
  for (let guard = 0; guard < 100_000; guard++) {
    while (pending.length > 0 && (pending[0]?.at ?? Infinity) <= bt + 1e-9) pending.shift()?.add();
    for (const t of belt.step(bt, (x) => deliver(x, bt))) done.set(t.loadId, bt);
    const next = Math.min(belt.nextEvent(bt) ?? Infinity, pending[0]?.at ?? Infinity);
    if (next === Infinity || next > until) break;
    bt = next;
  }
  return done;
}

const line = (length: number, stops: { id: string; at: number }[], extra: Partial<BeltSpec> = {}): Belt => new Belt({ kind: 'line', length, speed: 1, stops, ...extra });

describe('conveyor belt physics', () => {
  it('carries a tote at belt speed: 10 m at 1 m/s is 10 s, through every zone without a stop', () => {
    const belt = line(10, [
      { id: 'A', at: 0 },
      { id: 'M', at: 4 },
      { id: 'B', at: 10 },
    ]);
    belt.add('t1', 'A', 'B');
    expect(simulate(belt, 100).get('t1')).toBeCloseTo(10, 9);
  });

  it('accumulates: a 10 m zone at 1 m pitch holds 10 totes, the rest wait upstream', () => {
    const belt = line(10, [
      { id: 'A', at: 0 },
      { id: 'B', at: 10 },
    ]);
    for (let i = 0; i < 12; i++) belt.add(`t${i}`, 'A', 'B');
    // The destination refuses everything (a full station).
    const done = simulate(belt, 30, () => false);
    expect(done.size).toBe(0);
    expect(belt.totesOnBelt).toBe(10);
    expect(belt.queuedCount).toBe(2);
  });

  it('releases accumulated totes one pitch apart after the block clears', () => {
    const belt = line(5, [
      { id: 'A', at: 0 },
      { id: 'B', at: 5 },
    ]);
    for (let i = 0; i < 5; i++) belt.add(`t${i}`, 'A', 'B');
    let bt = 0;
    const deliveredAt: number[] = [];
    const blockedUntil = 20;
    for (let guard = 0; guard < 1000 && deliveredAt.length < 5; guard++) {
      for (const _ of belt.step(bt, () => bt >= blockedUntil)) deliveredAt.push(bt);
      const next = belt.nextEvent(bt) ?? Infinity;
      // Nothing happens by itself while blocked; the unblocking is the event at 20 s.
      bt = bt < blockedUntil ? Math.min(next, blockedUntil) : next;
    }
    // Infeeds one pitch apart: 0..4 s; the head waits at 5 m from 5 s; all stand by 20 s.
    expect(deliveredAt[0]).toBeCloseTo(20, 9);
    const gaps = deliveredAt.slice(1).map((t, i) => t - (deliveredAt[i] as number));
    for (const g of gaps) expect(g).toBeCloseTo(1, 9);
  });

  it('merges only into a free gap: belt traffic first, then the gap behind it', () => {
    const belt = line(20, [
      { id: 'S', at: 0 },
      { id: 'M', at: 10 },
      { id: 'E', at: 20 },
    ]);
    belt.add('through', 'S', 'E');
    // At 9.5 s the through tote is 0.5 m from the junction: less than the 1 m gap ahead. It
    // passes at 10 s; the merging tote needs 1 m behind it too, so it enters at 11 s.
    const done = simulate(belt, 100, () => true, [{ at: 9.5, add: () => belt.add('merging', 'M', 'E') }]);
    expect(done.get('through')).toBeCloseTo(20, 9);
    expect(done.get('merging')).toBeCloseTo(21, 9);
  });

  it('enters at once when the gap is free', () => {
    const belt = line(20, [
      { id: 'S', at: 0 },
      { id: 'M', at: 10 },
      { id: 'E', at: 20 },
    ]);
    belt.add('through', 'S', 'E');
    const done = simulate(belt, 100, () => true, [{ at: 5, add: () => belt.add('merging', 'M', 'E') }]);
    expect(done.get('merging')).toBeCloseTo(15, 9);
    // The through tote had to keep its pitch behind the merged one: no effect, it was 5 m back.
    expect(done.get('through')).toBeCloseTo(20, 9);
  });

  it('diverts a tote onto its spur, and sends it round the loop when the spur is full', () => {
    const belt = new Belt({
      kind: 'loop',
      length: 20,
      speed: 1,
      stops: [
        { id: 'P', at: 0 },
        { id: 'D', at: 10 },
      ],
      branches: [{ id: 'D-in', kind: 'divert', stop: 'D', at: 9, length: 1, capacity: 1 }],
    });
    belt.add('first', 'P', 'D');
    // The station takes nothing before 40 s: the first tote waits on the spur, filling it.
    const done = simulate(belt, 5, () => false, [{ at: 3, add: () => belt.add('second', 'P', 'D') }]);
    expect(done.size).toBe(0);
    const later = simulate(belt, 15, () => false);
    expect(later.size).toBe(0);
    expect(belt.recirculations).toBeGreaterThanOrEqual(1);
  });

  it('spur travel adds the spur length: divert at 9 m plus a 1 m spur is 10 s', () => {
    const belt = new Belt({
      kind: 'loop',
      length: 20,
      speed: 1,
      stops: [
        { id: 'P', at: 0 },
        { id: 'D', at: 10 },
      ],
      branches: [
        { id: 'D-in', kind: 'divert', stop: 'D', at: 9, length: 1 },
        { id: 'P-out', kind: 'merge', stop: 'P', at: 1, length: 2, mergeGap: 1.5 },
      ],
    });
    belt.add('t', 'P', 'D');
    // 2 m merge spur, then 1 m -> 9 m on the loop (8 m), then the 1 m divert spur: 11 s.
    expect(simulate(belt, 100).get('t')).toBeCloseTo(11, 9);
  });

  it('a loop never takes its last free position (a full loop would gridlock)', () => {
    const belt = new Belt({
      kind: 'loop',
      length: 4,
      speed: 1,
      stops: [
        { id: 'A', at: 0 },
        { id: 'B', at: 2 },
      ],
    });
    for (let i = 0; i < 6; i++) belt.add(`t${i}`, 'A', 'B');
    simulate(belt, 50, () => false);
    expect(belt.mainCapacity).toBe(4);
    expect(belt.totesOnBelt).toBe(3);
  });

  it('refuses what a belt cannot do', () => {
    const belt = line(10, [
      { id: 'A', at: 0 },
      { id: 'B', at: 10 },
    ]);
    expect(belt.problem('B', 'A')).toMatch(/cannot carry/);
    expect(belt.problem('A', 'A')).toMatch(/same stop/);
    expect(belt.problem('A', 'Z')).toMatch(/unknown stop Z/);
  });
  describe('blocked stops and re-routing', () => {
    const loop = (): Belt =>
      new Belt({
        kind: 'loop',
        length: 20,
        speed: 1,
        stops: [
          { id: 'P', at: 0 },
          { id: 'S1', at: 5 },
          { id: 'S2', at: 10 },
        ],
        branches: [{ id: 'S1-in', kind: 'divert', stop: 'S1', at: 4, length: 1 }],
      });

    it('a loop sends totes for a blocked stop round again, and delivers once it is unblocked', () => {
      const belt = loop();
      belt.setBlocked('S1', true);
      belt.add('t', 'P', 'S1');
      // Blocked for 30 s: the tote passes its junction at 4 s and 24 s, then is taken at 45 s.
      const done = simulate(belt, 100, () => true, [{ at: 30, add: () => belt.setBlocked('S1', false) }]);
      expect(done.get('t')).toBeCloseTo(45, 9);
      expect(belt.recirculations).toBe(2);
      expect(belt.isBlocked('S1')).toBe(false);
    });

    it('re-routes a tote still on the main belt to another stop', () => {
      const belt = loop();
      belt.setBlocked('S1', true);
      const tote = belt.add('t', 'P', 'S1');
      let refusal: string | undefined = 'not asked';
      const done = simulate(belt, 100, () => true, [{ at: 6, add: () => (refusal = belt.retarget(tote, 'S2')) }]);
      expect(refusal).toBeUndefined();
      expect(tote.to).toBe('S2');
      expect(done.get('t')).toBeCloseTo(10, 9);
    });

    it('cannot re-route a tote already in its divert spur, nor one past the stop on a line', () => {
      const belt = loop();
      const tote = belt.add('t', 'P', 'S1');
      let refusal: string | undefined;
      simulate(belt, 4.5, () => false, [{ at: 4.5, add: () => (refusal = belt.retarget(tote, 'S2')) }]);
      expect(refusal).toMatch(/already in the spur to S1/);

      const straight = line(10, [
        { id: 'A', at: 0 },
        { id: 'B', at: 3 },
        { id: 'C', at: 10 },
      ]);
      const passed = straight.add('u', 'A', 'C');
      let late: string | undefined;
      simulate(straight, 5, () => true, [{ at: 5, add: () => (late = straight.retarget(passed, 'B')) }]);
      expect(late).toMatch(/u is past B/);
      expect(straight.retarget(passed, 'Z')).toMatch(/unknown stop Z/);
    });
  });
});
