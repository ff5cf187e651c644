import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideSourcing,
  distanceKm,
  nextDeparture,
  SOURCING_LIMITS,
  transitDays,
  type CarrierProfile,
  type SiteProfile,
  type SourcingDecision,
  type SourcingLine,
  type SourcingRequest,
  type SourcingWeights,
} from './sourcing.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 10:00 in Germany (UTC+1 in March): well before the 16:00 cut-off. */
const NOW = Date.UTC(2025, 2, 10, 9, 0);
/** 16:00 CET on day `d` of March 2025, as ms epoch. */
const cutoffOn = (d: number) => Date.UTC(2025, 2, d, 15, 0);

const ROAD: CarrierProfile = { id: 'road', mode: 'road', cutoff: '16:00', costPerShipment: 6, costPerKm: 0.01, kmPerDay: 500, minTransitDays: 1 };

function site(id: string, name: string, lat: number, lon: number, over: Partial<SiteProfile>): SiteProfile {
  return {
    id,
    name,
    lat,
    lon,
    utcOffsetMinutes: 60,
    handlingCostPerUnit: 1,
    capacityPerHour: 200,
    replenishmentDays: 3,
    co2GramsPerKm: { road: 900 },
    carriers: [ROAD],
    countries: ['DE', 'AT'],
    ...over,
  };
}

// Handling gets cheaper the further south-east the site: Munich, the farthest from the Rhine-Ruhr
// customers, is the cheapest to pick at.
const DORTMUND = site('dortmund', 'Dortmund', 51.51, 7.47, { handlingCostPerUnit: 1.2, replenishmentDays: 3 });
const HAMBURG = site('hamburg', 'Hamburg', 53.55, 9.99, { handlingCostPerUnit: 0.9, replenishmentDays: 5 });
const MUNICH = site('munich', 'Munich', 48.14, 11.58, { handlingCostPerUnit: 0.5, replenishmentDays: 2 });
const NETWORK = [DORTMUND, HAMBURG, MUNICH];

const COLOGNE = { lat: 50.94, lon: 6.96 };
const BERLIN = { lat: 52.52, lon: 13.4 };

const BY_DISTANCE: SourcingWeights = { cost: 0, distance: 1, time: 0, co2: 0 };
const BY_COST: SourcingWeights = { cost: 1, distance: 0, time: 0, co2: 0 };
const BY_TIME: SourcingWeights = { cost: 0, distance: 0, time: 1, co2: 0 };
const BY_CO2: SourcingWeights = { cost: 0, distance: 0, time: 0, co2: 1 };

/** site id -> SKU -> units the largest position holds; a missing SKU is not carried. */
type Stock = Record<string, Record<string, number>>;

interface Scenario extends Partial<Omit<SourcingRequest, 'fillable' | 'backlogUnits'>> {
  stock: Stock;
  backlog?: Record<string, number>;
}

function request({ stock, backlog = {}, ...over }: Scenario): SourcingRequest {
  return {
    now: NOW,
    destination: COLOGNE,
    country: 'DE',
    lines: [],
    sites: NETWORK,
    fillable: (s, sku) => stock[s]?.[sku],
    backlogUnits: (s) => backlog[s] ?? 0,
    weights: BY_DISTANCE,
    minShipmentValue: 25,
    defaultDistanceKm: 300,
    ...over,
  };
}

const line = (lineId: string, sku: string, quantity: number, unitPrice: number): SourcingLine => ({ lineId, sku, quantity, unitPrice });

/** Which site each line went to, e.g. { L1: 'munich' }; backordered lines as 'site (backorder)'. */
function placement(d: SourcingDecision): Record<string, string> {
  return Object.fromEntries(
    d.lines.map((l) => [l.lineId, l.outcome === 'sourced' ? l.site : l.outcome === 'backordered' ? `${l.site} (backorder)` : 'unroutable']),
  );
}

