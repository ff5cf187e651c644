import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RISK_CONFIG, assessRisk, distanceKm, orderValue, shipToKey, type RiskInput } from './risk.js';

const base: RiskInput = {
  lines: [{ sku: 'A', quantity: 1, unitPrice: 20 }],
  shipTo: {},
  previousOrderValues: [],
  customerOrdersLastHour: 0,
  addressOrdersLastHour: 0,
  pastShipTo: [],
};
const rules = (input: Partial<RiskInput>, config = DEFAULT_RISK_CONFIG) => assessRisk({ ...base, ...input }, config).findings.map((f) => f.rule);

describe('risk score', () => {
  it('an ordinary order scores nothing', () => {
    const r = assessRisk(base);
    expect(r).toEqual({ score: 0, value: 20, findings: [], hold: false });
  });

  it('values lines at quantity x unit price; unpriced SKUs count 0', () => {
    expect(orderValue([{ sku: 'A', quantity: 3, unitPrice: 1.1 }, { sku: 'B', quantity: 2, unitPrice: undefined }])).toBe(3.3);
  });

  it('firstOrderHighValue: a new customer with a big basket', () => {
    expect(rules({ lines: [{ sku: 'A', quantity: 11, unitPrice: 49 }] })).toEqual(['firstOrderHighValue']);
    expect(rules({ lines: [{ sku: 'A', quantity: 11, unitPrice: 49 }], previousOrderValues: [400] })).toEqual([]);
    expect(rules({ lines: [{ sku: 'A', quantity: 10, unitPrice: 40 }] })).toEqual([]);
  });

  it('valueJump: several times the customer average, above a floor', () => {
    const big = [{ sku: 'A', quantity: 30, unitPrice: 40 }]; // 1200
    expect(rules({ lines: big, previousOrderValues: [100, 300] })).toEqual(['valueJump']);
    expect(rules({ lines: big, previousOrderValues: [500, 500] })).toEqual([]);
    // A tenfold jump on a small basket is noise.
    expect(rules({ lines: [{ sku: 'A', quantity: 10, unitPrice: 40 }], previousOrderValues: [10] })).toEqual([]);
  });

  it('customerVelocity and addressVelocity count this order too', () => {
    expect(rules({ customerOrdersLastHour: 3 })).toEqual([]);
    expect(rules({ customerOrdersLastHour: 4 })).toEqual(['customerVelocity']);
    expect(rules({ addressOrdersLastHour: 4 })).toEqual(['addressVelocity']);
  });

  it('bulkHighValue: many units of one high-value SKU', () => {
    expect(rules({ lines: [{ sku: 'P', quantity: 10, unitPrice: 50 }], previousOrderValues: [600] })).toEqual(['bulkHighValue']);
    expect(rules({ lines: [{ sku: 'P', quantity: 9, unitPrice: 80 }], previousOrderValues: [600] })).toEqual([]);
    expect(rules({ lines: [{ sku: 'C', quantity: 40, unitPrice: 5 }], previousOrderValues: [600] })).toEqual([]);
  });

  it('farShipTo: only with coordinates on both sides', () => {
    const dortmund = { lat: 51.51, lon: 7.47 };
    const lisbon = { lat: 38.72, lon: -9.14 };
    expect(distanceKm(dortmund, lisbon)).toBeGreaterThan(1800);
    expect(distanceKm(dortmund, lisbon)).toBeLessThan(2000);
    expect(rules({ shipTo: lisbon, pastShipTo: [dortmund] })).toEqual(['farShipTo']);
    expect(rules({ shipTo: lisbon, pastShipTo: [dortmund, { lat: 38.7, lon: -9.1 }] })).toEqual([]);
    expect(rules({ shipTo: lisbon, pastShipTo: [] })).toEqual([]);
    expect(rules({ shipTo: {}, pastShipTo: [dortmund] })).toEqual([]);
  });

  it('the total against the threshold decides the hold; weights are configurable', () => {
    const suspicious = { lines: [{ sku: 'P', quantity: 10, unitPrice: 80 }] };
    const r = assessRisk({ ...base, ...suspicious });
    expect(r.score).toBe(70);
    expect(r.hold).toBe(true);
    expect(r.findings.every((f) => f.reason.length > 0)).toBe(true);
    expect(assessRisk({ ...base, ...suspicious }, { ...DEFAULT_RISK_CONFIG, threshold: 71 }).hold).toBe(false);
    const off = { ...DEFAULT_RISK_CONFIG, weights: { ...DEFAULT_RISK_CONFIG.weights, bulkHighValue: 0 } };
    expect(rules(suspicious, off)).toEqual(['firstOrderHighValue']);
  });
});

describe('shipToKey', () => {
  // The key stored with every order must never change: SQLite's lower(trim(x)) of each part.
  const reference = (s: string | undefined): string => (s ?? '').replace(/^ +| +$/g, '').replace(/[A-Z]+/g, (m) => m.toLowerCase());
  const part = fc.option(fc.stringMatching(/^[ A-Za-zÄÖÜäöüß0-9\t-]{0,12}$/), { nil: undefined });

  it('normalises like SQLite: spaces trimmed at the edges, ASCII letters folded, nothing else touched', () => {
    fc.assert(
      fc.property(part, part, part, (country, postalCode, line1) => {
        expect(shipToKey({ country, postalCode, line1 })).toBe(`${reference(country)}|${reference(postalCode)}|${reference(line1)}`);
      }),
      { numRuns: 500 },
    );
    expect(shipToKey({ country: ' DE ', postalCode: '\t12345 ', line1: 'Äußere STRAßE 1' })).toBe('de|\t12345|Äußere straße 1');
    expect(shipToKey(undefined)).toBe('||');
  });
});
