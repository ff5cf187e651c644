import { describe, expect, it } from 'vitest';
import { distanceKm, MS_PER_DAY, nextDailyTime, parseClock } from './geo.js';

const DORTMUND = { lat: 51.51, lon: 7.47 };
const MUNICH = { lat: 48.14, lon: 11.58 };
const FOUR_PM = 16 * 60;

describe('distanceKm', () => {
  it('Dortmund to Munich is about 480 km as the crow flies', () => {
    expect(Math.abs(distanceKm(DORTMUND, MUNICH) - 480)).toBeLessThanOrEqual(5);
  });

  it('is symmetric and zero for the same point', () => {
    expect(distanceKm(MUNICH, DORTMUND)).toBe(distanceKm(DORTMUND, MUNICH));
    expect(distanceKm(DORTMUND, DORTMUND)).toBe(0);
  });

  it('stays finite for antipodal points (half the circumference)', () => {
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371, 6);
  });
});

describe('parseClock', () => {
  it('reads 24-hour HH:MM as minutes after midnight', () => {
    expect(parseClock('00:00')).toBe(0);
    expect(parseClock('16:00')).toBe(960);
    expect(parseClock('23:59')).toBe(1439);
  });

  it('refuses anything else', () => {
    for (const bad of ['24:00', '7:00', '16:60', '16.00', '', '16:00 ']) expect(() => parseClock(bad)).toThrow(RangeError);
  });
});

describe('nextDailyTime', () => {
  const mar10 = (h: number, m = 0, s = 0, ms = 0) => Date.UTC(2025, 2, 10, h, m, s, ms);

  it('leaves the same day up to and including the cut-off, else the next day', () => {
    expect(nextDailyTime(mar10(10), FOUR_PM, 0)).toBe(mar10(16));
    expect(nextDailyTime(mar10(16), FOUR_PM, 0)).toBe(mar10(16));
    expect(nextDailyTime(mar10(16, 0, 0, 1), FOUR_PM, 0)).toBe(mar10(16) + MS_PER_DAY);
  });

  it('rolls across midnight', () => {
    expect(nextDailyTime(mar10(23, 30), FOUR_PM, 0)).toBe(Date.UTC(2025, 2, 11, 16));
    // A cut-off just after midnight is 45 minutes away at 23:45.
    expect(nextDailyTime(mar10(23, 45), 30, 0)).toBe(Date.UTC(2025, 2, 11, 0, 30));
  });

  it('reads the cut-off in local time: UTC+1 leaves at 15:00 UTC', () => {
    expect(nextDailyTime(mar10(14, 30), FOUR_PM, 60)).toBe(mar10(15));
    expect(nextDailyTime(mar10(15, 30), FOUR_PM, 60)).toBe(Date.UTC(2025, 2, 11, 15));
  });

  it('uses the local date when it differs from the UTC date', () => {
    // 23:00 UTC is already 01:00 on the 11th at UTC+2: that local day's 16:00 is 14:00 UTC on the 11th.
    expect(nextDailyTime(mar10(23), FOUR_PM, 120)).toBe(Date.UTC(2025, 2, 11, 14));
    // 03:00 UTC on the 11th is still 22:00 on the 10th at UTC-5: the 16:00 of the 11th is 21:00 UTC.
    expect(nextDailyTime(Date.UTC(2025, 2, 11, 3), FOUR_PM, -300)).toBe(Date.UTC(2025, 2, 11, 21));
    expect(nextDailyTime(mar10(20), FOUR_PM, -300)).toBe(mar10(21));
  });
});