describe('helpers', () => {
  it('Dortmund to Munich is about 480 km', () => {
    expect(Math.abs(distanceKm(DORTMUND, MUNICH) - 480)).toBeLessThanOrEqual(5);
  });

  it('nextDeparture reads the cut-off in the site local time, inclusive', () => {
    expect(nextDeparture(Date.UTC(2025, 2, 10, 14, 59), DORTMUND, ROAD)).toBe(cutoffOn(10));
    expect(nextDeparture(cutoffOn(10), DORTMUND, ROAD)).toBe(cutoffOn(10));
    expect(nextDeparture(cutoffOn(10) + 1, DORTMUND, ROAD)).toBe(cutoffOn(11));
    // 23:30 local is past today's departure; the next is tomorrow 16:00.
    expect(nextDeparture(Date.UTC(2025, 2, 10, 22, 30), DORTMUND, ROAD)).toBe(cutoffOn(11));
  });

  it('transitDays rounds partial days up and never goes under the carrier minimum', () => {
    expect(transitDays(72.7, ROAD)).toBe(1);
    expect(transitDays(500, ROAD)).toBe(1);
    expect(transitDays(503.8, ROAD)).toBe(2);
    expect(transitDays(0, ROAD)).toBe(1);
    expect(transitDays(120, { ...ROAD, minTransitDays: 2 })).toBe(2);
  });
});

describe('single site', () => {
  const kettle = [line('L1', 'KETTLE', 2, 39.9)];

  it('the nearest site with stock wins when the weights favour distance', () => {
    // Dortmund is nearest to Cologne but its position is empty; Hamburg (356 km) beats Munich (456 km).
    const d = decideSourcing(request({ lines: kettle, stock: { dortmund: { KETTLE: 0 }, hamburg: { KETTLE: 5 }, munich: { KETTLE: 40 } } }));
    expect(d.kind).toBe('single');
    expect(placement(d)).toEqual({ L1: 'hamburg' });
    expect(d.candidates.map((c) => c.shipments[0]?.site)).toEqual(['hamburg', 'munich']);
    expect(d.candidates.map((c) => c.scores)).toEqual([
      { cost: 0, distance: 0, time: 0, co2: 0, total: 0 },
      { cost: 1, distance: 1, time: 0, co2: 1, total: 1 },
    ]);
    expect(d.chosen?.shipments[0]?.distanceKm).toBe(356);
    expect(d.compared).toBe(2);
    expect(d.rule).toBe('single: hamburg can fill every fillable line (1); best of 2 single-site candidates');
    expect(d.distanceKnown).toBe(true);
  });

  it('the cheapest site wins when the weights favour cost, the nearest when they favour distance', () => {
    const stock = { dortmund: { KETTLE: 200 }, hamburg: { KETTLE: 200 }, munich: { KETTLE: 200 } };
    const bulk = [line('L1', 'KETTLE', 100, 12)];
    const cheapest = decideSourcing(request({ lines: bulk, stock, weights: BY_COST }));
    expect(placement(cheapest)).toEqual({ L1: 'munich' });
    // 100 units x 0.50 + 6.00 per shipment + 456 km x 0.01.
    expect(cheapest.chosen?.totals.cost).toBe(60.56);
    expect(cheapest.candidates.map((c) => c.totals.cost)).toEqual([60.56, 99.56, 126.73]);
    expect(placement(decideSourcing(request({ lines: bulk, stock, weights: BY_DISTANCE })))).toEqual({ L1: 'dortmund' });
  });

  it('a site that can fill every line beats any split, even a nearer one', () => {
    // Dortmund (73 km) + Hamburg (356 km) would be 429 km in total, under Munich's 456 km.
    const d = decideSourcing(
      request({
        lines: [line('L1', 'KETTLE', 1, 39.9), line('L2', 'TOASTER', 1, 49.9)],
        stock: { dortmund: { KETTLE: 4, TOASTER: 0 }, hamburg: { TOASTER: 9 }, munich: { KETTLE: 3, TOASTER: 2 } },
      }),
    );
    expect(d.kind).toBe('single');
    expect(placement(d)).toEqual({ L1: 'munich', L2: 'munich' });
    expect(d.candidates).toHaveLength(1);
    expect(d.chosen?.shipments).toHaveLength(1);
    expect(d.chosen?.shipments[0]).toMatchObject({ site: 'munich', lineIds: ['L1', 'L2'], units: 2, value: 89.8, backorder: false });
  });

  it('a line is only fillable where ONE position holds all of it', () => {
    // Dortmund holds 4 in its largest position: not enough for 5, even if it has more spread around.
    const d = decideSourcing(request({ lines: [line('L1', 'KETTLE', 5, 39.9)], stock: { dortmund: { KETTLE: 4 }, munich: { KETTLE: 5 } } }));
    expect(placement(d)).toEqual({ L1: 'munich' });
  });

  it('with no destination every site is at the default distance, so distance cannot decide', () => {
    const stock = { dortmund: { KETTLE: 9 }, hamburg: { KETTLE: 9 }, munich: { KETTLE: 9 } };
    const blind = decideSourcing(request({ destination: undefined, lines: kettle, stock }));
    expect(blind.distanceKnown).toBe(false);
    expect(blind.candidates.map((c) => c.totals.distanceKm)).toEqual([300, 300, 300]);
    expect(blind.candidates.every((c) => c.scores.total === 0)).toBe(true);
    // All equal: the tie goes to the lexically first site id.
    expect(placement(blind)).toEqual({ L1: 'dortmund' });
    expect(placement(decideSourcing(request({ destination: undefined, lines: kettle, stock, weights: BY_COST })))).toEqual({ L1: 'munich' });
  });

  it('only sites shipping to the country take part', () => {
    const alpine = [DORTMUND, { ...HAMBURG, countries: undefined }, { ...MUNICH, countries: ['DE'] }];
    const stock = { dortmund: { KETTLE: 9 }, hamburg: { KETTLE: 9 }, munich: { KETTLE: 9 } };
    // Innsbruck: Munich is 100 km away but only ships within Germany; Hamburg ships everywhere.
    const d = decideSourcing(request({ sites: alpine, country: 'CH', destination: { lat: 47.26, lon: 11.39 }, lines: kettle, stock }));
    expect(placement(d)).toEqual({ L1: 'hamburg' });
    expect(d.candidates).toHaveLength(1);
  });
});

