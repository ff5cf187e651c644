/**
 * Packing and shipping (issue 4 item 1, DESIGN §3 lines PICKED -> PACKED -> SHIPPED -> DELIVERED).
 *
 * - A line's tote reaches the pack station when its picking step is done: an AMR trip's drop at
 *   the pack station, or an arm's pick into the order tote at its arm station. The demo layouts
 *   model no transport from an arm station to the pack station (arm stations have no graph node
 *   and the conveyor loop does not reach pack-1), so the arm station's order tote is taken over
 *   to the order's pack station when the arm finishes; the pack time covers the hand-over.
 * - When every line the site still owes for the order is there (src/domain/consolidation.ts), a
 *   shipment starts PACKING with an absolute deadline in the store; the core's scheduler (a timer
 *   to the earliest deadline, re-armed from the store on start, plus the periodic sweep) packs it:
 *   its lines become PACKED, and it is due to leave at its carrier's next cut-off.
 * - It is SHIPPED at that cut-off, or earlier when an operator confirms it; DELIVERED when the
 *   carrier (or an operator for it) confirms delivery. Confirmations are idempotent and journaled
 *   with who confirmed.
 * Every change runs in one store transaction with its journal entries; live events go after commit.
 */
import { carrierChosen, consolidate } from '../domain/consolidation.js';
import type { LineRecord, TaskRecord } from '../domain/records.js';
import { confirmationVerdict, departureAt, packDurationMs, type PackTiming, type ShipmentAction, type ShipmentRecord, type ShipmentStatus, type ShipmentStore } from '../domain/shipment.js';
import type { SiteProfile } from '../domain/sourcing.js';
import { PickwireError } from '../errors.js';
import type { AppContext } from './context.js';
import type { AfterCommit, LineService } from './line-service.js';
import { runInTransaction } from './unit-of-work.js';

export interface PackServiceOptions {
  timing: PackTiming;
  /** Ship packed parcels at their carrier's cut-off without waiting for a confirmation. */
  shipAtCutoff: boolean;
}

/** What the API shows of a shipment: times as ISO strings. */
export interface ShipmentView {
  id: string;
  orderId: string;
  site: string;
  stationId: string;
  status: ShipmentStatus;
  lineIds: string[];
  units: number;
  carrier: string | null;
  packStartedAt: string;
  packDueAt: string;
  packedAt: string | null;
  shipDueAt: string | null;
  shippedAt: string | null;
  shippedBy: string | null;
  trackingNumber: string | null;
  deliveredAt: string | null;
  deliveredBy: string | null;
  canceledAt: string | null;
}

/** Shipments handled per scheduler pass (the rest follow right after), and per transaction. */
const DUE_BATCH = 50;
const DUE_PER_TRANSACTION = 25;
/** Orders with totes at pack re-checked per sweep (a sibling line canceled or backordered meanwhile). */
const WAITING_BATCH = 500;
/** Longest single timer; a later deadline is re-armed when it fires. */
const MAX_TIMER_MS = 3600_000;
/** A deadline whose step failed is tried again after this long (and by every sweep). */
const RETRY_MS = 1000;
/** Who the journal names for what the scheduler does on its own. */
const SCHEDULER = 'pack-scheduler';

export class PackService {
  private timer: { at: number; cancel: () => void } | undefined;
  private stopped = false;
  private readonly sites: ReadonlyMap<string, SiteProfile>;
  private readonly packStations: readonly string[];

  constructor(
    private readonly ctx: AppContext,
    private readonly shipments: ShipmentStore,
    private readonly lines: LineService,
    sites: readonly SiteProfile[],
    private readonly opts: PackServiceOptions,
  ) {
    this.sites = new Map(sites.map((s) => [s.id, s]));
    this.packStations = ctx.layout.stations.filter((s) => s.kind === 'pack').map((s) => s.id);
  }

