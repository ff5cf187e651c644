import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { angleDelta, beltDistance, craneMoveTime, DEFAULT_CRANE, PORT_POINT, retrieveTime, storeTime, trapezoidAt, trapezoidTime, trapezoidTimeTo, turnTime } from './kinematics.js';

const amr = { maxSpeed: 1.5, accel: 0.5 };

describe('trapezoid profile', () => {
  it('cruises on long moves: d/v + v/a', () => {
    expect(trapezoidTime(10, amr)).toBeCloseTo(10 / 1.5 + 1.5 / 0.5, 9);
  });

  it('never reaches top speed on short moves: 2 sqrt(d/a)', () => {
    expect(trapezoidTime(2, amr)).toBeCloseTo(2 * Math.sqrt(2 / 0.5), 9);
    expect(trapezoidTime(0, amr)).toBe(0);
  });

  it('position is monotonic, bounded by speed, and ends at the distance', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (d, f) => {
        const total = trapezoidTime(d, amr);
        const a = trapezoidAt(d, amr, total * f);
        const b = trapezoidAt(d, amr, total * Math.min(1, f + 0.01));
        expect(b.position).toBeGreaterThanOrEqual(a.position - 1e-9);
        expect(a.velocity).toBeLessThanOrEqual(amr.maxSpeed + 1e-9);
        expect(trapezoidAt(d, amr, total).position).toBeCloseTo(d, 9);
      }),
    );
  });

  it('trapezoidTimeTo inverts trapezoidAt on every phase of the move', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (d, f) => {
        const t = trapezoidTimeTo(d, amr, d * f);
        expect(t).toBeGreaterThanOrEqual(0);
        expect(t).toBeLessThanOrEqual(trapezoidTime(d, amr) + 1e-12);
        expect(trapezoidAt(d, amr, t).position).toBeCloseTo(d * f, 6);
      }),
    );
    // 10 m: 3 s ramp to 1.5 m/s covers 2.25 m; the 5 m mark is cruised through at 3 + 2.75 / 1.5 s.
    expect(trapezoidTimeTo(10, amr, 5)).toBeCloseTo(3 + 2.75 / 1.5, 9);
    expect(trapezoidTimeTo(10, amr, 10)).toBe(trapezoidTime(10, amr));
    expect(trapezoidTimeTo(10, amr, -1)).toBe(0);
  });

  it('starts a move at speed: continues from v0 without a stop, and brakes harder when it must', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 0, max: 1.5, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (d, v0, f) => {
        expect(trapezoidAt(d, amr, 0, v0).velocity).toBeCloseTo(v0, 9);
        const t = trapezoidTimeTo(d, amr, d * f, v0);
        expect(trapezoidAt(d, amr, t, v0).position).toBeCloseTo(d * f, 6);
        const total = trapezoidTime(d, amr, v0);
        expect(trapezoidAt(d, amr, total, v0)).toEqual({ position: d, velocity: 0 });
        expect(trapezoidAt(d, amr, t + 0.01, v0).position).toBeGreaterThanOrEqual(trapezoidAt(d, amr, t, v0).position - 1e-9);
      }),
    );
    // At cruise speed, 10 m more take 10 / 1.5 s of cruising plus the 3 s ramp down (4.5 s for its 2.25 m).
    expect(trapezoidTime(10, amr, 1.5)).toBeCloseTo((10 - 2.25) / 1.5 + 3, 9);
    expect(trapezoidTime(10, amr, 0)).toBe(trapezoidTime(10, amr));
    // 1.5 m/s needs 2.25 m to stop at 0.5 m/s^2; given 1 m it brakes at 1.125 m/s^2.
    expect(trapezoidTime(1, amr, 1.5)).toBeCloseTo(1.5 / 1.125, 9);
  });
});

describe('turns and belts', () => {
  it('turns the short way round at 2.5 s per revolution', () => {
    expect(turnTime(0, Math.PI / 2, 2.5)).toBeCloseTo(0.625, 9);
    expect(turnTime(Math.PI * 0.9, -Math.PI * 0.9, 2.5)).toBeCloseTo(0.25, 9);
    expect(angleDelta(3, -3)).toBeCloseTo(2 * Math.PI - 6, 9);
  });

  it('goes round a loop but not back along a line', () => {
    expect(beltDistance(26, 4, 40, 'loop')).toBe(18);
    expect(beltDistance(4, 26, 40, 'loop')).toBe(22);
    expect(() => beltDistance(26, 4, 40, 'line')).toThrow(RangeError);
  });
});

describe('AS/RS cycle times', () => {
  const crane = { ...DEFAULT_CRANE, levelHeight: 0.5 };

  it('a retrieve from 20 m, level 4 takes travel + handling + travel back + handling', () => {
    // Travel 20 m at 2 m/s, 1 m/s^2: 20/2 + 2/1 = 12 s. Lift 2 m at 3 m/s, 3 m/s^2 is a
    // triangle, 2*sqrt(2/3) = 1.63 s, done while travelling. Handling 2 s at each end.
    const location = { position: 20, level: 4 };
    expect(craneMoveTime(PORT_POINT, location, crane)).toBeCloseTo(12, 9);
    expect(retrieveTime(PORT_POINT, location, crane)).toBeCloseTo(12 + 2 + 12 + 2, 9);
  });

  it('the lift decides for high, near locations', () => {
    const location = { position: 0.5, level: 5 };
    const lift = 2 * Math.sqrt(2.5 / 3); // 2.5 m never reaches 3 m/s
    expect(craneMoveTime(PORT_POINT, location, crane)).toBeCloseTo(lift, 9);
  });

  it('a store starting away from the port first returns to it', () => {
    const from = { position: 10, level: 0 };
    const to = { position: 10, level: 0 };
    expect(storeTime(from, to, crane)).toBeCloseTo(2 * (10 / 2 + 2 / 1) + 4, 9);
  });
});