describe('splits', () => {
  it('splits only when no site can fill every line, nearest assignment first', () => {
    const d = decideSourcing(
      request({
        destination: BERLIN,
        lines: [line('L1', 'KETTLE', 2, 30), line('L2', 'TOASTER', 1, 40)],
        stock: { dortmund: { KETTLE: 5 }, hamburg: { TOASTER: 3 }, munich: { KETTLE: 8, TOASTER: 0 } },
      }),
    );
    expect(d.kind).toBe('split');
    expect(placement(d)).toEqual({ L1: 'dortmund', L2: 'hamburg' });
    expect(d.compared).toBe(2);
    expect(d.rule).toBe('split: no site can fill every fillable line (2); best of 2 assignments');
    // Both ready within minutes, both leave at today's 16:00 and need a day to Berlin.
    expect(d.chosen?.shipments.map((s) => [s.site, s.shipsAt, s.deliverBy])).toEqual([
      ['dortmund', cutoffOn(10), cutoffOn(11)],
      ['hamburg', cutoffOn(10), cutoffOn(11)],
    ]);
    expect(d.lines).toEqual([
      { lineId: 'L1', outcome: 'sourced', site: 'dortmund', promiseDate: cutoffOn(11) },
      { lineId: 'L2', outcome: 'sourced', site: 'hamburg', promiseDate: cutoffOn(11) },
    ]);
    expect(d.chosen?.totals.distanceKm).toBe(676);
  });

  it('rejects a split with a shipment under the minimum value, even when it would arrive first', () => {
    // Hamburg is ten hours of work behind, so anything shipping from there misses today's truck.
    // The only split that avoids Hamburg sends the 10.00 charger on its own from Munich.
    const d = decideSourcing(
      request({
        weights: BY_TIME,
        backlog: { hamburg: 2_000 },
        lines: [line('A', 'KETTLE', 2, 100), line('B', 'CHARGER', 1, 10), line('C', 'TOASTER', 2, 50)],
        stock: { dortmund: { KETTLE: 5, TOASTER: 5 }, hamburg: { KETTLE: 5, CHARGER: 5 }, munich: { CHARGER: 5 } },
      }),
    );
    expect(d.kind).toBe('split');
    expect(d.compared).toBe(4);
    const fastest = d.candidates.find((c) => c.shipments.some((s) => s.site === 'munich') && c.shipments.every((s) => s.site !== 'hamburg'));
    expect(fastest?.rejected).toBe('shipment from munich worth 10.00 is below the minimum 25.00');
    expect(fastest?.totals.deliverBy).toBe(cutoffOn(11));
    expect(placement(d)).toEqual({ A: 'hamburg', B: 'hamburg', C: 'dortmund' });
    expect(d.chosen?.rejected).toBeUndefined();
    expect(d.chosen?.totals.deliverBy).toBe(cutoffOn(12));
    expect(d.chosen?.shipments.map((s) => [s.site, s.value])).toEqual([
      ['dortmund', 100],
      ['hamburg', 210],
    ]);
    expect(d.candidates.filter((c) => c.rejected !== undefined)).toHaveLength(3);
    expect(d.candidates.slice(1).every((c) => c.rejected !== undefined)).toBe(true);
    expect(d.rule).toBe('split: no site can fill every fillable line (3); best of 4 assignments (3 rejected below the minimum 25.00)');
  });

  it('when every split is too small, one site ships what it can and holds the rest for its replenishment', () => {
    // The only split sends the 10.00 charger alone from Hamburg. Dortmund carries chargers (none
    // in stock), so it can keep that line back; Hamburg does not carry kettles, so it cannot.
    const d = decideSourcing(
      request({
        lines: [line('A', 'KETTLE', 2, 100), line('B', 'CHARGER', 1, 10)],
        stock: { dortmund: { KETTLE: 5, CHARGER: 0 }, hamburg: { CHARGER: 5 } },
      }),
    );
    expect(d.kind).toBe('partial');
    expect(placement(d)).toEqual({ A: 'dortmund', B: 'dortmund (backorder)' });
    const held = d.lines[1];
    expect(held).toMatchObject({ outcome: 'backordered', site: 'dortmund' });
    expect(held?.outcome === 'backordered' && held.reason).toMatch(/^held back: a separate shipment would be worth less than the minimum 25\.00/);
    // Dortmund's 3-day lead time: ready Thursday 10:00, leaves 16:00, a day to Cologne.
    expect(held?.outcome === 'backordered' && held.promiseDate).toBe(NOW + 3 * DAY + 6 * HOUR + DAY);
    expect(d.chosen?.shipments.map((s) => [s.site, s.lineIds, s.backorder])).toEqual([
      ['dortmund', ['A'], false],
      ['dortmund', ['B'], true],
    ]);
    expect(d.candidates.map((c) => c.rejected)).toEqual([
      undefined,
      'hamburg does not carry SKU KETTLE, so it cannot hold that line back',
      'shipment from hamburg worth 10.00 is below the minimum 25.00',
    ]);
    expect(d.compared).toBe(3);
    expect(d.rule).toMatch(/^consolidate: every split leaves a shipment below the minimum 25\.00/);
  });

  it('ships the too-small split anyway, marked waived, when no site can hold anything back', () => {
    const d = decideSourcing(
      request({
        lines: [line('A', 'KETTLE', 2, 100), line('B', 'CHARGER', 1, 10)],
        stock: { dortmund: { KETTLE: 5 }, hamburg: { CHARGER: 5 } },
      }),
    );
    expect(d.kind).toBe('split');
    expect(placement(d)).toEqual({ A: 'dortmund', B: 'hamburg' });
    expect(d.chosen?.rejected).toBeUndefined();
    expect(d.chosen?.waived).toBe('shipment from hamburg worth 10.00 is below the minimum 25.00; shipped anyway: no site carries the other lines to hold them back');
    expect(d.candidates[0]).toBe(d.chosen);
    expect(d.rule).toMatch(/^split below the minimum 25\.00/);
  });

  it('enumerates up to 4096 assignments and keeps the best 10 for audit', () => {
    // Twelve lines, each at exactly two sites, no site with all of them: 2^12 = 4096 assignments.
    const d = decideSourcing(triangleOrder(12));
    expect(d.compared).toBe(SOURCING_LIMITS.maxAssignments);
    expect(d.candidates).toHaveLength(SOURCING_LIMITS.keptCandidates);
    expect(d.rule).toMatch(/^split: no site can fill every fillable line \(12\); best of 4096 assignments/);
    const totals = d.candidates.map((c) => c.scores.total);
    expect(totals).toEqual([...totals].sort((a, b) => a - b));
  });

  it('past 4096 assignments a greedy split takes the site filling the most value first', () => {
    const d = decideSourcing(triangleOrder(13));
    expect(d.kind).toBe('split');
    expect(d.compared).toBe(1);
    expect(d.rule).toMatch(/^split \(greedy\): no site can fill every fillable line \(13\) and 8192 assignments exceed the cap of 4096/);
    // Dortmund and Hamburg each fill 9 lines (90.00): the tie goes to Dortmund, nearer to Cologne.
    // The 4 lines left are at Hamburg or Munich, 40.00 each: Hamburg is nearer.
    expect(d.chosen?.shipments.map((s) => [s.site, s.lineIds.length, s.value])).toEqual([
      ['dortmund', 9, 90],
      ['hamburg', 4, 40],
    ]);
  });
});

