import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { lognormal } from './distributions.js';
import { FaultState, faultSchedule, scheduleFaults, type Fault, type FaultKind, type FaultRates, type Faultable } from './faults.js';
import { createRng } from './random.js';
import { UtilizationMeter, utilizationBetween } from './utilization.js';

const HOUR = 3_600_000;
const rates: FaultRates = { breakdown: { mtbfHours: 4, meanMinutes: 10 }, slowdown: { mtbfHours: 2, meanMinutes: 5, factor: 0.6 } };

describe('seeded fault schedules', () => {
  it('the same seed gives the same faults to the millisecond; another seed does not', () => {
    const a = faultSchedule(createRng(7).fork('amr-01'), rates, 0, 100 * HOUR);
    const b = faultSchedule(createRng(7).fork('amr-01'), rates, 0, 100 * HOUR);
    const c = faultSchedule(createRng(8).fork('amr-01'), rates, 0, 100 * HOUR);
    expect(a.length).toBeGreaterThan(20);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('a kind has its own stream: adding slowdowns does not move the breakdowns', () => {
    const only = faultSchedule(createRng(3), { breakdown: rates.breakdown! }, 0, 50 * HOUR);
    const both = faultSchedule(createRng(3), rates, 0, 50 * HOUR).filter((f) => f.kind === 'breakdown');
    expect(both).toEqual(only);
  });

  it('gaps average the MTBF and durations the mean (1000 h, fixed seed)', () => {
    const events = faultSchedule(createRng(11), { breakdown: { mtbfHours: 2, meanMinutes: 6 } }, 0, 1000 * HOUR);
    const mtbf = (1000 * HOUR - events.reduce((s, e) => s + e.durationMs, 0)) / events.length / HOUR;
    const meanMin = events.reduce((s, e) => s + e.durationMs, 0) / events.length / 60_000;
    expect(mtbf).toBeGreaterThan(1.8);
    expect(mtbf).toBeLessThan(2.2);
    expect(meanMin).toBeGreaterThan(5.4);
    expect(meanMin).toBeLessThan(6.6);
    // A kind never overlaps itself.
    for (let i = 1; i < events.length; i++) expect((events[i] as (typeof events)[number]).at).toBeGreaterThanOrEqual((events[i - 1] as (typeof events)[number]).at + (events[i - 1] as (typeof events)[number]).durationMs);
  });

  it('scheduleFaults injects exactly the faults faultSchedule lists, on the clock', () => {
    const clock = new ManualClock(0);
    const seen: (Fault & { at: number })[] = [];
    const device: Faultable = { faultKinds: ['breakdown', 'slowdown'], activeFaults: [], injectFault: (f) => seen.push({ ...f, at: clock.now() }) };
    const stop = scheduleFaults(clock, createRng(5), rates, device);
    clock.advance(30 * HOUR);
    stop();
    clock.advance(30 * HOUR);
    expect(seen).toEqual(faultSchedule(createRng(5), rates, 0, 30 * HOUR));
  });

  it('rejects nonsense rates', () => {
    expect(() => faultSchedule(createRng(1), { breakdown: { mtbfHours: 0, meanMinutes: 1 } }, 0, HOUR)).toThrow(RangeError);
    expect(() => faultSchedule(createRng(1), { slowdown: { mtbfHours: 1, meanMinutes: 1, factor: 2 } }, 0, HOUR)).toThrow(RangeError);
  });

  it('FaultState ends a fault after its duration, or early when cleared', () => {
    const clock = new ManualClock(0);
    const state = new FaultState(clock, ['breakdown', 'jam', 'slowdown'] satisfies FaultKind[]);
    const log: string[] = [];
    state.onChange((k, started) => log.push(`${started ? '+' : '-'}${k}@${clock.now()}`));
    state.inject({ kind: 'breakdown', durationMs: 5000 });
    state.inject({ kind: 'slowdown', durationMs: 10_000, factor: 0.5 });
    state.inject({ kind: 'disconnect', durationMs: 1000 }); // not this device's kind: ignored
    expect(state.stopped).toBe(true);
    expect(state.speedFactor).toBe(0.5);
    clock.advance(6000);
    state.inject({ kind: 'jam', durationMs: Infinity });
    clock.advance(60_000);
    state.end('jam');
    expect(log).toEqual(['+breakdown@0', '+slowdown@0', '-breakdown@5000', '+jam@6000', '-slowdown@10000', '-jam@66000']);
    expect(state.counts).toMatchObject({ breakdown: 1, slowdown: 1, jam: 1, disconnect: 0 });
  });
});

describe('distributions and utilization', () => {
  it('lognormal has the requested mean and spread (fixed seed, 20000 draws)', () => {
    const rng = createRng(42);
    const xs = Array.from({ length: 20_000 }, () => lognormal(rng, 10, 0.3));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeGreaterThan(9.8);
    expect(mean).toBeLessThan(10.2);
    expect(sd / mean).toBeGreaterThan(0.27);
    expect(sd / mean).toBeLessThan(0.33);
    expect(Math.min(...xs)).toBeGreaterThan(0);
    expect(lognormal(rng, 5, 0)).toBe(5);
  });

  it('the meter books time to the state it was in, and snapshots subtract', () => {
    const clock = new ManualClock(1000);
    const m = new UtilizationMeter(clock);
    clock.advance(500);
    m.set('busy');
    clock.advance(2000);
    const warm = m.snapshot();
    m.set('blocked');
    clock.advance(300);
    m.set('charging');
    clock.advance(700);
    m.set('fault');
    clock.advance(100);
    expect(m.snapshot()).toEqual({ idleMs: 500, busyMs: 2000, blockedMs: 300, chargingMs: 700, faultMs: 100 });
    expect(utilizationBetween(warm, m.snapshot())).toEqual({ idleMs: 0, busyMs: 0, blockedMs: 300, chargingMs: 700, faultMs: 100 });
  });
});
