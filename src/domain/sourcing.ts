/**
 * Network sourcing: from which site(s) of the warehouse network an order's lines are filled.
 * Pure: the caller passes the sites, a view of their stock and backlog, and `now`; this module
 * only decides, and returns every candidate it compared so the decision can be audited.
 *
 * Rules, in the order they apply:
 * 1. Only sites that ship to the order's country are considered.
 * 2. A line whose SKU no such site carries is unroutable.
 * 3. A line is fillable at a site when one stock position there holds all of it: lines are never
 *    split across sites or positions.
 * 4. A line fillable nowhere is backordered at the carrying site whose replenished delivery
 *    scores best; those shipments are `SourcingDecision.backorders`, outside the comparison, so a
 *    far-off replenishment date does not flatten the time criterion for the lines that ship now.
 * 5. If one site can fill every fillable line, the candidates are exactly those single sites.
 * 6. Otherwise every assignment of lines to sites that can fill them is a candidate (a split); one
 *    with a shipment worth less than `minShipmentValue` is rejected but still listed. Past
 *    `SOURCING_LIMITS.maxAssignments` assignments, a greedy split stands in for the enumeration.
 * 7. If no split is valid, each site that can fill a line ships what it can and holds the other
 *    lines back for its own replenishment. A site cannot hold back a SKU it does not carry; if no
 *    site can hold back, the best split ships anyway and says so in `waived` (an order that cannot
 *    be consolidated anywhere would otherwise never ship).
 *
 * Carrier choice (per shipment): the site's carrier with the best weighted score over that
 * shipment's cost, delivery time and CO2, each min-max normalised across the site's carriers, with
 * the request's weights (distance is the same for every carrier of a site). Ties go to the earlier
 * delivery, then the lower cost, then the carrier id. Using the weights rather than "fastest
 * first" keeps a cost-minded network from flying parcels it could truck.
 *
 * Readiness: a shipment waits for the site's backlog plus its own units at the site's shipping
 * rate; a backorder waits the replenishment lead time and ignores today's backlog, which will be
 * long gone by then. A carrier mode without a CO2 figure at a site counts as 0 g: the figure is
 * site configuration, and a gap there should not make the carrier unusable.
 */
import { distanceKm, MS_PER_DAY, MS_PER_HOUR, nextDailyTime, parseClock } from './geo.js';

export { distanceKm } from './geo.js';

export const CARRIER_MODES = ['road', 'rail', 'air', 'sea'] as const;
export type CarrierMode = (typeof CARRIER_MODES)[number];

export interface CarrierProfile {
  id: string;
  mode: CarrierMode;
  /** Daily cut-off in the site's local time, "HH:MM": parcels ready by then leave that day. */
  cutoff: string;
  costPerShipment: number;
  costPerKm: number;
  /** Transit speed; transit days = max(minTransitDays, ceil(distanceKm / kmPerDay)). */
  kmPerDay: number;
  minTransitDays: number;
}

export interface SiteProfile {
  id: string;
  name: string;
  lat: number;
  lon: number;
  /** Local time = UTC + this; cut-offs are local. */
  utcOffsetMinutes: number;
  handlingCostPerUnit: number;
  /** Units the site ships per hour: the backlog ahead of an order delays when it is ready. */
  capacityPerHour: number;
  /** Days until stock that is short now arrives at this site (supplier lead time), for backorder promise dates. */
  replenishmentDays: number;
  /** Grams of CO2 per shipment-km by carrier mode. */
  co2GramsPerKm: Partial<Record<CarrierMode, number>>;
  /** At least one. */
  carriers: CarrierProfile[];
  /** ISO country codes the site ships to; undefined = everywhere. */
  countries?: string[];
}

export interface SourcingWeights {
  cost: number;
  distance: number;
  time: number;
  co2: number;
}

export interface SourcingLine {
  lineId: string;
  sku: string;
  quantity: number;
  unitPrice: number;
}