/** n lines of 10.00; line i is at two of the three sites, in rotation, so none has every line. */
function triangleOrder(n: number): SourcingRequest {
  const pairs = [
    ['dortmund', 'hamburg'],
    ['hamburg', 'munich'],
    ['dortmund', 'munich'],
  ] as const;
  const stock: Stock = { dortmund: {}, hamburg: {}, munich: {} };
  const lines = Array.from({ length: n }, (_, i) => {
    for (const s of pairs[i % 3] ?? []) (stock[s] ??= {})[`SKU${i}`] = 5;
    return line(`L${i}`, `SKU${i}`, 1, 10);
  });
  return request({ lines, stock });
}

describe('backorders and unroutable lines', () => {
  it('backorders a line no position can fill, promising replenishment + cut-off + transit', () => {
    // Munich replenishes in 2 days: ready Wednesday 10:00 local, leaves 16:00, 504 km to Berlin = 2 days.
    // Hamburg, 255 km away, waits 5 days for stock.
    const d = decideSourcing(
      request({ destination: BERLIN, weights: BY_TIME, lines: [line('L1', 'KETTLE', 10, 39.9)], stock: { hamburg: { KETTLE: 0 }, munich: { KETTLE: 9 } } }),
    );
    expect(d.kind).toBe('backorder');
    expect(d.chosen).toBeUndefined();
    expect(d.candidates).toEqual([]);
    expect(d.lines).toEqual([
      {
        lineId: 'L1',
        outcome: 'backordered',
        site: 'munich',
        promiseDate: NOW + 2 * DAY + 6 * HOUR + 2 * DAY,
        reason: 'no stock position at a site shipping to DE holds 10 × KETTLE; waits for replenishment at munich',
      },
    ]);
    expect(NOW + 2 * DAY + 6 * HOUR + 2 * DAY).toBe(Date.UTC(2025, 2, 14, 15, 0));
    expect(d.backorders).toEqual([
      expect.objectContaining({ site: 'munich', lineIds: ['L1'], backorder: true, readyAt: NOW + 2 * DAY, shipsAt: cutoffOn(12), deliverBy: cutoffOn(14) }),
    ]);
  });

  it('backorders at the replenishing site the weights prefer', () => {
    const order = { lines: [line('L1', 'KETTLE', 10, 39.9)], stock: { dortmund: { KETTLE: 3 }, munich: { KETTLE: 9 } } };
    // To Cologne: Dortmund is nearer, Munich replenishes a day sooner (2 vs 3 days, both 1 day in transit).
    expect(placement(decideSourcing(request({ ...order, weights: BY_DISTANCE })))).toEqual({ L1: 'dortmund (backorder)' });
    const soonest = decideSourcing(request({ ...order, weights: BY_TIME }));
    expect(placement(soonest)).toEqual({ L1: 'munich (backorder)' });
    expect(soonest.lines[0]).toMatchObject({ promiseDate: cutoffOn(13) });
  });

  it('a SKU no serving site carries is unroutable', () => {
    const d = decideSourcing(request({ lines: [line('L1', 'GHOST', 1, 5)], stock: { dortmund: { KETTLE: 3 } } }));
    expect(d.kind).toBe('unroutable');
    expect(d.lines).toEqual([{ lineId: 'L1', outcome: 'unroutable', reason: 'no site shipping to DE carries SKU GHOST' }]);
    expect(d.rule).toBe("unroutable: no site shipping to DE carries any of the order's SKUs");
  });

  it('every line is unroutable when no site ships to the country', () => {
    const d = decideSourcing(request({ country: 'FR', destination: { lat: 48.86, lon: 2.35 }, lines: [line('L1', 'KETTLE', 1, 39.9)], stock: { dortmund: { KETTLE: 3 } } }));
    expect(d.kind).toBe('unroutable');
    expect(d.lines).toEqual([{ lineId: 'L1', outcome: 'unroutable', reason: 'no site ships to FR, so SKU KETTLE cannot be sourced' }]);
    expect(d.rule).toBe('unroutable: no site ships to FR');
  });

  it('ships what it can next to backordered and unroutable lines: partial', () => {
    const d = decideSourcing(
      request({
        lines: [line('L1', 'KETTLE', 1, 39.9), line('L2', 'TOASTER', 4, 49.9), line('L3', 'GHOST', 1, 5)],
        stock: { dortmund: { KETTLE: 3, TOASTER: 1 } },
      }),
    );
    expect(d.kind).toBe('partial');
    expect(placement(d)).toEqual({ L1: 'dortmund', L2: 'dortmund (backorder)', L3: 'unroutable' });
    expect(d.rule).toBe('single: dortmund can fill every fillable line (1); best of 1 single-site candidate; 1 line backordered, 1 line unroutable');
    // The backordered line stays out of the compared candidate.
    expect(d.chosen?.shipments.map((s) => s.lineIds)).toEqual([['L1']]);
    expect(d.backorders.map((s) => s.lineIds)).toEqual([['L2']]);
  });
});

