/**
 * The in-memory risk history against a real SQLite store: whatever orders, addresses, clock
 * positions, evictions and failed transactions come, it answers what the stored orders say.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import type { OrderInput } from '../domain/records.js';
import type { Clock } from '../ports.js';
import { RiskHistory, shipToKey } from './risk-history.js';

const clock: Clock = { now: () => 0, setTimer: () => () => undefined };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const DEPTH = 4;
const CAP = 3;
const valueOf = (lines: OrderInput['lines']): number => lines.reduce((n, l) => n + l.quantity * 10, 0);

/** Addresses that SQLite's lower(trim()) folds together, and ones it keeps apart (non-ASCII case, tabs). */
const LINE1 = ['1 Main St', ' 1 MAIN ST ', '1 main st', '1 Main St\t', 'Äußere Str 2', 'äußere str 2', '2 Side Rd'];

function openStore(): { store: SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), 'pw-risk-'));
  dirs.push(dir);
  const store = new SqliteStore({ dataDir: dir, clock });
  return { store };
}

function insert(store: SqliteStore, id: string, input: OrderInput, createdAt: number): void {
  store.insertOrder({
    id,
    externalId: undefined,
    channel: input.channel,
    customerId: input.customer.id,
    status: 'OPEN',
    fulfilment: 'SOURCED',
    snapshot: { value: 'OPEN', context: { orderId: id } } as never,
    body: input,
    priority: 0,
    promisedBy: undefined,
    createdAt,
    updatedAt: createdAt,
  });
}

const orderArb = fc.record({
  customer: fc.integer({ min: 0, max: 3 }),
  line1: fc.integer({ min: 0, max: LINE1.length - 1 }),
  quantity: fc.integer({ min: 1, max: 5 }),
  located: fc.boolean(),
  /** How far the clock moves before this order (ms); sometimes nowhere, so times tie. */
  step: fc.constantFrom(0, 1, 400, 2_000),
  /** Whether the score is read before this order (when not, the order may be the first its entry sees). */
  scored: fc.boolean(),
  /** Whether this order's savepoint rolls back. */
  fails: fc.boolean(),
});

/** Orders in group commits: one transaction per group, a savepoint per order, as intake does. */
const groupArb = fc.record({ orders: fc.array(orderArb, { minLength: 1, maxLength: 6 }), commitFails: fc.boolean() });

/** A rollback the test asks for; anything else (a failed expectation) must surface. */
class Rollback extends Error {}

const countSince = (times: number[], since: number): number => Math.min(CAP, times.filter((t) => t >= since).length);

describe('RiskHistory', () => {
  it('answers what the store holds, across groups, ties, evictions, address spellings and failed transactions', () => {
    fc.assert(
      fc.property(fc.array(groupArb, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 3 }), (groups, maxEntries) => {
        const { store } = openStore();
        const history = new RiskHistory(store, { depth: DEPTH, velocityCap: CAP, valueOf, maxEntries });
        let now = 1_000_000;
        let seq = 0;
        const check = (input: OrderInput): void => {
          // The store's own connection sees the open transaction, as intake's reads did.
          const since = now - 1_000;
          const stored = store.recentOrdersOfCustomer(input.customer.id, 1_000);
          expect(history.customerOrdersSince(input.customer.id, since)).toBe(countSince(stored.map((o) => o.createdAt), since));
          expect(history.addressOrdersSince(input.shipTo, since)).toBe(countSince(store.recentShipToOrderTimes(input.shipTo, 1_000), since));
          const recent = stored.slice(0, DEPTH);
          const previous = history.previousOrders(input.customer.id);
          expect(previous.map((p) => p.createdAt)).toEqual(recent.map((o) => o.createdAt));
          // Which of several orders tied at the oldest time made the cut is arbitrary, in SQL too.
          const cut = recent.length === DEPTH ? (recent.at(-1)?.createdAt ?? 0) : -1;
          const describe = (createdAt: number, value: number, lat: number | undefined): string => `${createdAt}/${value}/${lat ?? '-'}`;
          expect(previous.filter((p) => p.createdAt > cut).map((p) => describe(p.createdAt, p.value, p.point?.lat)).sort()).toEqual(
            recent.filter((o) => o.createdAt > cut).map((o) => describe(o.createdAt, valueOf(o.body.lines), o.body.shipTo.lat)).sort(),
          );
        };
        for (const group of groups) {
          try {
            store.tx(() => {
              for (const o of group.orders) {
                now += o.step;
                const input: OrderInput = {
                  channel: 'web',
                  customer: { id: `c${o.customer}` },
                  shipTo: { name: 'n', line1: LINE1[o.line1]!, city: 'c', postalCode: '12345', country: 'DE', ...(o.located ? { lat: 50 + o.quantity, lon: 8 } : {}) },
                  lines: [{ sku: 'S', quantity: o.quantity }],
                };
                if (o.scored) check(input);
                try {
                  store.tx(() => {
                    insert(store, `O-${seq++}`, input, now);
                    if (o.fails) throw new Rollback('savepoint');
                  });
                  history.record(input, now);
                } catch (err) {
                  if (!(err instanceof Rollback)) throw err;
                }
              }
              if (group.commitFails) throw new Rollback('group');
            });
          } catch (err) {
            if (!(err instanceof Rollback)) throw err;
            history.forget();
          }
        }
        store.close();
      }),
      { numRuns: 25 },
    );
  });

  it('folds addresses as the store does: ASCII case and spaces only', () => {
    const key = (line1: string): string => shipToKey({ country: 'De', postalCode: ' 123 ', line1 });
    expect(key(' 1 MAIN ST ')).toBe(key('1 main st'));
    expect(key('Äußere')).not.toBe(key('äußere'));
    expect(key('1 Main St\t')).not.toBe(key('1 Main St'));
  });
});
