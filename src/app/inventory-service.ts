/**
 * Inventory use cases (DESIGN §4, §9): receipts and adjustments with reasons, each journaled in
 * the same transaction that changes the stock position; backorders sourced again once stock
 * arrives; and available-to-promise with the earliest promise date for a quantity.
 *
 * Invariants kept here: reserved <= on hand at every position (checked before the write, and
 * the store's CHECK constraint backs it up), and every change of on hand is one journal entry
 * (`stock.received`, `stock.adjusted`) carrying the actor, the reason and the resulting figures.
 */
import { atp } from '../domain/stock.js';
import { REMOTE_LOCATION, type StockPosition } from '../domain/records.js';
import { PickwireError, type ErrorDetail } from '../errors.js';
import type { AppContext } from './context.js';
import type { AfterCommit, LineService } from './line-service.js';
import type { SourcingService } from './sourcing-service.js';

/** Where stock can be booked: a layout location of this site, or another site's single position. */
type StockLocation = { id: string; zone: StockPosition['zone'] };
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
  site: string | null;
  location: string | null;
}

export type StockPositionView = StockPosition & { atp: number };

export interface StockChangeResult {
  /** The position after the change and after backorders took what they could. */
  position: StockPositionView;
  resourced: ResourcedLine[];
}

/** How a site would serve the quantity: from stock now, after replenishment, or not at all (it does not carry the SKU or ship there). */
export type PromiseBasis = 'in-stock' | 'backorder' | 'not-served';

export interface SiteAvailability {
  site: string;
  name: string;
  /** True for the site this core drives; the others are sourced to and handed over. */
  home: boolean;
  onHand: number;
  reserved: number;
  safetyStock: number;
  /** Sum of ATP over the site's positions of the SKU. */
  atp: number;
  /** The most one line can get now: lines are sourced from one position, never split. */
  maxFillable: number;
  canFill: boolean;
  promise: PromiseBasis;
  /** When the quantity would leave (a carrier cut-off) and arrive, ISO 8601; null when not served. */
  shipsAt: string | null;
  promiseDate: string | null;
  carrier: string | null;
  distanceKm: number | null;
}

export interface AvailabilityView {
  sku: string;
  quantity: number;
  postalCode: string | null;
  country: string | null;
  /** Whether the destination could be located (coordinates from the network's postal regions). */
  distanceKnown: boolean;
  sites: SiteAvailability[];
  /** The site that would deliver soonest; null when no site carries the SKU for this destination. */
  earliest: { site: string; promiseDate: string; promise: PromiseBasis } | null;
}

