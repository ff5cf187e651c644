/**
 * Everything that moves an order line: its machine transitions (journaled), reservation,
 * release to the floor with planned tasks, picks and failures. Every method runs inside the
 * caller's transaction and registers live events to publish after commit.
 */
import { lineMachine, type LineEvent, type LineState } from '../domain/line-machine.js';
import { orderMachine } from '../domain/order-machine.js';
import { applyEvent } from '../domain/machine-runner.js';
import { allLinesDone, deriveFulfilment } from '../domain/fulfilment.js';
import { choosePosition } from '../domain/stock.js';
import { planLine, PlanningError } from '../domain/execution-plan.js';
import type { ExceptionType, LineRecord, StockPosition, TaskRecord } from '../domain/records.js';
import { siteHandoverTopic } from '../../protocols/index.js';
import type { AppContext } from './context.js';
import type { LineOutcome } from '../domain/sourcing.js';
import type { SourcingService, SourcingTrigger } from './sourcing-service.js';
import type { ExceptionService } from './exception-service.js';

/** What made a line's execution fail, for its exception record. */
export interface FailureCause {
  taskId?: string | undefined;
  deviceId?: string | undefined;
  /** Units the device found missing at the location (a short pick). */
  shortBy?: number | undefined;
  /** The exception type to record, when the caller knows better than "task-failed". */
  type?: ExceptionType | undefined;
}

export type AfterCommit = (effect: () => void) => void;

const JOURNAL_NAME: Record<LineState, string> = {
  CREATED: 'line.returnedToSourcing',
  SOURCED: 'line.sourced',
  BACKORDERED: 'line.backordered',
  UNROUTABLE: 'line.unroutable',
  RELEASED: 'line.released',
  PICKING: 'line.pickingStarted',
  PICKED: 'line.picked',
  PACKED: 'line.packed',
  SHIPPED: 'line.shipped',
  DELIVERED: 'line.delivered',
  CANCELED: 'line.canceled',
};

