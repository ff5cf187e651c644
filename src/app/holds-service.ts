/**
 * Holds as records (DESIGN §3, issue 3 item 3): list, release and reject. A hold is resolved
 * once: releasing a released hold or rejecting a rejected one answers the hold as it is
 * (idempotent), resolving it the other way is 409 PW_ERR_INVALID_STATE.
 *
 * - release: the hold is marked released (who, when, note) and journaled `hold.released`; when
 *   the order has no other open hold, its SOURCED lines are released to the floor (tasks
 *   planned), all in one transaction.
 * - reject: the hold is marked rejected and journaled `hold.rejected`, and the order is canceled
 *   through the CancellationService (its compensations give the reservations back), in one
 *   transaction: the inner cancel becomes a savepoint of it.
 */
import type { HoldRecord, HoldStatus } from '../domain/records.js';
import { PickwireError } from '../errors.js';
import type { CancellationService } from './cancellation.js';
import type { AppContext } from './context.js';
import type { LineService } from './line-service.js';
import { holdView, type HoldView } from './queries.js';
import { runInTransaction } from './unit-of-work.js';

export class HoldsService {
  constructor(
    private readonly ctx: AppContext,
    private readonly lines: LineService,
    private readonly cancellation: CancellationService,
  ) {}

  list(q: { status?: HoldStatus; limit: number }): HoldView[] {
    return this.ctx.store.listHolds(q).map(holdView);
  }

  release(id: string, note: string | undefined, actor: string | undefined): HoldView {
    const { store, clock } = this.ctx;
    return runInTransaction(store, (after) => {
      const hold = this.resolvable(id, 'released');
      if (hold.status === 'released') return holdView(hold);
      const now = clock.now();
      store.resolveHold(id, { status: 'released', resolvedAt: now, resolvedBy: actor, note });
      const stillHeld = store.holdsOf(hold.orderId).some((h) => h.id !== id && h.status === 'open');
      const released: string[] = [];
      if (!stillHeld) {
        this.lines.batch(after, () => {
          for (const line of store.linesOf(hold.orderId)) {
            if (line.state !== 'SOURCED') continue;
            if (this.lines.release(line, after).state === 'RELEASED') released.push(line.id);
          }
        });
      }
      store.appendEvent({
        type: 'hold.released',
        aggregateType: 'order',
        aggregateId: hold.orderId,
        orderId: hold.orderId,
        actor,
        at: now,
        data: { holdId: id, type: hold.type, note: note ?? null, releasedLines: released, otherOpenHolds: stillHeld },
      });
      after(() => this.ctx.notifier.publish({ type: 'hold.released', at: now, data: { id, orderId: hold.orderId, releasedLines: released } }));
      return holdView(store.getHold(id) ?? hold);
    });
  }

  reject(id: string, reason: string, actor: string | undefined): HoldView {
    const { store, clock } = this.ctx;
    return store.tx(() => {
      const hold = this.resolvable(id, 'rejected');
      if (hold.status === 'rejected') return holdView(hold);
      const now = clock.now();
      store.resolveHold(id, { status: 'rejected', resolvedAt: now, resolvedBy: actor, note: reason });
      store.appendEvent({
        type: 'hold.rejected',
        aggregateType: 'order',
        aggregateId: hold.orderId,
        orderId: hold.orderId,
        actor,
        at: now,
        data: { holdId: id, type: hold.type, reason },
      });
      this.cancellation.cancelOrder(hold.orderId, `${hold.type} hold ${id} rejected: ${reason}`, actor);
      return holdView(store.getHold(id) ?? hold);
    });
  }

  /** The hold, if it is open or already has the wanted outcome; 404 or 409 otherwise. */
  private resolvable(id: string, outcome: Exclude<HoldStatus, 'open'>): HoldRecord {
    const hold = this.ctx.store.getHold(id);
    if (!hold) throw new PickwireError('PW_ERR_NOT_FOUND', `no hold ${id}`);
    if (hold.status !== 'open' && hold.status !== outcome) {
      throw new PickwireError('PW_ERR_INVALID_STATE', `hold ${id} is already ${hold.status}; it cannot be ${outcome}`);
    }
    return hold;
  }
}
