import { describe, expect, it } from 'vitest';
import { lineMachine, type LineContext } from './line-machine.js';
import { applyEvent, startMachine } from './machine-runner.js';
import type { PersistedMachine } from './records.js';

function fresh(): PersistedMachine<LineContext> {
  return startMachine(lineMachine, { lineId: 'L1', orderId: 'O1', sku: 'SKU-1', quantity: 3 });
}

describe('line machine', () => {
  it('walks the happy path CREATED -> PICKED and counts the picked quantity', () => {
    let s = fresh();
    expect(s.value).toBe('CREATED');
    for (const [event, expected] of [
      [{ type: 'line.source', site: 'demo', location: 'A-1' }, 'SOURCED'],
      [{ type: 'line.release' }, 'RELEASED'],
      [{ type: 'line.startPicking' }, 'PICKING'],
      [{ type: 'line.pick', quantity: 2 }, 'PICKING'],
      [{ type: 'line.pick', quantity: 1 }, 'PICKED'],
    ] as const) {
      const r = applyEvent(lineMachine, s, event);
      expect(r.changed).toBe(true);
      expect(r.to).toBe(expected);
      s = r.next;
    }
    expect(s.context).toMatchObject({ picked: 3, site: 'demo', location: 'A-1' });
  });

  it('ignores events the current state does not accept', () => {
    const r = applyEvent(lineMachine, fresh(), { type: 'line.pick', quantity: 1 });
    expect(r.changed).toBe(false);
    expect(r.to).toBe('CREATED');
  });

  it('returns a failed line to sourcing until its attempts run out', () => {
    let s = applyEvent(lineMachine, fresh(), { type: 'line.source', site: 'demo', location: 'A-1' }).next;
    s = applyEvent(lineMachine, s, { type: 'line.release' }).next;
    const failed = applyEvent(lineMachine, s, { type: 'line.fail', reason: 'device fault', maxAttempts: 2 });
    expect(failed.to).toBe('CREATED');
    expect(failed.next.context).toMatchObject({ attempts: 1, site: null, location: null, reason: 'device fault' });
    let again = applyEvent(lineMachine, failed.next, { type: 'line.source', site: 'demo', location: 'A-2' }).next;
    again = applyEvent(lineMachine, again, { type: 'line.release' }).next;
    expect(applyEvent(lineMachine, again, { type: 'line.fail', reason: 'again', maxAttempts: 2 }).to).toBe('UNROUTABLE');
  });

  it('cancels before shipping but not after', () => {
    const canceled = applyEvent(lineMachine, fresh(), { type: 'line.cancel', reason: 'customer' });
    expect(canceled.to).toBe('CANCELED');
    const shipped: PersistedMachine<LineContext> = { value: 'SHIPPED', context: fresh().context };
    const r = applyEvent(lineMachine, shipped, { type: 'line.cancel', reason: 'too late' });
    expect(r.to).toBe('SHIPPED');
  });

  it('persists small snapshots', () => {
    expect(JSON.stringify(fresh()).length).toBeLessThan(400);
  });
});