export interface SourcingRequest {
  now: number;
  /** undefined: distance unknown. */
  destination: { lat: number; lon: number } | undefined;
  country: string;
  /** One line per SKU (intake merges lines naming the same SKU): two lines could not share one position's stock. */
  lines: SourcingLine[];
  sites: SiteProfile[];
  /** The most units of `sku` ONE stock position at `site` can fill now (largest position ATP), or undefined when the site does not carry the SKU at all. */
  fillable(site: string, sku: string): number | undefined;
  /** Units already waiting to be shipped at the site (ahead of this order). */
  backlogUnits(site: string): number;
  weights: SourcingWeights;
  /** A split never creates a shipment worth less than this (sum of unitPrice × quantity). */
  minShipmentValue: number;
  /** Distance assumed for every site when the destination is unknown (so distance cannot discriminate). */
  defaultDistanceKm: number;
}

export interface Shipment {
  site: string;
  carrier: string;
  mode: CarrierMode;
  lineIds: string[];
  units: number;
  value: number;
  distanceKm: number;
  cost: number;
  co2Grams: number;
  /** When the goods are ready, when they leave (a cut-off), and when they should arrive (ms epoch). */
  readyAt: number;
  shipsAt: number;
  deliverBy: number;
  /** True for lines that wait for replenishment at `site`. */
  backorder: boolean;
}

export interface CandidateScores {
  cost: number;
  distance: number;
  time: number;
  co2: number;
  total: number;
}

export interface SourcingCandidate {
  shipments: Shipment[];
  /** Totals: cost and CO2 summed over shipments, distance summed over shipments, deliverBy = latest shipment. */
  totals: { cost: number; distanceKm: number; co2Grams: number; deliverBy: number };
  /** Each criterion min-max normalised to 0..1 over the candidates compared (0 = best; all 0 when equal), total = weighted sum. */
  scores: CandidateScores;
  /** Set when the candidate was not allowed, e.g. "shipment from X worth 12.00 is below the minimum 25.00". */
  rejected?: string;
  /** Set instead of `rejected` on a chosen split that breaks the minimum because no site could hold lines back (rule 7). */
  waived?: string;
}

export type LineOutcome =
  | { lineId: string; outcome: 'sourced'; site: string; promiseDate: number }
  | { lineId: string; outcome: 'backordered'; site: string; promiseDate: number; reason: string }
  | { lineId: string; outcome: 'unroutable'; reason: string };

export interface SourcingDecision {
  /** 'single' (one site ships everything fillable), 'split', 'backorder' (nothing fillable now), 'unroutable' (no line can be served), or 'partial' when some lines are backordered/unroutable next to shipped ones. */
  kind: 'single' | 'split' | 'backorder' | 'unroutable' | 'partial';
  lines: LineOutcome[];
  /** What ships now (with any lines held back for consolidation, rule 7); undefined when nothing does. */
  chosen: SourcingCandidate | undefined;
  /** The candidates compared (best first, at most 10 kept) — recorded with the decision for audit. */
  candidates: SourcingCandidate[];
  /** How many candidates were compared in total, and why the rule that decided applied. */
  compared: number;
  rule: string;
  distanceKnown: boolean;
  /** Lines no site can fill now (rule 4), one replenishment shipment per site, by site id. */
  backorders: Shipment[];
}

export const SOURCING_LIMITS = {
  /** Split assignments enumerated at most; beyond, a greedy split decides. */
  maxAssignments: 4096,
  /** Candidates kept on the decision for audit. */
  keptCandidates: 10,
} as const;

/** First departure of the carrier at or after `readyAt` (cut-off in site local time, daily). */
export function nextDeparture(readyAt: number, site: SiteProfile, carrier: CarrierProfile): number {
  return nextDailyTime(readyAt, parseClock(carrier.cutoff), site.utcOffsetMinutes);
}

/** Whole days in transit: a partial day's distance still costs a day on the road. */
export function transitDays(distance: number, carrier: CarrierProfile): number {
  return Math.max(carrier.minTransitDays, Math.ceil(distance / carrier.kmPerDay));
}