export class InventoryService {
  constructor(
    private readonly ctx: AppContext,
    private readonly lines: LineService,
    private readonly sourcing: SourcingService,
  ) {}

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
    at: { site: string; location: StockLocation; sku: string },
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
   * ATP per site of the network and the earliest promise date for `quantity`: each site's date
   * is what sourcing would promise if that site alone filled the line (its backlog, cut-off and
   * carrier transit, or its replenishment lead time when short), so the answer matches what an
   * order placed now would get.
   */
  availability(q: { sku: string; quantity: number; postalCode?: string | undefined; country?: string | undefined }): AvailabilityView {
    if (!this.ctx.store.skuExists(q.sku)) {
      throw new PickwireError('PW_ERR_UNKNOWN_SKU', `unknown SKU ${q.sku}`, { details: [{ path: '/sku', problem: `unknown SKU ${q.sku}` }] });
    }
    const positions = this.ctx.store.stockOf(q.sku);
    const shipTo = { postalCode: q.postalCode ?? '', country: q.country ?? '' };
    let distanceKnown = false;
    const sites = this.sourcing.sites.map((profile): SiteAvailability => {
      const mine = positions.filter((p) => p.site === profile.id);
      const sum = (f: (p: StockPosition) => number): number => mine.reduce((s, p) => s + f(p), 0);
      const maxFillable = mine.reduce((m, p) => Math.max(m, atp(p)), 0);
      const quote = this.sourcing.quote(profile.id, shipTo, q.sku, q.quantity);
      distanceKnown ||= quote.distanceKnown;
      const outcome = quote.lines[0];
      const shipment = quote.chosen?.shipments[0] ?? quote.backorders[0];
      const served = outcome !== undefined && outcome.outcome !== 'unroutable' && shipment !== undefined;
      return {
        site: profile.id,
        name: profile.name,
        home: profile.id === this.ctx.siteId,
        onHand: sum((p) => p.onHand),
        reserved: sum((p) => p.reserved),
        safetyStock: sum((p) => p.safetyStock),
        atp: sum(atp),
        maxFillable,
        canFill: maxFillable >= q.quantity,
        promise: !served ? 'not-served' : outcome.outcome === 'sourced' ? 'in-stock' : 'backorder',
        shipsAt: served ? new Date(shipment.shipsAt).toISOString() : null,
        promiseDate: served ? new Date(shipment.deliverBy).toISOString() : null,
        carrier: served ? shipment.carrier : null,
        distanceKm: served ? Math.round(shipment.distanceKm * 10) / 10 : null,
      };
    });
    let earliest: AvailabilityView['earliest'] = null;
    for (const s of sites) {
      if (s.promiseDate === null) continue;
      if (!earliest || s.promiseDate < earliest.promiseDate) earliest = { site: s.site, promiseDate: s.promiseDate, promise: s.promise };
    }
    return { sku: q.sku, quantity: q.quantity, postalCode: q.postalCode ?? null, country: q.country ?? null, distanceKnown, sites, earliest };
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
        // Sourced again, the line waits for the release pass (which skips held orders).
        const done = runInTransaction(this.ctx.store, (after) => {
          const line = this.ctx.store.getLine(candidate.id);
          if (line?.state !== 'BACKORDERED') return undefined;
          const sourced = this.lines.source(line, after, 'receipt');
          return sourced.state === 'SOURCED' ? sourced : undefined;
        });
        if (done) {
          out.push({ lineId: done.id, orderId: done.orderId, quantity: done.quantity, state: done.state, site: done.site ?? null, location: done.location ?? null });
          fillable = this.maxFillable(sku);
        }
      } catch (err) {
        this.ctx.logger.warn({ err, lineId: candidate.id, sku }, 'a backordered line could not be sourced again; it stays backordered');
      }
    }
    if (out.length > 0) this.ctx.logger.info({ sku, lines: out.length }, 'backordered lines sourced after a stock change');
    return out;
  }

  /**
   * The position a receipt or adjustment names. This site's locations come from its layout;
   * another network site keeps one position per SKU at REMOTE_LOCATION.
   */
  private resolve(input: { site?: string | undefined; location: string; sku: string }): { site: string; location: StockLocation } {
    const details: ErrorDetail[] = [];
    const site = input.site ?? this.ctx.siteId;
    const known = this.sourcing.sites.some((s) => s.id === site);
    if (!known) details.push({ path: '/site', problem: `unknown site ${site}; the network has ${this.sourcing.sites.map((s) => s.id).join(', ')}` });
    if (!this.ctx.store.skuExists(input.sku)) details.push({ path: '/sku', problem: `unknown SKU ${input.sku}` });
    let location: StockLocation | undefined;
    if (site === this.ctx.siteId) {
      location = this.ctx.locations.get(input.location);
      if (!location) details.push({ path: '/location', problem: `location ${input.location} is not in the layout of site ${this.ctx.siteId}` });
    } else if (known) {
      if (input.location === REMOTE_LOCATION) location = { id: REMOTE_LOCATION, zone: 'remote' };
      else details.push({ path: '/location', problem: `site ${site} is another site of the network: its stock is kept at location ${REMOTE_LOCATION}` });
    }
    if (details.length > 0 || !location) {
      // An unknown SKU is the more specific complaint; a bad site or location otherwise.
      const code = details.some((d) => d.path === '/sku') ? 'PW_ERR_UNKNOWN_SKU' : 'PW_ERR_UNKNOWN_REFERENCE';
      throw new PickwireError(code, details.map((d) => d.problem).join('; '), { details });
    }
    return { site, location };
  }

  /** The most one line of the SKU could get now anywhere in the network. */
  private maxFillable(sku: string): number {
    return this.ctx.store.stockOf(sku).reduce((m, p) => Math.max(m, atp(p)), 0);
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

}

function figures(p: StockPosition): { onHand: number; reserved: number; safetyStock: number; atp: number } {
  return { onHand: p.onHand, reserved: p.reserved, safetyStock: p.safetyStock, atp: atp(p) };
}