  /** Picks up the deadlines the store holds (after a restart, the overdue ones at once). */
  start(): void {
    this.stopped = false;
    this.armFromStore();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  // ---- arrivals and consolidation (inside the caller's transaction) ---------------------------

  /**
   * A picking step finished (task-progress.ts): if it left the line PICKED, its tote is at the
   * pack station now; the order's shipment is started when nothing else is on its way.
   */
  toteArrived(task: TaskRecord, after: AfterCommit): void {
    if (task.kind !== 'amr.pickTrip' && task.kind !== 'arm.pick') return;
    const line = this.ctx.store.getLine(task.lineId);
    if (!line || line.state !== 'PICKED' || line.site !== this.ctx.siteId) return;
    const now = this.ctx.clock.now();
    const stationId = task.kind === 'amr.pickTrip' ? (task.plan.stationId ?? this.packStationOf(line.orderId, task)) : this.packStationOf(line.orderId, task);
    this.shipments.recordArrival({ lineId: line.id, orderId: line.orderId, site: this.ctx.siteId, stationId, taskId: task.id, arrivedAt: now, shipmentId: undefined });
    this.ctx.store.appendEvent({
      type: 'order.toteAtPack',
      aggregateType: 'order',
      aggregateId: line.orderId,
      orderId: line.orderId,
      actor: undefined,
      at: now,
      data: { lineId: line.id, stationId, taskId: task.id, via: task.kind === 'amr.pickTrip' ? 'amr-drop' : `arm-station ${task.plan.stationId ?? '?'}` },
    });
    this.packIfComplete(line.orderId, after);
  }

  /**
   * Lines of the order were canceled (cancellation.ts, after all of them): their totes leave
   * the consolidation, a parcel in packing or packed loses them (and is canceled when empty), and
   * the rest of the order may now be complete.
   */
  linesCanceled(orderId: string, canceled: readonly LineRecord[], actor: string | undefined, after: AfterCommit): void {
    const ids = new Set(canceled.map((l) => l.id));
    for (const id of ids) this.shipments.dropArrival(id);
    const now = this.ctx.clock.now();
    for (const s of this.shipments.shipmentsOfOrder(orderId)) {
      if ((s.status !== 'PACKING' && s.status !== 'PACKED') || !s.lineIds.some((id) => ids.has(id))) continue;
      const removed = s.lineIds.filter((id) => ids.has(id));
      const lineIds = s.lineIds.filter((id) => !ids.has(id));
      const units = canceled.filter((l) => removed.includes(l.id)).reduce((n, l) => n - l.quantity, s.units);
      const next: ShipmentRecord =
        lineIds.length === 0
          ? { ...s, lineIds, units: 0, status: 'CANCELED', canceledAt: now, updatedAt: now }
          : { ...s, lineIds, units: Math.max(0, units), updatedAt: now };
      this.shipments.updateShipment(next);
      this.journal(next, next.status === 'CANCELED' ? 'shipment.canceled' : 'shipment.linesRemoved', actor, now, { removed, from: s.status, reason: 'line canceled' });
      after(() => this.notify(next));
    }
    this.packIfComplete(orderId, after);
  }

  /** Whether consolidating the order now would change anything (a parcel to start, a stale tote to drop). */
  private mayConsolidate(orderId: string): boolean {
    const arrivals = this.shipments.unpackedArrivals(orderId, this.ctx.siteId);
    const lines = this.ctx.store.linesOf(orderId);
    const state = new Map(lines.map((l) => [l.id, l.state]));
    return arrivals.some((a) => state.get(a.lineId) !== 'PICKED') || consolidate(this.ctx.siteId, lines, arrivals).kind === 'ready';
  }

  /** Starts the order's shipment at this site if every line it waits for is at the pack station. */
  private packIfComplete(orderId: string, after: AfterCommit): ShipmentRecord | undefined {
    const site = this.ctx.siteId;
    const arrivals = this.shipments.unpackedArrivals(orderId, site);
    if (arrivals.length === 0) return undefined;
    const lines = this.ctx.store.linesOf(orderId);
    const byId = new Map(lines.map((l) => [l.id, l]));
    // A tote whose line was canceled, or went back to sourcing, is no longer a part of the parcel.
    for (const a of arrivals) if (byId.get(a.lineId)?.state !== 'PICKED') this.shipments.dropArrival(a.lineId);
    const verdict = consolidate(site, lines, arrivals);
    if (verdict.kind !== 'ready') return undefined;
    const now = this.ctx.clock.now();
    const startAt = Math.max(now, verdict.startAt);
    const shipment: ShipmentRecord = {
      id: `SH-${String(this.ctx.store.nextId('shipment')).padStart(8, '0')}`,
      orderId,
      site,
      stationId: verdict.stationId,
      status: 'PACKING',
      lineIds: verdict.lineIds,
      units: verdict.units,
      carrier: carrierChosen(this.ctx.store.orderEvents(orderId), site, verdict.lineIds) ?? this.sites.get(site)?.carriers[0]?.id,
      packStartedAt: startAt,
      packDueAt: startAt + packDurationMs(verdict.units, this.opts.timing),
      packedAt: undefined,
      shipDueAt: undefined,
      shippedAt: undefined,
      shippedBy: undefined,
      trackingNumber: undefined,
      deliveredAt: undefined,
      deliveredBy: undefined,
      canceledAt: undefined,
      createdAt: now,
      updatedAt: now,
    };
    this.shipments.insertShipment(shipment);
    this.shipments.assignArrivals(shipment.lineIds, shipment.id);
    this.journal(shipment, 'shipment.packingStarted', undefined, now, {
      lineIds: shipment.lineIds,
      units: shipment.units,
      stationId: shipment.stationId,
      carrier: shipment.carrier ?? null,
      packDueAt: shipment.packDueAt,
    });
    after(() => {
      this.notify(shipment);
      this.arm(shipment.packDueAt);
    });
    return shipment;
  }

  // ---- the scheduler -------------------------------------------------------------------------

  /**
   * The periodic pass: deadlines that are due, then orders with totes at pack whose siblings may
   * have changed (backordered, re-sourced elsewhere) since their last tote arrived.
   */
  sweep(): void {
    const more = this.runDue();
    for (const orderId of this.shipments.ordersWaitingAtPack(this.ctx.siteId, WAITING_BATCH)) {
      // Read first: most waiting orders are still waiting, and a write transaction costs an fsync.
      if (!this.mayConsolidate(orderId)) continue;
      this.guarded(orderId, () => runInTransaction(this.ctx.store, (after) => this.packIfComplete(orderId, after)));
    }
    if (more) this.arm(this.ctx.clock.now());
    else this.armFromStore(RETRY_MS);
  }

  /**
   * Packs the shipments whose pack time is over and ships those whose cut-off has come: many
   * parcels leave at one cut-off, so they share a transaction (one fsync), each in its own
   * savepoint so that one that fails is rolled back alone. True when more may be due.
   */
  private runDue(): boolean {
    const now = this.ctx.clock.now();
    const due = this.shipments.dueShipments(now, DUE_BATCH, { ship: this.opts.shipAtCutoff });
    for (let i = 0; i < due.length; i += DUE_PER_TRANSACTION) {
      const chunk = due.slice(i, i + DUE_PER_TRANSACTION);
      this.guarded('due shipments', () =>
        runInTransaction(this.ctx.store, (after) => {
          for (const s of chunk) {
            const effects: (() => void)[] = [];
            this.guarded(s.id, () => {
              this.ctx.store.tx(() => this.runDeadline(s.id, now, (effect) => effects.push(effect)));
              for (const effect of effects) after(effect);
            });
          }
        }),
      );
    }
    return due.length === DUE_BATCH;
  }

  private runDeadline(id: string, now: number, after: AfterCommit): void {
    // Read again inside the transaction: a confirmation may have moved it meanwhile.
    const current = this.shipments.getShipment(id);
    if (current?.status === 'PACKING' && current.packDueAt <= now) this.finishPacking(current, after);
    else if (current?.status === 'PACKED' && current.shipDueAt !== undefined && current.shipDueAt <= now) this.markShipped(current, SCHEDULER, undefined, current.shipDueAt, after, 'carrier cut-off');
  }

  private guarded(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.logger.error({ err, what }, 'pack scheduler step failed; retried on the next sweep');
    }
  }