export function decideSourcing(req: SourcingRequest): SourcingDecision {
  const serving = [...req.sites].filter((s) => s.countries === undefined || s.countries.includes(req.country)).sort((a, b) => compareText(a.id, b.id));
  validate(req, serving);
  const ctx: Context = { req, serving, shipments: new Map() };
  const plans = req.lines.map((line) => classifyLine(ctx, line));
  const unroutable = plans.filter((p): p is UnroutablePlan => p.kind === 'unroutable');
  const short = plans.filter((p): p is ShortPlan => p.kind === 'short');
  const fillable = plans.filter((p): p is FillablePlan => p.kind === 'fillable');

  const backorders = planBackorders(ctx, short);
  const shipping = fillable.length > 0 ? planShipping(ctx, fillable) : undefined;
  const lines = lineOutcomes(ctx, unroutable, short, backorders, shipping?.chosen);
  const base = {
    lines,
    distanceKnown: req.destination !== undefined,
    backorders,
  };
  if (shipping === undefined) {
    return {
      ...base,
      kind: short.length > 0 ? 'backorder' : 'unroutable',
      chosen: undefined,
      candidates: [],
      compared: 0,
      rule: short.length > 0 ? nothingFillableRule(short, unroutable) : noSiteCarriesRule(ctx),
    };
  }
  const leftOut = short.length + unroutable.length;
  return {
    ...base,
    kind: leftOut > 0 ? 'partial' : shipping.kind,
    chosen: shipping.chosen,
    candidates: shipping.ranked.slice(0, SOURCING_LIMITS.keptCandidates),
    compared: shipping.ranked.length,
    rule: leftOut > 0 ? `${shipping.rule}; ${leftOutSummary(short, unroutable)}` : shipping.rule,
  };
}

interface Context {
  req: SourcingRequest;
  /** Sites shipping to the order's country, sorted by id so nothing depends on the order the caller listed them in. */
  serving: SiteProfile[];
  /** Split enumeration builds the same site/lines shipment many times over. */
  shipments: Map<string, Shipment>;
}

interface UnroutablePlan {
  kind: 'unroutable';
  line: SourcingLine;
  reason: string;
}
interface ShortPlan {
  kind: 'short';
  line: SourcingLine;
  carriedAt: SiteProfile[];
}
interface FillablePlan {
  kind: 'fillable';
  line: SourcingLine;
  fillableAt: SiteProfile[];
}
type LinePlan = UnroutablePlan | ShortPlan | FillablePlan;

interface ShippingPlan {
  kind: 'single' | 'split' | 'partial';
  chosen: SourcingCandidate;
  /** Every candidate compared, best first. */
  ranked: SourcingCandidate[];
  rule: string;
}

function validate(req: SourcingRequest, serving: SiteProfile[]): void {
  if (req.lines.length === 0) throw new RangeError('an order to source needs at least one line');
  assertUnique(req.lines.map((l) => l.lineId), 'line id');
  assertUnique(req.lines.map((l) => l.sku), 'SKU among the lines');
  assertUnique(req.sites.map((s) => s.id), 'site id');
  for (const l of req.lines) {
    if (!(Number.isFinite(l.quantity) && l.quantity > 0)) throw new RangeError(`line ${l.lineId}: quantity must be positive`);
    if (!(Number.isFinite(l.unitPrice) && l.unitPrice >= 0)) throw new RangeError(`line ${l.lineId}: unit price must be a non-negative number`);
  }
  for (const [name, w] of Object.entries(req.weights)) {
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`weight ${name} must be a non-negative number`);
  }
  if (!(Number.isFinite(req.defaultDistanceKm) && req.defaultDistanceKm >= 0)) throw new RangeError('defaultDistanceKm must be a non-negative number');
  // Only the sites that can take part: a broken profile elsewhere in the network must not stop this order.
  for (const site of serving) validateSite(site);
}

