/**
 * Inventory use cases (DESIGN §4, §9): receipts and adjustments with reasons, each journaled in
 * the same transaction that changes the stock position; backorders sourced again once stock
 * arrives; and available-to-promise with the earliest promise date for a quantity.
 *
 * Invariants kept here: reserved <= on hand at every position (checked before the write, and
 * the store's CHECK constraint backs it up), and every change of on hand is one journal entry
 * (`stock.received`, `stock.adjusted`) carrying the actor, the reason and the resulting figures.
 */
import { atp, choosePosition } from '../domain/stock.js';
import type { StockPosition } from '../domain/records.js';
import type { StorageLocation } from '../domain/site-layout.js';
import { PickwireError, type ErrorDetail } from '../errors.js';
import type { AppContext } from './context.js';
import { BACKORDER_PROMISE_MS, type AfterCommit, type LineService } from './line-service.js';
import { stockView } from './queries.js';
import { runInTransaction } from './unit-of-work.js';

export const ADJUSTMENT_REASONS = ['count', 'damage', 'loss', 'found', 'correction', 'other'] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];

export interface ReceiptInput {
  site?: string | undefined;
  location: string;
  sku: string;
  quantity: number;
  reason: string;
  reference?: string | undefined;
}

export interface AdjustmentInput {
  site?: string | undefined;
  location: string;
  sku: string;
  delta: number;
  reason: AdjustmentReason;
  note?: string | undefined;
}

/** A backordered line that a receipt or adjustment sourced again. */
export interface ResourcedLine {
  lineId: string;
  orderId: string;
  quantity: number;
  state: string;
  location: string | null;
}

export type StockPositionView = StockPosition & { atp: number };

export interface StockChangeResult {
  /** The position after the change and after backorders took what they could. */
  position: StockPositionView;
  resourced: ResourcedLine[];
}

export type PromiseBasis = 'same-day' | 'next-day' | 'backorder';

export interface SiteAvailability {
  site: string;
  name: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  /** Sum of ATP over the site's positions of the SKU. */
  atp: number;
  /** The most one line can get today: lines are sourced from one position, never split. */
  maxFillable: number;
  canFill: boolean;
  /** Site-local calendar date (YYYY-MM-DD) the quantity can ship. */
  promiseDate: string;
  promise: PromiseBasis;
}

export interface AvailabilityView {
  sku: string;
  quantity: number;
  postalCode: string | null;
  sites: SiteAvailability[];
  earliest: { site: string; promiseDate: string; promise: PromiseBasis };
  cutoff: { localTime: string; timeZone: string };
}

export interface InventoryServiceOptions {
  /** Site-local hour (0-23) before which an in-stock order ships the same day. Default 14. */
  cutoffHour?: number;
  /**
   * IANA time zone of the site. Default: the time zone of the host, since the core runs at its
   * site. Per-site zones and carrier cut-offs arrive with multi-site sourcing.
   */
  timeZone?: string;
}

const DAY_MS = 24 * 3600 * 1000;

export class InventoryService {
  private readonly cutoffHour: number;
  private readonly timeZone: string;
  private readonly localFormat: Intl.DateTimeFormat;