describe('readiness and carriers', () => {
  const twoPmLocal = Date.UTC(2025, 2, 10, 13, 0);
  const tenKettles = { now: twoPmLocal, lines: [line('L1', 'KETTLE', 10, 39.9)], stock: { dortmund: { KETTLE: 50 } } };

  it('the backlog ahead pushes readiness; past the cut-off the parcel leaves the next day', () => {
    const idle = decideSourcing(request(tenKettles)).chosen?.shipments[0];
    // 10 units at 200/h: three minutes.
    expect(idle).toMatchObject({ readyAt: twoPmLocal + 3 * 60_000, shipsAt: cutoffOn(10), deliverBy: cutoffOn(11) });
    // 390 + 10 units is exactly two hours: ready at 16:00 sharp still makes today's truck.
    const sharp = decideSourcing(request({ ...tenKettles, backlog: { dortmund: 390 } })).chosen?.shipments[0];
    expect(sharp).toMatchObject({ readyAt: cutoffOn(10), shipsAt: cutoffOn(10) });
    // Ten more units ahead and it misses it by three minutes.
    const late = decideSourcing(request({ ...tenKettles, backlog: { dortmund: 400 } })).chosen?.shipments[0];
    expect(late).toMatchObject({ readyAt: cutoffOn(10) + 3 * 60_000, shipsAt: cutoffOn(11), deliverBy: cutoffOn(12) });
  });

  it('cut-offs follow the site offset, across midnight', () => {
    // A site at UTC+9 (Tokyo) with a 16:00 cut-off: at 10:00 UTC it is already 19:00 there.
    const tokyo = site('tokyo', 'Tokyo', 35.68, 139.69, { utcOffsetMinutes: 540, countries: undefined });
    const d = decideSourcing(request({ sites: [tokyo], destination: { lat: 34.69, lon: 135.5 }, country: 'JP', now: Date.UTC(2025, 2, 10, 10, 0), lines: [line('L1', 'KETTLE', 1, 39.9)], stock: { tokyo: { KETTLE: 2 } } }));
    // Next departure: 16:00 on the 11th in Tokyo = 07:00 UTC on the 11th.
    expect(d.chosen?.shipments[0]).toMatchObject({ shipsAt: Date.UTC(2025, 2, 11, 7, 0), deliverBy: Date.UTC(2025, 2, 12, 7, 0) });
  });

  it('picks the carrier by the same weights: air when time counts, road for cost and CO2', () => {
    // Air leaves at noon and lands the next morning; road leaves at 16:00. Berlin is 421 km from Dortmund.
    const air: CarrierProfile = { id: 'air', mode: 'air', cutoff: '12:00', costPerShipment: 40, costPerKm: 0.5, kmPerDay: 2000, minTransitDays: 1 };
    const dortmund = { ...DORTMUND, carriers: [ROAD, air], co2GramsPerKm: { road: 900, air: 5200 } };
    const order = { sites: [dortmund], destination: BERLIN, lines: [line('L1', 'KETTLE', 1, 39.9)], stock: { dortmund: { KETTLE: 5 } } };
    const fast = decideSourcing(request({ ...order, weights: BY_TIME })).chosen?.shipments[0];
    expect(fast).toMatchObject({ carrier: 'air', mode: 'air', shipsAt: Date.UTC(2025, 2, 10, 11, 0), deliverBy: Date.UTC(2025, 2, 11, 11, 0) });
    expect(fast?.co2Grams).toBe(Math.round(5200 * distanceKm(DORTMUND, BERLIN)));
    expect(decideSourcing(request({ ...order, weights: BY_COST })).chosen?.shipments[0]?.carrier).toBe('road');
    expect(decideSourcing(request({ ...order, weights: BY_CO2 })).chosen?.shipments[0]?.carrier).toBe('road');
    // Weights that cannot tell carriers apart: the earlier delivery wins.
    expect(decideSourcing(request({ ...order, weights: BY_DISTANCE })).chosen?.shipments[0]?.carrier).toBe('air');
  });

  it('a mode without a CO2 figure counts as 0 g', () => {
    const rail: CarrierProfile = { ...ROAD, id: 'rail', mode: 'rail' };
    const d = decideSourcing(request({ sites: [{ ...DORTMUND, carriers: [rail] }], lines: [line('L1', 'KETTLE', 1, 39.9)], stock: { dortmund: { KETTLE: 5 } } }));
    expect(d.chosen?.shipments[0]).toMatchObject({ mode: 'rail', co2Grams: 0 });
  });
});