function validateSite(site: SiteProfile): void {
  if (site.carriers.length === 0) throw new RangeError(`site ${site.id} has no carrier`);
  if (!(site.capacityPerHour > 0)) throw new RangeError(`site ${site.id}: capacityPerHour must be positive`);
  if (!(site.replenishmentDays >= 0)) throw new RangeError(`site ${site.id}: replenishmentDays must not be negative`);
  for (const c of site.carriers) {
    parseClock(c.cutoff);
    if (!(c.kmPerDay > 0)) throw new RangeError(`carrier ${c.id} at site ${site.id}: kmPerDay must be positive`);
    if (!(c.minTransitDays >= 0)) throw new RangeError(`carrier ${c.id} at site ${site.id}: minTransitDays must not be negative`);
  }
}

function assertUnique(values: string[], what: string): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new RangeError(`duplicate ${what}: ${v}`);
    seen.add(v);
  }
}

function classifyLine(ctx: Context, line: SourcingLine): LinePlan {
  const carriedAt = ctx.serving.filter((s) => ctx.req.fillable(s.id, line.sku) !== undefined);
  if (carriedAt.length === 0) return { kind: 'unroutable', line, reason: unroutableReason(ctx, line) };
  const fillableAt = carriedAt.filter((s) => (ctx.req.fillable(s.id, line.sku) ?? 0) >= line.quantity);
  return fillableAt.length > 0 ? { kind: 'fillable', line, fillableAt } : { kind: 'short', line, carriedAt };
}

function unroutableReason(ctx: Context, line: SourcingLine): string {
  const { country } = ctx.req;
  if (ctx.serving.length === 0) return `no site ships to ${country}, so SKU ${line.sku} cannot be sourced`;
  return `no site shipping to ${country} carries SKU ${line.sku}`;
}

// ---- shipments and carriers ----

interface CarrierOption {
  carrier: CarrierProfile;
  shipsAt: number;
  deliverBy: number;
  cost: number;
  co2Grams: number;
}

function buildShipment(ctx: Context, site: SiteProfile, lines: SourcingLine[], backorder: boolean): Shipment {
  const key = [site.id, backorder ? 'backorder' : 'now', ...lines.map((l) => l.lineId)].join('\u0000');
  const cached = ctx.shipments.get(key);
  if (cached) return cached;
  const units = lines.reduce((n, l) => n + l.quantity, 0);
  const distance = siteDistanceKm(ctx.req, site);
  const readyAt = backorder ? ctx.req.now + Math.round(site.replenishmentDays * MS_PER_DAY) : readyAfterBacklog(ctx.req, site, units);
  const options = site.carriers.map((c) => carrierOption(site, c, units, distance, readyAt));
  const best = chooseCarrier(options, ctx.req.weights);
  const shipment: Shipment = {
    site: site.id,
    carrier: best.carrier.id,
    mode: best.carrier.mode,
    lineIds: lines.map((l) => l.lineId),
    units,
    value: round(lines.reduce((v, l) => v + l.unitPrice * l.quantity, 0), 2),
    distanceKm: round(distance, 1),
    cost: best.cost,
    co2Grams: best.co2Grams,
    readyAt,
    shipsAt: best.shipsAt,
    deliverBy: best.deliverBy,
    backorder,
  };
  ctx.shipments.set(key, shipment);
  return shipment;
}

function siteDistanceKm(req: SourcingRequest, site: SiteProfile): number {
  return req.destination === undefined ? req.defaultDistanceKm : distanceKm(site, req.destination);
}

function readyAfterBacklog(req: SourcingRequest, site: SiteProfile, units: number): number {
  const hours = (req.backlogUnits(site.id) + units) / site.capacityPerHour;
  // Up to the next whole ms: a promise must never be earlier than the work allows.
  return req.now + Math.ceil(hours * MS_PER_HOUR);
}

function carrierOption(site: SiteProfile, carrier: CarrierProfile, units: number, distance: number, readyAt: number): CarrierOption {
  const shipsAt = nextDeparture(readyAt, site, carrier);
  return {
    carrier,
    shipsAt,
    deliverBy: shipsAt + transitDays(distance, carrier) * MS_PER_DAY,
    cost: round(site.handlingCostPerUnit * units + carrier.costPerShipment + carrier.costPerKm * distance, 2),
    co2Grams: round((site.co2GramsPerKm[carrier.mode] ?? 0) * distance, 0),
  };
}