  /**
   * `retryAfterMs`: right after a pass, a deadline still due is one whose step failed (logged);
   * it is tried again after this delay rather than at once, in a loop.
   */
  private armFromStore(retryAfterMs = 0): void {
    const at = this.shipments.nextDeadline({ ship: this.opts.shipAtCutoff });
    if (at !== undefined) this.arm(Math.max(at, this.ctx.clock.now() + retryAfterMs));
  }

  /** One timer, to the earliest deadline known; a later one is picked up when it fires. */
  private arm(deadline: number): void {
    // Far deadlines wake the timer early and are re-armed then (timers overflow past ~24.8 days).
    const now = this.ctx.clock.now();
    const at = Math.min(deadline, now + MAX_TIMER_MS);
    if (this.stopped || (this.timer && this.timer.at <= at)) return;
    this.timer?.cancel();
    const cancel = this.ctx.clock.setTimer(Math.max(0, at - now), () => {
      this.timer = undefined;
      if (this.stopped) return;
      // A full batch: the rest goes next, after whatever else waits on the event loop.
      if (this.runDue()) this.arm(this.ctx.clock.now());
      else this.armFromStore(RETRY_MS);
    });
    this.timer = { at, cancel };
  }

  /** The pack time is over: the lines still in the parcel become PACKED; it waits for its carrier. */
  private finishPacking(s: ShipmentRecord, after: AfterCommit): void {
    const now = this.ctx.clock.now();
    const packed: string[] = [];
    // One refresh of the order for the whole parcel, not one per line.
    this.lines.batch(after, () => {
      for (const id of s.lineIds) {
        const line = this.ctx.store.getLine(id);
        if (line?.state !== 'PICKED') continue;
        const next = this.lines.apply(line, { type: 'line.pack' }, after, { actor: SCHEDULER, data: { shipmentId: s.id, stationId: s.stationId } });
        if (next.state === 'PACKED') packed.push(id);
      }
    });
    const packedAt = s.packDueAt;
    const next: ShipmentRecord =
      packed.length === 0
        ? { ...s, lineIds: [], units: 0, status: 'CANCELED', canceledAt: now, updatedAt: now }
        : { ...s, lineIds: packed, status: 'PACKED', packedAt, shipDueAt: departureAt(packedAt, this.sites.get(s.site), s.carrier), updatedAt: now };
    this.shipments.updateShipment(next);
    this.journal(next, next.status === 'PACKED' ? 'shipment.packed' : 'shipment.canceled', SCHEDULER, now, {
      lineIds: next.lineIds,
      packedAt,
      carrier: next.carrier ?? null,
      shipDueAt: next.shipDueAt ?? null,
    });
    after(() => {
      this.notify(next);
      if (next.shipDueAt !== undefined && this.opts.shipAtCutoff) this.arm(next.shipDueAt);
    });
  }