describe('determinism and input checks', () => {
  const scenario: Scenario = {
    weights: { cost: 0.5, distance: 0.2, time: 0.2, co2: 0.1 },
    backlog: { hamburg: 300 },
    lines: [line('A', 'KETTLE', 2, 100), line('B', 'CHARGER', 1, 10), line('C', 'TOASTER', 2, 50), line('D', 'GHOST', 1, 5)],
    stock: { dortmund: { KETTLE: 5, TOASTER: 5, CHARGER: 0 }, hamburg: { KETTLE: 5, CHARGER: 5 }, munich: { CHARGER: 5, TOASTER: 1 } },
  };

  it('the same input gives a deep-equal decision, whatever order the sites come in', () => {
    const once = decideSourcing(request(scenario));
    expect(decideSourcing(request(scenario))).toEqual(once);
    expect(decideSourcing(request({ ...scenario, sites: [MUNICH, DORTMUND, HAMBURG] }))).toEqual(once);
    expect(once.kind).toBe('partial');
  });

  it('refuses inputs it cannot decide on', () => {
    const base = { lines: [line('L1', 'KETTLE', 1, 39.9)], stock: { dortmund: { KETTLE: 5 } } };
    expect(() => decideSourcing(request({ ...base, lines: [] }))).toThrow(/at least one line/);
    expect(() => decideSourcing(request({ ...base, lines: [line('L1', 'KETTLE', 1, 1), line('L2', 'KETTLE', 1, 1)] }))).toThrow(/duplicate SKU/);
    expect(() => decideSourcing(request({ ...base, lines: [line('L1', 'KETTLE', 0, 1)] }))).toThrow(/quantity/);
    expect(() => decideSourcing(request({ ...base, weights: { ...BY_COST, time: -1 } }))).toThrow(/weight time/);
    expect(() => decideSourcing(request({ ...base, sites: [{ ...DORTMUND, carriers: [{ ...ROAD, cutoff: '4pm' }] }] }))).toThrow(/HH:MM/);
    expect(() => decideSourcing(request({ ...base, sites: [{ ...DORTMUND, carriers: [] }] }))).toThrow(/no carrier/);
  });

  it('a broken profile at a site that does not serve the country does not block the order', () => {
    const broken = { ...HAMBURG, countries: ['DK'], carriers: [] };
    const d = decideSourcing(request({ sites: [DORTMUND, broken], lines: [line('L1', 'KETTLE', 1, 39.9)], stock: { dortmund: { KETTLE: 5 } } }));
    expect(placement(d)).toEqual({ L1: 'dortmund' });
  });
});