function chooseCarrier(options: CarrierOption[], weights: SourcingWeights): CarrierOption {
  const cost = normaliser(options.map((o) => o.cost));
  const time = normaliser(options.map((o) => o.deliverBy));
  const co2 = normaliser(options.map((o) => o.co2Grams));
  const score = (o: CarrierOption) => weights.cost * cost(o.cost) + weights.time * time(o.deliverBy) + weights.co2 * co2(o.co2Grams);
  const [best] = [...options].sort(
    (a, b) => compareScore(score(a), score(b)) || a.deliverBy - b.deliverBy || a.cost - b.cost || compareText(a.carrier.id, b.carrier.id),
  );
  if (!best) throw new RangeError('a site needs at least one carrier');
  return best;
}

// ---- candidates and scoring ----

const NO_SCORES: CandidateScores = { cost: 0, distance: 0, time: 0, co2: 0, total: 0 };

function candidateOf(shipments: Shipment[], rejected: string | undefined): SourcingCandidate {
  const ordered = [...shipments].sort((a, b) => compareText(a.site, b.site) || Number(a.backorder) - Number(b.backorder));
  const totals = {
    cost: round(sum(ordered.map((s) => s.cost)), 2),
    distanceKm: round(sum(ordered.map((s) => s.distanceKm)), 1),
    co2Grams: round(sum(ordered.map((s) => s.co2Grams)), 0),
    deliverBy: Math.max(...ordered.map((s) => s.deliverBy)),
  };
  return rejected === undefined ? { shipments: ordered, totals, scores: NO_SCORES } : { shipments: ordered, totals, scores: NO_SCORES, rejected };
}

/**
 * Scores and sorts candidates, best first. The ranges come from the allowed candidates only, so
 * an option that may not be taken cannot stretch a criterion's range and shift the weights
 * between the ones that may; rejected candidates are scored on the same ranges, clamped to 0..1.
 */
function rankCandidates(candidates: SourcingCandidate[], weights: SourcingWeights): SourcingCandidate[] {
  const allowed = candidates.filter((c) => c.rejected === undefined);
  const basis = allowed.length > 0 ? allowed : candidates;
  const cost = normaliser(basis.map((c) => c.totals.cost));
  const distance = normaliser(basis.map((c) => c.totals.distanceKm));
  const time = normaliser(basis.map((c) => c.totals.deliverBy));
  const co2 = normaliser(basis.map((c) => c.totals.co2Grams));
  const scored = candidates.map((c) => {
    const scores = { cost: cost(c.totals.cost), distance: distance(c.totals.distanceKm), time: time(c.totals.deliverBy), co2: co2(c.totals.co2Grams) };
    const total = weights.cost * scores.cost + weights.distance * scores.distance + weights.time * scores.time + weights.co2 * scores.co2;
    return { ...c, scores: { ...scores, total } };
  });
  return scored.sort(compareCandidates);
}

function compareCandidates(a: SourcingCandidate, b: SourcingCandidate): number {
  return (
    Number(a.rejected !== undefined) - Number(b.rejected !== undefined) ||
    compareScore(a.scores.total, b.scores.total) ||
    a.shipments.length - b.shipments.length ||
    compareLists(siteIds(a), siteIds(b)) ||
    compareLists(a.shipments.map(shipmentKey), b.shipments.map(shipmentKey))
  );
}

function siteIds(c: SourcingCandidate): string[] {
  return [...new Set(c.shipments.map((s) => s.site))];
}

function shipmentKey(s: Shipment): string {
  return `${s.site}/${s.backorder ? 'backorder' : 'now'}/${s.lineIds.join(',')}`;
}

/** Min-max onto 0..1, 0 best; a criterion on which every candidate is equal scores 0 everywhere. */
function normaliser(values: number[]): (v: number) => number {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min;
  if (!(span > 0)) return () => 0;
  return (v) => Math.min(1, Math.max(0, (v - min) / span));
}