  // ---- confirmations (operator or carrier) ---------------------------------------------------

  /** The shipment left with its carrier: its lines become SHIPPED. Repeating it changes nothing. */
  ship(id: string, actor: string, opts: { trackingNumber?: string } = {}): ShipmentView {
    return this.confirm(id, 'ship', (s, after) => this.markShipped(s, actor, opts.trackingNumber, this.ctx.clock.now(), after, 'confirmed'));
  }

  /** The carrier delivered the shipment: its lines become DELIVERED (the order closes when none is left). */
  deliver(id: string, actor: string): ShipmentView {
    return this.confirm(id, 'deliver', (s, after) => this.markDelivered(s, actor, after));
  }

  private confirm(id: string, action: ShipmentAction, apply: (s: ShipmentRecord, after: AfterCommit) => ShipmentRecord): ShipmentView {
    return runInTransaction(this.ctx.store, (after) => {
      const s = this.shipments.getShipment(id);
      if (!s) throw new PickwireError('PW_ERR_NOT_FOUND', `no shipment ${id}`);
      const verdict = confirmationVerdict(s.status, action);
      if (verdict.verdict === 'refuse') {
        throw new PickwireError('PW_ERR_INVALID_STATE', `shipment ${id} is ${s.status}: ${verdict.reason}`, {
          details: [{ path: '/status', problem: `${action} is not possible while the shipment is ${s.status}` }],
        });
      }
      return shipmentView(verdict.verdict === 'repeat' ? s : apply(s, after));
    });
  }

