import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assignmentCost, assignmentTotal, CheapestCandidates, compareUrgency, DEFAULT_ASSIGNMENT_WEIGHTS, orderStops, rankCandidates, type CandidateFacts, type Urgency } from './assignment.js';

const facts = (over: Partial<CandidateFacts> = {}): CandidateFacts => ({
  vehicleId: 'amr-01',
  travelSeconds: 30,
  queueLength: 0,
  battery: 90,
  lowBatteryPercent: 15,
  capable: true,
  ...over,
});

describe('assignment cost', () => {
  it('is travel time plus queued trips plus a battery penalty, with its breakdown', () => {
    expect(assignmentCost(facts())).toEqual({ vehicleId: 'amr-01', travel: 30, queue: 0, battery: 0, total: 30 });
    expect(assignmentCost(facts({ queueLength: 2 }))).toMatchObject({ queue: 2 * DEFAULT_ASSIGNMENT_WEIGHTS.queuedTripSeconds, total: 30 + 2 * DEFAULT_ASSIGNMENT_WEIGHTS.queuedTripSeconds });
  });

  it('penalises a battery as it nears the low-battery line, and excludes one below it', () => {
    const w = { queuedTripSeconds: 100, batteryPenaltySeconds: 200, batteryMarginPercent: 20 };
    expect(assignmentCost(facts({ battery: 35 }), w)?.battery).toBe(0);
    expect(assignmentCost(facts({ battery: 25 }), w)?.battery).toBe(100);
    expect(assignmentCost(facts({ battery: 15 }), w)?.battery).toBe(200);
    expect(assignmentCost(facts({ battery: 14.9 }), w)).toBeUndefined();
    // Unknown battery: no penalty rather than a guess.
    expect(assignmentCost(facts({ battery: undefined }), w)?.battery).toBe(0);
  });

  it('gives no cost to a vehicle that cannot do the trip or has no route', () => {
    expect(assignmentCost(facts({ capable: false }))).toBeUndefined();
    expect(assignmentCost(facts({ travelSeconds: undefined }))).toBeUndefined();
    expect(assignmentCost(facts({ travelSeconds: Number.POSITIVE_INFINITY }))).toBeUndefined();
  });

  it('ranks cheapest first: a nearer vehicle low on charge can lose to a farther full one', () => {
    const ranked = rankCandidates([
      facts({ vehicleId: 'near-low', travelSeconds: 10, battery: 16 }),
      facts({ vehicleId: 'far-full', travelSeconds: 30, battery: 95 }),
      facts({ vehicleId: 'unable', travelSeconds: 1, capable: false }),
      facts({ vehicleId: 'busy', travelSeconds: 5, queueLength: 1 }),
    ]);
    expect(ranked.map((c) => c.vehicleId)).toEqual(['far-full', 'near-low', 'busy']);
    // Near the line the penalty is most of the default's 30 s: 10 + 27.
    expect(ranked[1]?.total).toBe(37);
    // Ties go by vehicle id, so a replay decides the same way.
    expect(rankCandidates([facts({ vehicleId: 'b' }), facts({ vehicleId: 'a' })]).map((c) => c.vehicleId)).toEqual(['a', 'b']);
  });
});

describe('cheapest candidates', () => {
  it('are the head of the full ranking, with every able candidate counted, also when one facts object is refilled per candidate', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ travel: fc.integer({ min: 0, max: 400 }), battery: fc.integer({ min: 0, max: 100 }), capable: fc.boolean(), queue: fc.integer({ min: 0, max: 2 }) }), { maxLength: 60 }),
        fc.integer({ min: 0, max: 5 }),
        (rows, k) => {
          // Ids out of order (37 and 101 are coprime, so they stay unique); travel in hundredths, so
          // totals round to tenths and tie often.
          const candidates = rows.map((r, i) => facts({ vehicleId: `v${String((i * 37) % 101).padStart(3, '0')}`, travelSeconds: r.travel / 100, battery: r.battery, capable: r.capable, queueLength: r.queue }));
          const full = rankCandidates(candidates);
          const fresh = new CheapestCandidates(k);
          for (const c of candidates) fresh.offer(c);
          expect(fresh.ranked).toEqual(full.slice(0, k));
          expect(fresh.considered).toBe(full.length);
          const ranking = new CheapestCandidates(k);
          const reused = facts({});
          for (const c of candidates) ranking.offer(Object.assign(reused, c));
          expect(ranking.ranked).toEqual(full.slice(0, k));
          expect(ranking.considered).toBe(full.length);
          for (const c of candidates) expect(assignmentTotal(c)).toBe(assignmentCost(c)?.total);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('urgency', () => {
  const u = (id: string, promisedBy: number | undefined, priority: number, createdAt: number): Urgency => ({ id, promisedBy, priority, createdAt });

  it('serves the earliest promise first, then higher priority, then the oldest', () => {
    const list = [u('late-high', 5000, 9, 1), u('none', undefined, 9, 0), u('early', 1000, 0, 9), u('same-old', 5000, 0, 1), u('same-new', 5000, 0, 2)];
    expect([...list].sort(compareUrgency).map((x) => x.id)).toEqual(['early', 'late-high', 'same-old', 'same-new', 'none']);
  });
});

describe('batched stops', () => {
  // Nodes on a line: travel time is the distance between positions.
  const pos: Record<string, number> = { start: 0, a: 2, b: 5, c: 9, island: NaN };
  const travel = (x: string, y: string): number | undefined => (Number.isNaN(pos[x]!) || Number.isNaN(pos[y]!) ? undefined : Math.abs(pos[x]! - pos[y]!));

  it('visits the nearest remaining pick next', () => {
    const stops = [{ nodeId: 'c' }, { nodeId: 'a' }, { nodeId: 'b' }];
    expect(orderStops('start', stops, travel)?.map((s) => s.nodeId)).toEqual(['a', 'b', 'c']);
    expect(orderStops('c', stops, travel)?.map((s) => s.nodeId)).toEqual(['c', 'b', 'a']);
  });

  it('gives up when a stop cannot be reached', () => {
    expect(orderStops('start', [{ nodeId: 'a' }, { nodeId: 'island' }], travel)).toBeUndefined();
  });
});