// ---- rules 5 to 7: what ships now ----

function planShipping(ctx: Context, fillable: FillablePlan[]): ShippingPlan {
  const lines = fillable.map((f) => f.line);
  const singleSites = ctx.serving.filter((s) => fillable.every((f) => f.fillableAt.includes(s)));
  if (singleSites.length > 0) {
    const ranked = rankCandidates(
      singleSites.map((s) => candidateOf([buildShipment(ctx, s, lines, false)], undefined)),
      ctx.req.weights,
    );
    const chosen = first(ranked);
    return {
      kind: 'single',
      chosen,
      ranked,
      rule: `single: ${chosen.shipments[0]?.site ?? ''} can fill every fillable line (${lines.length}); best of ${countOf(ranked.length, 'single-site candidate')}`,
    };
  }
  const assignments = fillable.reduce((n, f) => n * f.fillableAt.length, 1);
  const greedy = assignments > SOURCING_LIMITS.maxAssignments;
  const splits = rankCandidates(greedy ? [greedySplit(ctx, fillable)] : enumerateSplits(ctx, fillable), ctx.req.weights);
  const how = greedy
    ? `split (greedy): no site can fill every fillable line (${lines.length}) and ${assignments} assignments exceed the cap of ${SOURCING_LIMITS.maxAssignments}; sites picked by the most remaining value they fill`
    : `split: no site can fill every fillable line (${lines.length}); best of ${countOf(splits.length, 'assignment')}`;
  const best = first(splits);
  if (best.rejected === undefined) {
    const rejectedCount = splits.filter((c) => c.rejected !== undefined).length;
    const note = rejectedCount > 0 ? ` (${rejectedCount} rejected below the minimum ${money(ctx.req.minShipmentValue)})` : '';
    return { kind: 'split', chosen: best, ranked: splits, rule: how + note };
  }
  return consolidate(ctx, fillable, splits, how);
}

function enumerateSplits(ctx: Context, fillable: FillablePlan[]): SourcingCandidate[] {
  const assignments = fillable.reduce<SiteProfile[][]>((partial, f) => partial.flatMap((sites) => f.fillableAt.map((s) => [...sites, s])), [[]]);
  return assignments.map((sites) => splitCandidate(ctx, fillable, sites));
}

function splitCandidate(ctx: Context, fillable: FillablePlan[], sites: SiteProfile[]): SourcingCandidate {
  const bySite = new Map<SiteProfile, SourcingLine[]>();
  fillable.forEach((f, i) => {
    const site = sites[i];
    if (site) bySite.set(site, [...(bySite.get(site) ?? []), f.line]);
  });
  const shipments = [...bySite].map(([site, lines]) => buildShipment(ctx, site, lines, false));
  return candidateOf(shipments, belowMinimum(shipments, ctx.req.minShipmentValue));
}

function greedySplit(ctx: Context, fillable: FillablePlan[]): SourcingCandidate {
  const shipments: Shipment[] = [];
  let remaining = fillable;
  while (remaining.length > 0) {
    const pick = mostValuableSite(ctx, remaining);
    shipments.push(buildShipment(ctx, pick.site, pick.lines, false));
    remaining = remaining.filter((f) => !pick.lines.includes(f.line));
  }
  return candidateOf(shipments, belowMinimum(shipments, ctx.req.minShipmentValue));
}

function mostValuableSite(ctx: Context, remaining: FillablePlan[]): { site: SiteProfile; lines: SourcingLine[] } {
  const options = ctx.serving
    .map((site) => ({ site, lines: remaining.filter((f) => f.fillableAt.includes(site)).map((f) => f.line) }))
    .filter((o) => o.lines.length > 0);
  const valueOf = (lines: SourcingLine[]) => round(sum(lines.map((l) => l.unitPrice * l.quantity)), 2);
  const top = Math.max(...options.map((o) => valueOf(o.lines)));
  const tied = options.filter((o) => valueOf(o.lines) === top);
  const ranked = rankCandidates(
    tied.map((o) => candidateOf([buildShipment(ctx, o.site, o.lines, false)], undefined)),
    ctx.req.weights,
  );
  const bestSite = first(ranked).shipments[0]?.site;
  const pick = tied.find((o) => o.site.id === bestSite);
  if (!pick) throw new RangeError('greedy sourcing found no site for the remaining lines');
  return pick;
}

