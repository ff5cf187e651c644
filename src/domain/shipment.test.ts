import { describe, expect, it } from 'vitest';
import { confirmationVerdict, departureAt, nextDeadline, packDurationMs, DEFAULT_PACK_TIMING } from './shipment.js';
import type { SiteProfile } from './sourcing.js';

const site: SiteProfile = {
  id: 'dortmund',
  name: 'Dortmund',
  lat: 51.5,
  lon: 7.5,
  utcOffsetMinutes: 60,
  handlingCostPerUnit: 1,
  capacityPerHour: 1000,
  replenishmentDays: 7,
  co2GramsPerKm: { road: 110 },
  carriers: [
    { id: 'road', mode: 'road', cutoff: '16:00', costPerShipment: 4, costPerKm: 0.002, kmPerDay: 600, minTransitDays: 1 },
    { id: 'express', mode: 'air', cutoff: '11:30', costPerShipment: 12, costPerKm: 0.01, kmPerDay: 2000, minTransitDays: 0 },
  ],
};

describe('packDurationMs', () => {
  it('is the base plus a time per unit', () => {
    expect(packDurationMs(3, DEFAULT_PACK_TIMING)).toBe(90_000);
    expect(packDurationMs(0, { baseSeconds: 0.5, secondsPerUnit: 0.25 })).toBe(500);
    expect(packDurationMs(4, { baseSeconds: 0.5, secondsPerUnit: 0.25 })).toBe(1500);
  });
});

describe('departureAt', () => {
  it("is the carrier's next cut-off in site local time, today if packed before it, else tomorrow", () => {
    // 14:00 UTC = 15:00 local: the 16:00 road cut-off is an hour away.
    expect(departureAt(Date.parse('2026-11-27T14:00:00Z'), site, 'road')).toBe(Date.parse('2026-11-27T15:00:00Z'));
    // 12:00 UTC = 13:00 local: express (11:30 local) has left; the next one is tomorrow.
    expect(departureAt(Date.parse('2026-11-27T12:00:00Z'), site, 'express')).toBe(Date.parse('2026-11-28T10:30:00Z'));
  });

  it("takes the site's first carrier when sourcing named none, and knows nothing of unknown sites or carriers", () => {
    expect(departureAt(Date.parse('2026-11-27T14:00:00Z'), site, undefined)).toBe(Date.parse('2026-11-27T15:00:00Z'));
    expect(departureAt(0, undefined, 'road')).toBeUndefined();
    expect(departureAt(0, site, 'pigeon')).toBeUndefined();
  });
});

describe('confirmationVerdict', () => {
  it('ships a packed parcel, repeats for one already gone, refuses while packing or canceled', () => {
    expect(confirmationVerdict('PACKED', 'ship')).toEqual({ verdict: 'apply' });
    expect(confirmationVerdict('SHIPPED', 'ship')).toEqual({ verdict: 'repeat' });
    expect(confirmationVerdict('DELIVERED', 'ship')).toEqual({ verdict: 'repeat' });
    expect(confirmationVerdict('PACKING', 'ship')).toMatchObject({ verdict: 'refuse' });
    expect(confirmationVerdict('CANCELED', 'ship')).toMatchObject({ verdict: 'refuse' });
  });

  it('delivers a shipped parcel, repeats for one delivered, refuses one that has not left', () => {
    expect(confirmationVerdict('SHIPPED', 'deliver')).toEqual({ verdict: 'apply' });
    expect(confirmationVerdict('DELIVERED', 'deliver')).toEqual({ verdict: 'repeat' });
    for (const s of ['PACKING', 'PACKED', 'CANCELED'] as const) expect(confirmationVerdict(s, 'deliver')).toMatchObject({ verdict: 'refuse' });
  });
});

describe('nextDeadline', () => {
  it('is the pack deadline while packing, the cut-off once packed, nothing after', () => {
    expect(nextDeadline({ status: 'PACKING', packDueAt: 5, shipDueAt: undefined })).toBe(5);
    expect(nextDeadline({ status: 'PACKED', packDueAt: 5, shipDueAt: 9 })).toBe(9);
    expect(nextDeadline({ status: 'SHIPPED', packDueAt: 5, shipDueAt: 9 })).toBeUndefined();
  });
});