  private markShipped(s: ShipmentRecord, actor: string, trackingNumber: string | undefined, at: number, after: AfterCommit, how: 'confirmed' | 'carrier cut-off'): ShipmentRecord {
    const now = this.ctx.clock.now();
    this.lines.batch(after, () => {
      for (const id of s.lineIds) {
        const line = this.ctx.store.getLine(id);
        if (line?.state === 'PACKED') this.lines.apply(line, { type: 'line.ship' }, after, { actor, data: { shipmentId: s.id, carrier: s.carrier ?? null, how } });
      }
    });
    const next: ShipmentRecord = { ...s, status: 'SHIPPED', shippedAt: at, shippedBy: actor, trackingNumber: trackingNumber ?? s.trackingNumber, updatedAt: now };
    this.shipments.updateShipment(next);
    this.journal(next, 'shipment.shipped', actor, now, { lineIds: next.lineIds, carrier: next.carrier ?? null, shippedAt: at, how, trackingNumber: next.trackingNumber ?? null });
    after(() => this.notify(next));
    return next;
  }

  private markDelivered(s: ShipmentRecord, actor: string, after: AfterCommit): ShipmentRecord {
    const now = this.ctx.clock.now();
    this.lines.batch(after, () => {
      for (const id of s.lineIds) {
        const line = this.ctx.store.getLine(id);
        if (line?.state === 'SHIPPED') this.lines.apply(line, { type: 'line.deliver' }, after, { actor, data: { shipmentId: s.id, carrier: s.carrier ?? null } });
      }
    });
    const next: ShipmentRecord = { ...s, status: 'DELIVERED', deliveredAt: now, deliveredBy: actor, updatedAt: now };
    this.shipments.updateShipment(next);
    this.journal(next, 'shipment.delivered', actor, now, { lineIds: next.lineIds, carrier: next.carrier ?? null });
    after(() => this.notify(next));
    return next;
  }

  // ---- reads ---------------------------------------------------------------------------------

  get(id: string): ShipmentView {
    const s = this.shipments.getShipment(id);
    if (!s) throw new PickwireError('PW_ERR_NOT_FOUND', `no shipment ${id}`);
    return shipmentView(s);
  }

  list(q: { orderId?: string; status?: ShipmentStatus; limit: number }): ShipmentView[] {
    const found =
      q.orderId !== undefined
        ? this.shipments.shipmentsOfOrder(q.orderId).filter((s) => q.status === undefined || s.status === q.status).slice(0, q.limit)
        : this.shipments.listShipments({ limit: q.limit, ...(q.status ? { status: q.status } : {}) });
    return found.map(shipmentView);
  }

  // ---- helpers -------------------------------------------------------------------------------

  /**
   * The pack station an arm station's order tote goes to: where the order's other totes are,
   * else the site's first pack station; a site without one packs at the arm station itself.
   */
  private packStationOf(orderId: string, task: TaskRecord): string {
    const others = this.shipments.unpackedArrivals(orderId, this.ctx.siteId).find((a) => this.packStations.includes(a.stationId));
    return others?.stationId ?? this.packStations[0] ?? task.plan.stationId ?? 'pack';
  }

  private journal(s: ShipmentRecord, type: string, actor: string | undefined, at: number, data: Record<string, unknown>): void {
    this.ctx.store.appendEvent({ type, aggregateType: 'shipment', aggregateId: s.id, orderId: s.orderId, actor, at, data: { site: s.site, status: s.status, ...data } });
  }

  private notify(s: ShipmentRecord): void {
    this.ctx.notifier.publish({ type: 'shipment.updated', at: this.ctx.clock.now(), data: { ...shipmentView(s) } });
  }
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function shipmentView(s: ShipmentRecord): ShipmentView {
  return {
    id: s.id,
    orderId: s.orderId,
    site: s.site,
    stationId: s.stationId,
    status: s.status,
    lineIds: s.lineIds,
    units: s.units,
    carrier: s.carrier ?? null,
    packStartedAt: new Date(s.packStartedAt).toISOString(),
    packDueAt: new Date(s.packDueAt).toISOString(),
    packedAt: iso(s.packedAt),
    shipDueAt: iso(s.shipDueAt),
    shippedAt: iso(s.shippedAt),
    shippedBy: s.shippedBy ?? null,
    trackingNumber: s.trackingNumber ?? null,
    deliveredAt: iso(s.deliveredAt),
    deliveredBy: s.deliveredBy ?? null,
    canceledAt: iso(s.canceledAt),
  };
}