/** A split may not leave a shipment under the minimum; one shipment on its own always may. */
function belowMinimum(shipments: Shipment[], minimum: number): string | undefined {
  const leaving = shipments.filter((s) => !s.backorder);
  if (leaving.length < 2) return undefined;
  const small = leaving.filter((s) => s.value < minimum);
  if (small.length === 0) return undefined;
  return small.map((s) => `shipment from ${s.site} worth ${money(s.value)} is below the minimum ${money(minimum)}`).join('; ');
}

/** Rule 7: no split is valid, so one site ships what it can and keeps the rest for its replenishment. */
function consolidate(ctx: Context, fillable: FillablePlan[], splits: SourcingCandidate[], how: string): ShippingPlan {
  const minimum = money(ctx.req.minShipmentValue);
  const sites = ctx.serving.filter((s) => fillable.some((f) => f.fillableAt.includes(s)));
  const holds = rankCandidates(
    sites.map((s) => holdBackCandidate(ctx, s, fillable)),
    ctx.req.weights,
  );
  const ranked = [...holds, ...splits];
  const best = first(holds);
  if (best.rejected === undefined) {
    const site = best.shipments.find((s) => !s.backorder)?.site ?? '';
    return {
      kind: 'partial',
      chosen: best,
      ranked,
      rule: `consolidate: every split leaves a shipment below the minimum ${minimum} (${how}); ${site} ships what it can fill and holds the other lines for its replenishment, best of ${countOf(holds.length, 'site')}`,
    };
  }
  const split = first(splits);
  const { rejected, ...rest } = split;
  const waived: SourcingCandidate = { ...rest, waived: `${rejected ?? ''}; shipped anyway: no site carries the other lines to hold them back` };
  return {
    kind: 'split',
    chosen: waived,
    ranked: [waived, ...holds, ...splits.slice(1)],
    rule: `split below the minimum ${minimum}: every split leaves a smaller shipment and no site can hold the other lines back (${how})`,
  };
}

function holdBackCandidate(ctx: Context, site: SiteProfile, fillable: FillablePlan[]): SourcingCandidate {
  const shipNow = fillable.filter((f) => f.fillableAt.includes(site)).map((f) => f.line);
  const held = fillable.filter((f) => !f.fillableAt.includes(site)).map((f) => f.line);
  const notCarried = held.filter((l) => ctx.req.fillable(site.id, l.sku) === undefined);
  const shipments = [buildShipment(ctx, site, shipNow, false), buildShipment(ctx, site, held, true)];
  return candidateOf(shipments, notCarried.length > 0 ? cannotHoldReason(site, notCarried) : undefined);
}

function cannotHoldReason(site: SiteProfile, notCarried: SourcingLine[]): string {
  const skus = notCarried.map((l) => l.sku).join(', ');
  return `${site.id} does not carry SKU ${skus}, so it cannot hold ${notCarried.length === 1 ? 'that line' : 'those lines'} back`;
}

// ---- rule 4: lines no site can fill now ----

function planBackorders(ctx: Context, short: ShortPlan[]): Shipment[] {
  const bySite = new Map<SiteProfile, SourcingLine[]>();
  for (const plan of short) {
    const site = bestReplenishingSite(ctx, plan);
    bySite.set(site, [...(bySite.get(site) ?? []), plan.line]);
  }
  return [...bySite]
    .sort(([a], [b]) => compareText(a.id, b.id))
    .map(([site, lines]) => buildShipment(ctx, site, lines, true));
}