  constructor(
    private readonly ctx: AppContext,
    private readonly lines: LineService,
    opts: InventoryServiceOptions = {},
  ) {
    this.cutoffHour = opts.cutoffHour ?? 14;
    this.timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.localFormat = new Intl.DateTimeFormat('en-CA', {
      timeZone: this.timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** Goods arrived at a location: on hand goes up, then backorders of the SKU are sourced. */
  receive(input: ReceiptInput, actor?: string): StockChangeResult {
    if (!Number.isInteger(input.quantity) || input.quantity <= 0) {
      throw new PickwireError('PW_ERR_VALIDATION', 'quantity must be a positive integer', { details: [{ path: '/quantity', problem: 'must be an integer > 0' }] });
    }
    const { site, location } = this.resolve(input);
    const { store } = this.ctx;
    runInTransaction(store, (after) =>
      this.changeOnHand({ site, location, sku: input.sku }, input.quantity, 'stock.received', actor, after, {
        quantity: input.quantity,
        reason: input.reason,
        reference: input.reference ?? null,
      }),
    );
    const resourced = this.resourceBackorders(input.sku);
    return { position: stockView(this.mustGet(site, location.id, input.sku)), resourced };
  }

  /**
   * A correction of on hand with a reason. Refused (409, nothing changed) when it would leave
   * less on hand than is reserved for open lines; a positive one sources backorders afterwards.
   */
  adjust(input: AdjustmentInput, actor?: string): StockChangeResult {
    if (!Number.isInteger(input.delta) || input.delta === 0) {
      throw new PickwireError('PW_ERR_VALIDATION', 'delta must be a non-zero integer', { details: [{ path: '/delta', problem: 'must be a non-zero integer' }] });
    }
    const { site, location } = this.resolve(input);
    const { store } = this.ctx;
    runInTransaction(store, (after) => {
      const before = store.stockAt(site, location.id, input.sku);
      const reserved = before?.reserved ?? 0;
      const onHand = (before?.onHand ?? 0) + input.delta;
      if (onHand < reserved) {
        const problem = `on hand would become ${onHand}, below the ${reserved} reserved for open lines`;
        throw new PickwireError(
          'PW_ERR_INVALID_STATE',
          `adjusting ${input.sku} at ${site}/${location.id} by ${input.delta}: ${problem}; nothing was changed`,
          { details: [{ path: '/delta', problem }] },
        );
      }
      this.changeOnHand({ site, location, sku: input.sku }, input.delta, 'stock.adjusted', actor, after, {
        delta: input.delta,
        reason: input.reason,
        note: input.note ?? null,
        onHandBefore: before?.onHand ?? 0,
      });
    });
    const resourced = input.delta > 0 ? this.resourceBackorders(input.sku) : [];
    return { position: stockView(this.mustGet(site, location.id, input.sku)), resourced };
  }

  /**
   * Moves on hand by `delta` at one position (creating it, with the layout's zone, when the SKU
   * has none there yet) and journals the change with the resulting figures.
   */
  private changeOnHand(
    at: { site: string; location: StorageLocation; sku: string },
    delta: number,
    type: 'stock.received' | 'stock.adjusted',
    actor: string | undefined,
    after: AfterCommit,
    data: Record<string, unknown>,
  ): void {
    const { store, clock } = this.ctx;
    const { site, location, sku } = at;
    const before = store.stockAt(site, location.id, sku);
    if (before) store.adjustStock(site, location.id, sku, { onHand: delta });
    else store.insertStock({ site, location: location.id, sku, zone: location.zone, onHand: delta, reserved: 0, safetyStock: 0 });
    const position = this.mustGet(site, location.id, sku);
    store.appendEvent({
      type,
      aggregateType: 'stock',
      aggregateId: `${site}/${location.id}/${sku}`,
      orderId: undefined,
      actor,
      at: clock.now(),
      data: { sku, site, location: location.id, ...data, positionCreated: before === undefined, ...figures(position) },
    });
    this.announce(position, after);
  }

  /**
   * ATP per site and the earliest promise date for `quantity`. In stock means one position can
   * fill the whole quantity (as sourcing would): it ships today before the site-local cut-off,
   * else tomorrow. Otherwise the date is the backorder promise lines get (BACKORDER_PROMISE_MS).
   */
  availability(q: { sku: string; quantity: number; postalCode?: string | undefined }): AvailabilityView {
    if (!this.ctx.store.skuExists(q.sku)) {
      throw new PickwireError('PW_ERR_UNKNOWN_SKU', `unknown SKU ${q.sku}`, { details: [{ path: '/sku', problem: `unknown SKU ${q.sku}` }] });
    }
    const now = this.ctx.clock.now();
    const positions = this.sitePositions(q.sku);
    const sum = (f: (p: StockPosition) => number): number => positions.reduce((s, p) => s + f(p), 0);
    const canFill = choosePosition(positions, q.quantity) !== undefined;
    let promise: PromiseBasis;
    let promiseDate: string;
    if (canFill) {
      const local = this.localParts(now);
      promise = local.hour < this.cutoffHour ? 'same-day' : 'next-day';
      promiseDate = promise === 'same-day' ? local.date : addDays(local.date, 1);
    } else {
      promise = 'backorder';
      promiseDate = this.localParts(now + BACKORDER_PROMISE_MS).date;
    }
    const site: SiteAvailability = {
      site: this.ctx.siteId,
      name: this.ctx.layout.site.name,
      onHand: sum((p) => p.onHand),
      reserved: sum((p) => p.reserved),
      safetyStock: sum((p) => p.safetyStock),
      atp: sum(atp),
      maxFillable: positions.reduce((m, p) => Math.max(m, atp(p)), 0),
      canFill,
      promiseDate,
      promise,
    };
    return {
      sku: q.sku,
      quantity: q.quantity,
      postalCode: q.postalCode ?? null,
      sites: [site],
      earliest: { site: site.site, promiseDate, promise },
      cutoff: { localTime: `${String(this.cutoffHour).padStart(2, '0')}:00`, timeZone: this.timeZone },
    };
  }

  /**
   * Sources BACKORDERED lines of the SKU again, earliest promise date first (then oldest order),
   * one transaction per line: a line that still cannot be filled stays BACKORDERED and the next
   * ones are tried while any single position still has ATP to give. A failure on one line rolls
   * back that line only; the stock change that triggered this has committed already.
   */
  private resourceBackorders(sku: string): ResourcedLine[] {
    const out: ResourcedLine[] = [];
    let fillable = this.maxFillable(sku);
    for (const candidate of this.ctx.store.backorderedLines(sku)) {
      if (fillable <= 0) break;
      // Sourcing takes one position per line, so a line larger than every position's ATP waits.
      if (candidate.quantity > fillable) continue;
      try {
        const done = runInTransaction(this.ctx.store, (after) => {
          const line = this.ctx.store.getLine(candidate.id);
          if (line?.state !== 'BACKORDERED') return undefined;
          const sourced = this.lines.source(line, after);
          if (sourced.state !== 'SOURCED') return undefined;
          // A held order keeps its reservation but stays off the floor until the hold is released.
          const held = this.ctx.store.holdsOf(line.orderId).some((h) => h.status === 'open');
          return held ? sourced : this.lines.release(sourced, after);
        });
        if (done) {
          out.push({ lineId: done.id, orderId: done.orderId, quantity: done.quantity, state: done.state, location: done.location ?? null });
          fillable = this.maxFillable(sku);
        }
      } catch (err) {
        this.ctx.logger.warn({ err, lineId: candidate.id, sku }, 'a backordered line could not be sourced again; it stays backordered');
      }
    }
    if (out.length > 0) this.ctx.logger.info({ sku, lines: out.length }, 'backordered lines sourced after a stock change');
    return out;
  }

  private resolve(input: { site?: string | undefined; location: string; sku: string }): { site: string; location: StorageLocation } {
    const details: ErrorDetail[] = [];
    const site = input.site ?? this.ctx.siteId;
    if (site !== this.ctx.siteId) details.push({ path: '/site', problem: `unknown site ${site}; this core runs ${this.ctx.siteId}` });
    if (!this.ctx.store.skuExists(input.sku)) details.push({ path: '/sku', problem: `unknown SKU ${input.sku}` });
    const location = this.ctx.locations.get(input.location);
    if (!location) details.push({ path: '/location', problem: `location ${input.location} is not in the layout of site ${this.ctx.siteId}` });
    if (details.length > 0 || !location) {
      // An unknown SKU is the more specific complaint; a bad site or location otherwise.
      const code = details.some((d) => d.path === '/sku') ? 'PW_ERR_UNKNOWN_SKU' : 'PW_ERR_UNKNOWN_REFERENCE';
      throw new PickwireError(code, details.map((d) => d.problem).join('; '), { details });
    }
    return { site, location };
  }

  private sitePositions(sku: string): StockPosition[] {
    return this.ctx.store.stockOf(sku).filter((p) => p.site === this.ctx.siteId);
  }

  private maxFillable(sku: string): number {
    return this.sitePositions(sku).reduce((m, p) => Math.max(m, atp(p)), 0);
  }

  private mustGet(site: string, location: string, sku: string): StockPosition {
    const p = this.ctx.store.stockAt(site, location, sku);
    if (!p) throw new PickwireError('PW_ERR_INTERNAL', `stock position ${site}/${location}/${sku} vanished`);
    return p;
  }

  private announce(p: StockPosition, after: AfterCommit): void {
    after(() =>
      this.ctx.notifier.publish({ type: 'stock.updated', at: this.ctx.clock.now(), data: { sku: p.sku, site: p.site, location: p.location, ...figures(p) } }),
    );
  }

  private localParts(ms: number): { date: string; hour: number } {
    const parts = Object.fromEntries(this.localFormat.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
    return { date: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) };
  }
}

function figures(p: StockPosition): { onHand: number; reserved: number; safetyStock: number; atp: number } {
  return { onHand: p.onHand, reserved: p.reserved, safetyStock: p.safetyStock, atp: atp(p) };
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d) + days * DAY_MS).toISOString().slice(0, 10);
}