export class LineService {
  private readonly portsUsed = new Map<string, number>();
  /** While set, orders whose lines changed are collected and refreshed once at the end. */
  private deferredOrders: Set<string> | undefined;
  private readonly stationsUsed = new Map<string, number>();
  /** Pack station per recent order, so an order's trips all end where its totes consolidate. */
  private readonly packOfOrder = new Map<string, string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly sourcing: SourcingService,
    private readonly exceptions: ExceptionService,
    private readonly onTasksCreated: () => void,
  ) {}

  /** Applies one machine event; journals and persists the transition when it changes anything. */
  apply(line: LineRecord, event: LineEvent, after: AfterCommit, extra: { actor?: string; data?: Record<string, unknown>; fresh?: boolean } = {}): LineRecord {
    const result = applyEvent(lineMachine, line.snapshot, event);
    if (!result.changed) {
      if (extra.fresh) this.ctx.store.insertLine(line);
      return line;
    }
    const now = this.ctx.clock.now();
    const ctx = result.next.context;
    const next: LineRecord = {
      ...line,
      state: result.to as LineState,
      site: ctx.site ?? undefined,
      location: ctx.location ?? undefined,
      zone: ctx.location ? this.zoneOf(ctx.location) : undefined,
      snapshot: result.next,
      updatedAt: now,
    };
    if (extra.fresh) this.ctx.store.insertLine(next);
    else this.ctx.store.updateLine(line.id, next);
    // New work for the floor: the release pass decides when it goes.
    if (next.state === 'SOURCED') after(this.onTasksCreated);
    if (result.from !== result.to) {
      this.ctx.store.appendEvent({
        type: JOURNAL_NAME[next.state],
        aggregateType: 'line',
        aggregateId: line.id,
        orderId: line.orderId,
        actor: extra.actor,
        at: now,
        data: { from: result.from, to: result.to, sku: line.sku, quantity: line.quantity, ...extra.data },
      });
      // A fresh line's order is written by its creator, with all its lines at once.
      if (extra.fresh) return next;
      if (this.deferredOrders) this.deferredOrders.add(line.orderId);
      else this.refreshOrder(line.orderId, after);
    }
    return next;
  }

  /**
   * Sources one CREATED or BACKORDERED line on its own (a retry after a failure, a receipt for a
   * backorder): the same rule engine as intake, the decision journaled with its scores.
   */
  source(line: LineRecord, after: AfterCommit, trigger: SourcingTrigger = 'retry', opts: { raiseUnroutable?: boolean } = {}): LineRecord {
    const order = this.ctx.store.getOrder(line.orderId);
    if (!order) return line;
    const decision = this.sourcing.decide(order.body.shipTo, [line], unpicked);
    this.sourcing.record(line.orderId, decision, trigger, undefined);
    const outcome = decision.lines[0];
    return outcome ? this.applyOutcome(line, outcome, after, { raiseUnroutable: opts.raiseUnroutable }) : line;
  }

  /**
   * Carries out sourcing's verdict for one line: reserve at the chosen site's best position, or
   * backorder with the promise date, or mark it unroutable. `fresh` lines are not stored yet
   * (intake): they are inserted in their sourced state instead of inserted and then updated.
   */
  applyOutcome(
    line: LineRecord,
    outcome: LineOutcome,
    after: AfterCommit,
    extra: { fresh?: boolean; actor?: string; positions?: readonly StockPosition[] | undefined; raiseUnroutable?: boolean | undefined } = {},
  ): LineRecord {
    if (outcome.outcome === 'unroutable') {
      const next = this.apply(line, { type: 'line.unroutable', reason: outcome.reason }, after, { fresh: extra.fresh, actor: extra.actor, data: { reason: outcome.reason } });
      if (extra.raiseUnroutable !== false) {
        this.exceptions.raise(
          {
            type: 'unroutable',
            status: 'open',
            orderId: line.orderId,
            lineId: line.id,
            summary: `${line.id}: ${unpicked(line)} × ${line.sku} cannot be sourced: ${outcome.reason}`,
            detail: { sku: line.sku, quantity: unpicked(line), reason: outcome.reason },
            actions: ['nothing reserved; the line is UNROUTABLE until stock or the network changes, or it is canceled'],
          },
          after,
        );
      }
      return next;
    }
    const needed = unpicked(line);
    const chosen =
      outcome.outcome === 'sourced'
        ? choosePosition(
            (extra.positions ?? this.ctx.store.stockOf(line.sku)).filter((p) => p.site === outcome.site),
            needed,
          )
        : undefined;
    if (!chosen) {
      const reason = outcome.outcome === 'backordered' ? outcome.reason : 'insufficient available-to-promise stock';
      return this.apply(line, { type: 'line.backorder', promiseDate: outcome.promiseDate }, after, { fresh: extra.fresh, actor: extra.actor, data: { site: outcome.site, reason } });
    }
    this.ctx.store.adjustStock(chosen.site, chosen.location, chosen.sku, { reserved: needed });
    this.ctx.store.appendEvent({
      type: 'stock.reserved',
      aggregateType: 'stock',
      aggregateId: `${chosen.site}/${chosen.location}/${chosen.sku}`,
      orderId: line.orderId,
      actor: extra.actor,
      data: { lineId: line.id, sku: line.sku, quantity: needed, site: chosen.site, location: chosen.location },
    });
    return this.apply(line, { type: 'line.source', site: chosen.site, location: chosen.location, promiseDate: outcome.promiseDate }, after, {
      fresh: extra.fresh,
      actor: extra.actor,
      data: { site: chosen.site, location: chosen.location, zone: chosen.zone },
    });
  }

  /** Plans the line's device tasks and releases it to the floor, or hands it to the site it was sourced to. */
  release(line: LineRecord, after: AfterCommit): LineRecord {
    if (line.state !== 'SOURCED' || !line.location) return line;
    if (line.site !== this.ctx.siteId) return this.handOver(line, after);
    const location = this.ctx.locations.get(line.location);
    let drafts;
    try {
      if (!location) throw new PlanningError(`location ${line.location} is not in the site layout`);
      drafts = planLine(this.ctx.layout, {
        lineId: line.id,
        orderId: line.orderId,
        sku: line.sku,
        // After a failed attempt with a partial pick, only the rest is planned.
        quantity: unpicked(line),
        location,
        ...this.equipmentLoad(),
        packStationId: this.packOfOrder.get(line.orderId),
      });
    } catch (err) {
      if (!(err instanceof PlanningError)) throw err;
      // The site cannot execute this line as laid out: an exception for operators, not a cancel.
      const released = this.releaseReservation(line);
      const next = this.apply(line, { type: 'line.unroutable', reason: err.message }, after, { data: { reason: err.message } });
      this.exceptions.raise(
        {
          type: 'unroutable',
          status: 'open',
          orderId: line.orderId,
          lineId: line.id,
          summary: `${line.id}: the floor cannot execute ${line.sku} from ${line.location}: ${err.message}`,
          detail: { sku: line.sku, location: line.location, reason: err.message },
          actions: [`released the reservation of ${released} at ${line.location}`, 'line marked UNROUTABLE'],
        },
        after,
      );
      return next;
    }
    const now = this.ctx.clock.now();
    const planned: { id: string; step: number; kind: string; deviceId: string | null; loadId: string | null }[] = [];
    const first = drafts[0];
    if (first?.kind === 'asrs.retrieve') this.countUse(first.plan);
    if (first?.kind === 'amr.pickTrip' && first.plan.stationId) this.rememberPack(line.orderId, first.plan.stationId);
    for (const d of drafts) {
      const task: TaskRecord = {
        id: `T-${String(this.ctx.store.nextId('task')).padStart(8, '0')}`,
        lineId: line.id,
        orderId: line.orderId,
        step: d.step,
        kind: d.kind,
        deviceClass: d.deviceClass,
        deviceId: d.deviceId,
        state: 'CREATED',
        loadId: d.loadId,
        plan: d.plan,
        progress: { applied: [] },
        attempts: 0,
        createdAt: now,
        updatedAt: now,
      };
      this.ctx.store.insertTask(task);
      planned.push({ id: task.id, step: d.step, kind: d.kind, deviceId: d.deviceId ?? null, loadId: d.loadId ?? null });
    }
    after(this.onTasksCreated);
    // The plan is journaled with the release, one event, rather than one per task.
    return this.apply(line, { type: 'line.release' }, after, { data: { tasks: planned } });
  }

  /**
   * A line sourced to another site of the network is released by handing it to that site: a
   * durable message on its hand-over topic, sent once the transaction commits. That site's own
   * execution plans and picks it; this core keeps the reservation and the line's record.
   */
  private handOver(line: LineRecord, after: AfterCommit): LineRecord {
    const site = line.site ?? '';
    const order = this.ctx.store.getOrder(line.orderId);
    const message = {
      type: 'line.handover',
      fromSite: this.ctx.siteId,
      orderId: line.orderId,
      externalId: order?.externalId ?? null,
      lineId: line.id,
      sku: line.sku,
      quantity: unpicked(line),
      shipTo: order?.body.shipTo ?? null,
      promiseDate: line.snapshot.context.promiseDate,
      at: this.ctx.clock.now(),
    };
    this.ctx.store.enqueue({
      topic: siteHandoverTopic(site),
      payload: Buffer.from(JSON.stringify(message)),
      qos: 1,
      retain: false,
      expirySeconds: undefined,
      correlation: undefined,
    });
    after(this.onTasksCreated);
    return this.apply(line, { type: 'line.release' }, after, { data: { handedOverTo: site } });
  }

  /** A device confirmed the pick: stock leaves the location, the reservation is consumed. */
  recordPick(line: LineRecord, quantity: number, after: AfterCommit, source: Record<string, unknown>): LineRecord {
    if (!line.location || !line.site) return line;
    this.ctx.store.adjustStock(line.site, line.location, line.sku, { onHand: -quantity, reserved: -quantity });
    this.ctx.store.appendEvent({
      type: 'stock.picked',
      aggregateType: 'stock',
      aggregateId: `${line.site}/${line.location}/${line.sku}`,
      orderId: line.orderId,
      actor: undefined,
      data: { lineId: line.id, sku: line.sku, quantity, location: line.location, ...source },
    });
    after(() => {
      this.ctx.telemetry.recordLinePicked(line.zone, quantity);
      this.ctx.notifier.publish({
        type: 'stock.updated',
        at: this.ctx.clock.now(),
        data: { sku: line.sku, site: line.site, location: line.location },
      });
    });
    return this.apply(line, { type: 'line.pick', quantity }, after, { data: source });
  }

  /** Execution failed: give the stock back and source the line again, or give up after N tries. */
  fail(line: LineRecord, reason: string, after: AfterCommit, cause: FailureCause = {}): LineRecord {
    const wasReserved = line.location !== undefined && (line.state === 'RELEASED' || line.state === 'PICKING');
    const next = this.apply(line, { type: 'line.fail', reason, maxAttempts: this.ctx.maxLineAttempts }, after, { data: { reason, ...(cause.shortBy ? { shortBy: cause.shortBy } : {}) } });
    if (next.state === line.state) return next;
    const actions: string[] = [];
    if (wasReserved) {
      const released = this.releaseReservation(line);
      if (released > 0) actions.push(`released the reservation of ${released} at ${line.location ?? '?'}`);
    }
    if (cause.shortBy && wasReserved) actions.push(...this.correctShortStock(line, cause.shortBy));
    let result = next;
    if (next.state === 'CREATED') {
      // Sourced again, it waits for the release pass like any new line.
      result = this.source(next, after, 'retry', { raiseUnroutable: false });
      actions.push(describeSourcing(result, unpicked(result)));
    } else {
      actions.push(`attempt ${next.snapshot.context.attempts} of ${this.ctx.maxLineAttempts} failed: line marked UNROUTABLE`);
    }
    const gaveUp = result.state === 'UNROUTABLE';
    this.exceptions.raise(
      {
        type: cause.shortBy ? 'short-pick' : next.state === 'UNROUTABLE' ? 'attempts-exhausted' : (cause.type ?? 'task-failed'),
        status: gaveUp ? 'open' : 'handled',
        orderId: line.orderId,
        lineId: line.id,
        taskId: cause.taskId,
        deviceId: cause.deviceId,
        summary: `${line.id} (${line.sku}): ${reason}`,
        detail: { sku: line.sku, quantity: line.quantity, picked: line.snapshot.context.picked, location: line.location ?? null, attempts: next.snapshot.context.attempts, reason, shortBy: cause.shortBy ?? null },
        actions,
      },
      after,
    );
    return result;
  }

  /**
   * A device found fewer units than the location books: the books follow the floor. On hand
   * drops by what was missing, but never below what other lines have reserved there (those
   * reservations stand until their own picks tell); the difference is left for a count.
   */
  private correctShortStock(line: LineRecord, missing: number): string[] {
    if (!line.site || !line.location) return [];
    const position = this.ctx.store.stockAt(line.site, line.location, line.sku);
    if (!position) return [];
    const correction = Math.min(missing, position.onHand - position.reserved);
    const out: string[] = [];
    if (correction > 0) {
      this.ctx.store.adjustStock(line.site, line.location, line.sku, { onHand: -correction });
      this.stockEvent(line, 'stock.adjusted', correction, undefined, { delta: -correction, reason: 'short-pick', reportedMissing: missing });
      out.push(`corrected on hand at ${line.location} by -${correction}: the device found ${missing} fewer than booked`);
    }
    if (correction < missing) out.push(`${missing - Math.max(0, correction)} more are booked at ${line.location} than were found, reserved for other lines: count the location`);
    return out;
  }

  /** Gives back the part of the line's reservation that picks have not consumed yet. */
  releaseReservation(line: LineRecord, actor?: string): number {
    const remaining = unpicked(line);
    if (!line.site || !line.location || remaining === 0) return 0;
    this.ctx.store.adjustStock(line.site, line.location, line.sku, { reserved: -remaining });
    this.stockEvent(line, 'stock.reservationReleased', remaining, actor);
    return remaining;
  }


  /**
   * Gives back what a canceled line still holds: the reservation not yet consumed by picks, and
   * picked goods (in a tote, not shipped) back on hand at the line's location, so stock is
   * conserved. Returns the quantities. Only for lines that hold a reservation or picked goods.
   */
  compensateStock(line: LineRecord, after: AfterCommit, actor?: string): { released: number; restocked: number } {
    if (!line.site || !line.location) return { released: 0, restocked: 0 };
    const holding: readonly LineState[] = ['SOURCED', 'RELEASED', 'PICKING', 'PICKED', 'PACKED'];
    if (!holding.includes(line.state)) return { released: 0, restocked: 0 };
    const picked = line.quantity - unpicked(line);
    const released = this.releaseReservation(line, actor);
    if (picked > 0) {
      this.ctx.store.adjustStock(line.site, line.location, line.sku, { onHand: picked });
      this.stockEvent(line, 'stock.restocked', picked, actor, { reason: 'line canceled after pick' });
    }
    const { sku, site, location } = line;
    after(() => this.ctx.notifier.publish({ type: 'stock.updated', at: this.ctx.clock.now(), data: { sku, site, location } }));
    return { released, restocked: picked };
  }

  private stockEvent(line: LineRecord, type: string, quantity: number, actor: string | undefined, data: Record<string, unknown> = {}): void {
    this.ctx.store.appendEvent({
      type,
      aggregateType: 'stock',
      aggregateId: `${line.site ?? ''}/${line.location ?? ''}/${line.sku}`,
      orderId: line.orderId,
      actor,
      data: { lineId: line.id, sku: line.sku, quantity, location: line.location, ...data },
    });
  }

  /**
   * Runs `fn` (inside the caller's transaction) and refreshes each touched order once at the
   * end, instead of after every line transition: intake moves three lines through two states
   * each, and six refreshes of one order would do the same work six times.
   */
  batch<T>(after: AfterCommit, fn: () => T): T {
    if (this.deferredOrders) return fn();
    const touched = new Set<string>();
    this.deferredOrders = touched;
    let result: T;
    try {
      result = fn();
    } finally {
      this.deferredOrders = undefined;
    }
    for (const orderId of touched) this.refreshOrder(orderId, after);
    return result;
  }

  /** Recomputes the order's derived fulfilment; closes the order when every line is done. */
  refreshOrder(orderId: string, after: AfterCommit): void {
    const order = this.ctx.store.getOrder(orderId);
    if (!order) return;
    const lines = this.ctx.store.linesOf(orderId);
    const states = lines.map((l) => l.state);
    const fulfilment = deriveFulfilment(states);
    let snapshot = order.snapshot;
    let status = order.status;
    if (allLinesDone(states) && status === 'OPEN') {
      const closed = applyEvent(orderMachine, snapshot, { type: 'order.close' });
      snapshot = closed.next;
      status = closed.to as typeof status;
      this.ctx.store.appendEvent({
        type: 'order.closed',
        aggregateType: 'order',
        aggregateId: orderId,
        orderId,
        actor: undefined,
        data: { from: closed.from, to: closed.to },
      });
    }
    if (fulfilment === order.fulfilment && status === order.status) return;
    const now = this.ctx.clock.now();
    this.ctx.store.updateOrder(orderId, { status, fulfilment, snapshot: snapshot, updatedAt: now });
    after(() =>
      this.ctx.notifier.publish({
        type: 'order.updated',
        at: now,
        data: { id: orderId, status, fulfilment, lines: lines.map((l) => ({ id: l.id, sku: l.sku, quantity: l.quantity, state: l.state })) },
      }),
    );
  }

  private zoneOf(location: string): 'amr' | 'asrs' | undefined {
    return this.ctx.locations.get(location)?.zone;
  }

  /**
   * Spreads AS/RS work over ports and arm stations by how many lines this core has sent through
   * each: O(1) per release, where counting queued tasks in the store grew with the backlog.
   * Load-aware assignment (queues, travel) belongs to the dispatcher.
   */
  private equipmentLoad(): { portLoad: Map<string, number>; stationLoad: Map<string, number> } {
    return { portLoad: this.portsUsed, stationLoad: this.stationsUsed };
  }

  private rememberPack(orderId: string, stationId: string): void {
    if (this.packOfOrder.get(orderId) === stationId) return;
    this.packOfOrder.set(orderId, stationId);
    this.countUse({ stationId });
    // Bounded: orders planned long ago are done; forgetting one only loses the preference.
    if (this.packOfOrder.size > PACK_MEMORY) this.packOfOrder.delete(this.packOfOrder.keys().next().value as string);
  }

  private countUse(plan: { portId?: string; stationId?: string }): void {
    if (plan.portId) this.portsUsed.set(plan.portId, (this.portsUsed.get(plan.portId) ?? 0) + 1);
    if (plan.stationId) this.stationsUsed.set(plan.stationId, (this.stationsUsed.get(plan.stationId) ?? 0) + 1);
  }


}

const PACK_MEMORY = 10_000;

/** Units of the line not picked yet: what its reservation still covers. */
function unpicked(line: LineRecord): number {
  return Math.max(0, line.quantity - Math.min(line.quantity, line.snapshot.context.picked));
}

/** One sentence on where re-sourcing left a line, for an exception's actions. */
function describeSourcing(line: LineRecord, quantity: number): string {
  const promise = line.snapshot.context.promiseDate;
  switch (line.state) {
    case 'SOURCED':
      return `re-sourced the remaining ${quantity} at ${line.site ?? '?'}/${line.location ?? '?'}`;
    case 'BACKORDERED':
      return `no position can fill the remaining ${quantity} now: backordered, promised ${promise === null ? 'later' : new Date(promise).toISOString()}`;
    default:
      return `re-sourcing left the line ${line.state}${line.snapshot.context.reason ? `: ${line.snapshot.context.reason}` : ''}`;
  }
}