function bestReplenishingSite(ctx: Context, plan: ShortPlan): SiteProfile {
  const ranked = rankCandidates(
    plan.carriedAt.map((s) => candidateOf([buildShipment(ctx, s, [plan.line], true)], undefined)),
    ctx.req.weights,
  );
  const id = first(ranked).shipments[0]?.site;
  const site = plan.carriedAt.find((s) => s.id === id);
  if (!site) throw new RangeError(`no site to backorder line ${plan.line.lineId} at`);
  return site;
}

// ---- outcomes and wording ----

function lineOutcomes(
  ctx: Context,
  unroutable: UnroutablePlan[],
  short: ShortPlan[],
  backorders: Shipment[],
  chosen: SourcingCandidate | undefined,
): LineOutcome[] {
  const outcomes = new Map<string, LineOutcome>();
  for (const u of unroutable) outcomes.set(u.line.lineId, { lineId: u.line.lineId, outcome: 'unroutable', reason: u.reason });
  for (const s of backorders) {
    for (const lineId of s.lineIds) {
      const plan = short.find((p) => p.line.lineId === lineId);
      const reason = plan ? shortReason(ctx, plan.line, s.site) : '';
      outcomes.set(lineId, { lineId, outcome: 'backordered', site: s.site, promiseDate: s.deliverBy, reason });
    }
  }
  for (const s of chosen?.shipments ?? []) {
    for (const lineId of s.lineIds) {
      outcomes.set(
        lineId,
        s.backorder
          ? { lineId, outcome: 'backordered', site: s.site, promiseDate: s.deliverBy, reason: heldBackReason(ctx, s.site) }
          : { lineId, outcome: 'sourced', site: s.site, promiseDate: s.deliverBy },
      );
    }
  }
  return ctx.req.lines.map((l) => {
    const outcome = outcomes.get(l.lineId);
    if (!outcome) throw new RangeError(`line ${l.lineId} got no sourcing outcome`);
    return outcome;
  });
}

function shortReason(ctx: Context, line: SourcingLine, site: string): string {
  return `no stock position at a site shipping to ${ctx.req.country} holds ${line.quantity} × ${line.sku}; waits for replenishment at ${site}`;
}

function heldBackReason(ctx: Context, site: string): string {
  return `held back: a separate shipment would be worth less than the minimum ${money(ctx.req.minShipmentValue)}; waits for replenishment at ${site} to ship from there`;
}

function nothingFillableRule(short: ShortPlan[], unroutable: UnroutablePlan[]): string {
  const rule = `backorder: no line can be filled now; ${countOf(short.length, 'line')} backordered at the best-scoring replenishing site`;
  return unroutable.length > 0 ? `${rule}, ${countOf(unroutable.length, 'line')} unroutable` : rule;
}

function noSiteCarriesRule(ctx: Context): string {
  if (ctx.serving.length === 0) return `unroutable: no site ships to ${ctx.req.country}`;
  return `unroutable: no site shipping to ${ctx.req.country} carries any of the order's SKUs`;
}

function leftOutSummary(short: ShortPlan[], unroutable: UnroutablePlan[]): string {
  const parts: string[] = [];
  if (short.length > 0) parts.push(`${countOf(short.length, 'line')} backordered`);
  if (unroutable.length > 0) parts.push(`${countOf(unroutable.length, 'line')} unroutable`);
  return parts.join(', ');
}

// ---- small helpers ----

function first(ranked: SourcingCandidate[]): SourcingCandidate {
  const [best] = ranked;
  if (!best) throw new RangeError('sourcing compared no candidates');
  return best;
}

/** Totals are sums of many products, so two equal-on-paper scores may differ in the last bits. */
function compareScore(a: number, b: number): number {
  return Math.abs(a - b) <= 1e-9 ? 0 : a - b;
}

/** Code-unit order, not locale order: the tie-break must not depend on the host's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareLists(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareText(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function sum(values: number[]): number {
  return values.reduce((n, v) => n + v, 0);
}

function round(n: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(n * f) / f;
}

function money(n: number): string {
  return n.toFixed(2);
}

function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