describe('properties', () => {
  const SKUS = ['S0', 'S1', 'S2', 'S3', 'S4', 'S5'];
  const siteIds = NETWORK.map((s) => s.id);
  const units = fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined });
  const weight = fc.integer({ min: 0, max: 3 });
  const order = fc.record({
    stock: fc.array(fc.array(units, { minLength: SKUS.length, maxLength: SKUS.length }), { minLength: 3, maxLength: 3 }),
    serves: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    backlog: fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 3, maxLength: 3 }),
    lines: fc.uniqueArray(fc.record({ sku: fc.integer({ min: 0, max: SKUS.length - 1 }), quantity: fc.integer({ min: 1, max: 6 }), unitPrice: fc.integer({ min: 1, max: 40 }) }), {
      minLength: 1,
      maxLength: 5,
      selector: (l) => l.sku,
    }),
    weights: fc.record({ cost: weight, distance: weight, time: weight, co2: weight }),
    minShipmentValue: fc.integer({ min: 0, max: 150 }),
    destinationKnown: fc.boolean(),
  });

  it('accounts for every line once, sources only where one position fills it, and keeps valid splits above the minimum', () => {
    fc.assert(
      fc.property(order, (o) => {
        const stock: Stock = Object.fromEntries(
          siteIds.map((id, s) => [id, Object.fromEntries(SKUS.flatMap((sku, k) => (o.stock[s]?.[k] === undefined ? [] : [[sku, o.stock[s]?.[k]]])))]),
        );
        const sites = NETWORK.map((s, i) => ({ ...s, countries: o.serves[i] ? ['DE'] : ['AT'] }));
        const req = request({
          sites,
          stock,
          backlog: Object.fromEntries(siteIds.map((id, i) => [id, o.backlog[i] ?? 0])),
          destination: o.destinationKnown ? BERLIN : undefined,
          lines: o.lines.map((l, i) => line(`L${i}`, SKUS[l.sku] ?? '', l.quantity, l.unitPrice)),
          weights: o.weights,
          minShipmentValue: o.minShipmentValue,
        });
        const d = decideSourcing(req);
        const serving = new Set(sites.filter((s) => s.countries.includes('DE')).map((s) => s.id));

        expect(d.lines.map((l) => l.lineId)).toEqual(req.lines.map((l) => l.lineId));
        const shipped = [...(d.chosen?.shipments ?? []), ...d.backorders].flatMap((s) => s.lineIds);
        expect(new Set(shipped).size).toBe(shipped.length);

        req.lines.forEach((l, i) => {
          const outcome = d.lines[i];
          if (outcome?.outcome === 'sourced') {
            expect(serving.has(outcome.site)).toBe(true);
            expect(req.fillable(outcome.site, l.sku) ?? 0).toBeGreaterThanOrEqual(l.quantity);
            const shipment = d.chosen?.shipments.find((s) => s.lineIds.includes(l.lineId));
            expect(shipment).toMatchObject({ site: outcome.site, backorder: false, deliverBy: outcome.promiseDate });
          } else if (outcome?.outcome === 'backordered') {
            expect(serving.has(outcome.site)).toBe(true);
            expect(req.fillable(outcome.site, l.sku)).toBeDefined();
          } else {
            expect([...serving].every((s) => req.fillable(s, l.sku) === undefined)).toBe(true);
          }
        });

        if (d.chosen) {
          expect(d.chosen.rejected).toBeUndefined();
          const leaving = d.chosen.shipments.filter((s) => !s.backorder);
          if (leaving.length > 1 && d.chosen.waived === undefined) {
            for (const s of leaving) expect(s.value).toBeGreaterThanOrEqual(req.minShipmentValue);
          }
        }
        expect(d.candidates.length).toBeLessThanOrEqual(SOURCING_LIMITS.keptCandidates);
        expect(d.compared).toBeGreaterThanOrEqual(d.candidates.length);
        for (const c of d.candidates) {
          for (const v of [c.scores.cost, c.scores.distance, c.scores.time, c.scores.co2]) {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
