/**
 * The transition table (compiled-machine.ts) must give exactly what xstate gives: the same next
 * state, the same context with the same key order (snapshots and journal entries are stored as
 * JSON, and the fast simulation must stay byte-identical), and the same `changed`.
 */
import fc from 'fast-check';
import type { AnyStateMachine } from 'xstate';
import { assign, setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compileMachine } from './compiled-machine.js';
import { lineMachine, type LineEvent } from './line-machine.js';
import { applyEvent, applyWithXstate, startMachine, startWithXstate } from './machine-runner.js';
import { orderMachine, type OrderEvent } from './order-machine.js';
import type { PersistedMachine } from './records.js';

const lineEvent: fc.Arbitrary<LineEvent> = fc.oneof(
  fc.record({ type: fc.constant('line.source' as const), site: fc.constantFrom('north', 'south'), location: fc.constantFrom('A-1', 'B-2') }),
  fc.record({ type: fc.constant('line.source' as const), site: fc.constant('north'), location: fc.constant('A-1'), promiseDate: fc.integer({ min: 0, max: 1e12 }) }),
  fc.record({ type: fc.constant('line.backorder' as const), promiseDate: fc.integer({ min: 0, max: 1e12 }) }),
  fc.record({ type: fc.constant('line.unroutable' as const), reason: fc.constantFrom('no site', 'closed') }),
  fc.constant({ type: 'line.release' as const }),
  fc.constant({ type: 'line.startPicking' as const }),
  fc.record({ type: fc.constant('line.pick' as const), quantity: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ type: fc.constant('line.fail' as const), reason: fc.constant('fault'), maxAttempts: fc.integer({ min: 1, max: 4 }) }),
  fc.constant({ type: 'line.pack' as const }),
  fc.constant({ type: 'line.ship' as const }),
  fc.constant({ type: 'line.deliver' as const }),
  fc.record({ type: fc.constant('line.cancel' as const), reason: fc.constantFrom('customer', 'fraud') }),
);

const orderEvent: fc.Arbitrary<OrderEvent> = fc.oneof(
  fc.constant({ type: 'order.validate' as const }),
  fc.record({ type: fc.constant('order.reject' as const), reason: fc.constant('bad') }),
  fc.constant({ type: 'order.open' as const }),
  fc.constant({ type: 'order.close' as const }),
  fc.record({ type: fc.constant('order.cancel' as const), reason: fc.constantFrom('customer', 'fraud') }),
);

/** Walks both runners through the same events, comparing every step as stored (JSON text). */
function sameWalk<M extends AnyStateMachine>(machine: M, start: PersistedMachine<unknown>, events: readonly unknown[]): void {
  let fast = start as PersistedMachine<never>;
  let reference = start as PersistedMachine<never>;
  for (const event of events) {
    const a = applyEvent(machine, fast, event as never);
    const b = applyWithXstate(machine, reference, event as never);
    expect({ changed: a.changed, from: a.from, to: a.to, next: JSON.stringify(a.next) }).toEqual({
      changed: b.changed,
      from: b.from,
      to: b.to,
      next: JSON.stringify(b.next),
    });
    fast = a.next as PersistedMachine<never>;
    reference = b.next as PersistedMachine<never>;
  }
}

describe('compiled machine runner', () => {
  it('compiles both of Pickwire machines (no fallback to the interpreter on the hot path)', () => {
    expect(compileMachine(lineMachine)).toBeDefined();
    expect(compileMachine(orderMachine)).toBeDefined();
  });

  it('starts machines exactly as xstate does', () => {
    const input = { lineId: 'L1', orderId: 'O1', sku: 'SKU-1', quantity: 3 };
    expect(JSON.stringify(startMachine(lineMachine, input))).toBe(JSON.stringify(startWithXstate(lineMachine, input)));
    expect(JSON.stringify(startMachine(orderMachine, { orderId: 'O1' }))).toBe(JSON.stringify(startWithXstate(orderMachine, { orderId: 'O1' })));
  });

  it('gives the line machine xstate transitions for any sequence of events', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(lineEvent, { maxLength: 25 }), (quantity, events) => {
        sameWalk(lineMachine, startWithXstate(lineMachine, { lineId: 'L1', orderId: 'O1', sku: 'S', quantity }) as PersistedMachine<unknown>, events);
      }),
      { numRuns: 400 },
    );
  });

  it('gives the order machine xstate transitions for any sequence of events', () => {
    fc.assert(
      fc.property(fc.array(orderEvent, { maxLength: 12 }), (events) => {
        sameWalk(orderMachine, startWithXstate(orderMachine, { orderId: 'O1' }) as PersistedMachine<unknown>, events);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves machines it does not cover to xstate', () => {
    const withEntry = setup({ types: { context: {} as { n: number }, events: {} as { type: 'go' } } }).createMachine({
      initial: 'A',
      context: { n: 0 },
      states: { A: { on: { go: 'B' } }, B: { entry: assign({ n: ({ context }) => context.n + 1 }) } },
    });
    expect(compileMachine(withEntry)).toBeUndefined();
    const s = startMachine(withEntry, undefined as never);
    expect(applyEvent(withEntry, s, { type: 'go' }).next).toEqual({ value: 'B', context: { n: 1 } });
  });
});
