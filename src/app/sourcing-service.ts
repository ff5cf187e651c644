/**
 * Sourcing as a use case: gathers what the pure rule engine (src/domain/sourcing.ts) needs from
 * the store — each site's largest free position per SKU, each site's backlog — and turns its
 * decision into a journal entry with the scores, so an operator can see why a line went where.
 */
import { locateShipTo, siteProfiles } from '../domain/network.js';
import type { LineRecord, ShipTo, StockPosition } from '../domain/records.js';
import { atp } from '../domain/stock.js';
import { decideSourcing, type SiteProfile, type SourcingCandidate, type SourcingDecision, type SourcingWeights } from '../domain/sourcing.js';
import type { AppContext } from './context.js';

export interface SourcingOptions {
  weights: SourcingWeights;
  minShipmentValue: number;
  /** Distance assumed when a ship-to cannot be located: every site alike, so distance decides nothing. */
  defaultDistanceKm?: number;
}

/** Backlogs move by units per hour; re-reading them once a second is plenty and keeps intake cheap. */
const BACKLOG_TTL_MS = 1000;
const DEFAULT_DISTANCE_KM = 300;

export type SourcingTrigger = 'intake' | 'receipt' | 'retry' | 'hold';

export class SourcingService {
  readonly sites: readonly SiteProfile[];
  private readonly unitPrices: ReadonlyMap<string, number>;
  private backlog: { at: number; units: Map<string, number> } | undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly opts: SourcingOptions,
  ) {
    this.sites = siteProfiles(ctx.layout);
    this.unitPrices = new Map(ctx.layout.skus.map((s) => [s.sku, s.unitPrice ?? 0]));
  }

  /**
   * Where these lines of one order should be filled from, given stock as it is now. The stock
   * positions read are left in `positions` (per SKU) for the caller that reserves next.
   */
  decide<L extends Pick<LineRecord, 'id' | 'sku' | 'quantity'>>(
    shipTo: ShipTo,
    lines: readonly L[],
    remaining: (line: L) => number = (l) => l.quantity,
    positions = new Map<string, StockPosition[]>(),
  ): SourcingDecision {
    for (const l of lines) if (!positions.has(l.sku)) positions.set(l.sku, this.ctx.store.stockOf(l.sku));
    const backlog = this.backlogUnits();
    return decideSourcing({
      now: this.ctx.clock.now(),
      destination: locateShipTo(shipTo, this.ctx.layout.network?.regions),
      country: shipTo.country.toUpperCase(),
      lines: lines.map((l) => ({ lineId: l.id, sku: l.sku, quantity: remaining(l), unitPrice: this.unitPrices.get(l.sku) ?? 0 })),
      sites: this.sites as SiteProfile[],
      fillable: (site, sku) => largestFree(positions.get(sku) ?? [], site),
      backlogUnits: (site) => backlog.get(site) ?? 0,
      weights: this.opts.weights,
      minShipmentValue: this.opts.minShipmentValue,
      defaultDistanceKm: this.opts.defaultDistanceKm ?? DEFAULT_DISTANCE_KM,
    });
  }

  /**
   * What one site alone would promise for `quantity` of a SKU (for GET /availability): the same
   * arithmetic as an order's sourcing, nothing reserved. Without a country, the site's country
   * list is not applied: the caller asked about stock, not about one destination.
   */
  quote(siteId: string, shipTo: { postalCode: string; country: string }, sku: string, quantity: number): SourcingDecision {
    const profile = this.sites.find((s) => s.id === siteId);
    if (!profile) throw new Error(`no site ${siteId} in the network`);
    const site: SiteProfile = shipTo.country ? profile : { ...profile, countries: undefined };
    const positions = this.ctx.store.stockOf(sku);
    const backlog = this.backlogUnits();
    return decideSourcing({
      now: this.ctx.clock.now(),
      destination: locateShipTo(shipTo, this.ctx.layout.network?.regions),
      country: shipTo.country.toUpperCase(),
      lines: [{ lineId: 'quote', sku, quantity, unitPrice: this.unitPrices.get(sku) ?? 0 }],
      sites: [site],
      fillable: (s, k) => (k === sku ? largestFree(positions, s) : undefined),
      backlogUnits: (s) => backlog.get(s) ?? 0,
      weights: this.opts.weights,
      minShipmentValue: this.opts.minShipmentValue,
      defaultDistanceKm: this.opts.defaultDistanceKm ?? DEFAULT_DISTANCE_KM,
    });
  }

  /** Journals the decision with its scores (one event per decision, on the order). */
  record(orderId: string, decision: SourcingDecision, trigger: SourcingTrigger, actor: string | undefined): void {
    this.ctx.store.appendEvent({
      type: 'order.sourcingDecided',
      aggregateType: 'order',
      aggregateId: orderId,
      orderId,
      actor,
      data: decisionRecord(decision, trigger),
    });
  }

  private backlogUnits(): Map<string, number> {
    const now = this.ctx.clock.now();
    if (!this.backlog || now - this.backlog.at > BACKLOG_TTL_MS) this.backlog = { at: now, units: this.ctx.store.reservedBySite() };
    return this.backlog.units;
  }
}

/** The most one position of `site` can give now; undefined when the site does not carry the SKU. */
function largestFree(positions: readonly StockPosition[], site: string): number | undefined {
  let best: number | undefined;
  for (const p of positions) if (p.site === site) best = Math.max(best ?? 0, atp(p));
  return best;
}

/** What the journal keeps of a decision: every number that decided it, rounded for reading. */
export function decisionRecord(d: SourcingDecision, trigger: SourcingTrigger): Record<string, unknown> {
  // The chosen candidate is usually one of the candidates: its record is built once.
  const candidates = d.candidates.map(candidateRecord);
  const at = d.chosen ? d.candidates.indexOf(d.chosen) : -1;
  return {
    trigger,
    kind: d.kind,
    rule: d.rule,
    distanceKnown: d.distanceKnown,
    compared: d.compared,
    lines: d.lines,
    chosen: d.chosen ? (candidates[at] ?? candidateRecord(d.chosen)) : null,
    candidates,
    backorders: d.backorders.map((s) => ({ site: s.site, lineIds: s.lineIds, deliverBy: s.deliverBy })),
  };
}

function candidateRecord(c: SourcingCandidate): Record<string, unknown> {
  const r2 = (v: number): number => Math.round(v * 100) / 100;
  return {
    shipments: c.shipments.map((s) => ({
      site: s.site,
      carrier: s.carrier,
      lineIds: s.lineIds,
      units: s.units,
      value: r2(s.value),
      distanceKm: r2(s.distanceKm),
      cost: r2(s.cost),
      co2Grams: Math.round(s.co2Grams),
      shipsAt: s.shipsAt,
      deliverBy: s.deliverBy,
      backorder: s.backorder,
    })),
    totals: { cost: r2(c.totals.cost), distanceKm: r2(c.totals.distanceKm), co2Grams: Math.round(c.totals.co2Grams), deliverBy: c.totals.deliverBy },
    scores: Object.fromEntries(Object.entries(c.scores).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    ...(c.rejected ? { rejected: c.rejected } : {}),
    ...(c.waived ? { waived: c.waived } : {}),
  };
}
