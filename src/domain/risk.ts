/**
 * Rule-based fraud risk of an incoming order (issue 3 item 3). Pure: the caller gathers the
 * order's priced lines and the customer's and address's recent history from the store, and this
 * module only scores. Each rule adds its points and says why; a total at or over the threshold
 * places a `fraud` hold (DESIGN §3: holds are records, the order keeps its reservation but is
 * not released to the floor).
 *
 * Rules and default weights (points are out of roughly 100; the default threshold is 70, so no
 * single rule holds an order on its own, two strong signals do):
 * - firstOrderHighValue (40): the customer's first order is worth at least `highOrderValue`;
 *   nothing in their history vouches for it.
 * - valueJump (35): the order is worth at least `valueJumpFactor` x the average of the customer's
 *   previous orders AND at least `valueJumpMinValue`: a ratio on small baskets is noise.
 * - customerVelocity (25): the customer placed at least `velocityLimit` orders in the last hour
 *   (card testing, account takeover).
 * - addressVelocity (25): at least `velocityLimit` orders went to the same ship-to address in the
 *   last hour, from any account (drop addresses, reshippers).
 * - bulkHighValue (30): one line asks for at least `bulkUnits` units of a SKU priced at least
 *   `highValueUnitPrice` (resellable goods in quantity).
 * - farShipTo (20): the ship-to has coordinates, the customer's past orders had too, and it lies
 *   at least `farShipToKm` from every one of them.
 */
import { distanceKm, type GeoPoint } from './geo.js';

export { distanceKm, type GeoPoint };

export interface RiskConfig {
  /** Total at or over which the order gets a fraud hold. */
  threshold: number;
  /** Points per rule. */
  weights: {
    firstOrderHighValue: number;
    valueJump: number;
    customerVelocity: number;
    addressVelocity: number;
    bulkHighValue: number;
    farShipTo: number;
  };
  /** Order value (sum of quantity x unit price) from which a first order counts as high. */
  highOrderValue: number;
  /** Order value over the customer's average previous order value that counts as a jump. */
  valueJumpFactor: number;
  /** Below this order value a jump does not count. */
  valueJumpMinValue: number;
  /** Orders in the last hour (this one included) from which velocity counts. */
  velocityLimit: number;
  /** Unit price from which a SKU counts as high value. */
  highValueUnitPrice: number;
  /** Units of one high-value SKU in one line that count as bulk. */
  bulkUnits: number;
  /** Distance from every past ship-to that counts as far. */
  farShipToKm: number;
}

export const DEFAULT_RISK_CONFIG: RiskConfig = {
  threshold: 70,
  weights: { firstOrderHighValue: 40, valueJump: 35, customerVelocity: 25, addressVelocity: 25, bulkHighValue: 30, farShipTo: 20 },
  highOrderValue: 500,
  valueJumpFactor: 3,
  valueJumpMinValue: 1000,
  velocityLimit: 5,
  highValueUnitPrice: 50,
  bulkUnits: 10,
  farShipToKm: 500,
};

export interface RiskInput {
  /** The order's merged lines; a SKU without a price counts as 0. */
  lines: readonly { sku: string; quantity: number; unitPrice: number | undefined }[];
  shipTo: { lat?: number | undefined; lon?: number | undefined };
  /** Values of the customer's previous orders (the most recent ones; empty for a new customer). */
  previousOrderValues: readonly number[];
  /** The customer's orders in the last hour, before this one. */
  customerOrdersLastHour: number;
  /** Orders to the same ship-to address in the last hour, before this one. */
  addressOrdersLastHour: number;
  /** Coordinates of the customer's previous ship-to addresses that had them. */
  pastShipTo: readonly GeoPoint[];
}

export type RiskRule = keyof RiskConfig['weights'];

export interface RiskFinding {
  rule: RiskRule;
  points: number;
  reason: string;
}

export interface RiskAssessment {
  score: number;
  /** Order value: sum of quantity x unit price. */
  value: number;
  findings: RiskFinding[];
  hold: boolean;
}

export function orderValue(lines: RiskInput['lines']): number {
  return round2(lines.reduce((sum, l) => sum + l.quantity * (l.unitPrice ?? 0), 0));
}

export function assessRisk(input: RiskInput, config: RiskConfig = DEFAULT_RISK_CONFIG): RiskAssessment {
  const w = config.weights;
  const value = orderValue(input.lines);
  const findings: RiskFinding[] = [];
  const add = (rule: RiskRule, reason: string): void => {
    if (w[rule] > 0) findings.push({ rule, points: w[rule], reason });
  };

  if (input.previousOrderValues.length === 0) {
    if (value >= config.highOrderValue) add('firstOrderHighValue', `first order of the customer is worth ${value} (>= ${config.highOrderValue})`);
  } else {
    const avg = round2(input.previousOrderValues.reduce((a, b) => a + b, 0) / input.previousOrderValues.length);
    if (value >= config.valueJumpMinValue && value >= config.valueJumpFactor * avg) {
      add('valueJump', `order worth ${value} is ${avg > 0 ? round2(value / avg) : 'infinitely many'} times the customer's average of ${avg}`);
    }
  }

  const customerOrders = input.customerOrdersLastHour + 1;
  if (customerOrders >= config.velocityLimit) add('customerVelocity', `${customerOrders} orders from the customer in the last hour (>= ${config.velocityLimit})`);
  const addressOrders = input.addressOrdersLastHour + 1;
  if (addressOrders >= config.velocityLimit) add('addressVelocity', `${addressOrders} orders to this ship-to address in the last hour (>= ${config.velocityLimit})`);

  const bulk = input.lines.find((l) => (l.unitPrice ?? 0) >= config.highValueUnitPrice && l.quantity >= config.bulkUnits);
  if (bulk) add('bulkHighValue', `${bulk.quantity} units of high-value SKU ${bulk.sku} at ${bulk.unitPrice ?? 0} each`);

  const { lat, lon } = input.shipTo;
  if (lat !== undefined && lon !== undefined && input.pastShipTo.length > 0) {
    const nearest = Math.min(...input.pastShipTo.map((p) => distanceKm({ lat, lon }, p)));
    if (nearest >= config.farShipToKm) add('farShipTo', `ship-to is ${Math.round(nearest)} km from the customer's nearest past address (>= ${config.farShipToKm})`);
  }

  const score = findings.reduce((n, f) => n + f.points, 0);
  return { score, value, findings, hold: score >= config.threshold };
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * The normalised ship-to address that address velocity counts by, as the store keeps it with each
 * order (column `ship_to`, migration 8; before it, the generated column of migration 2, whose
 * SQL this matches): lower(trim(...)) of country, postal code and first line. SQLite's trim()
 * removes spaces only and its lower() folds ASCII only; so does this, so stored and computed keys
 * agree for addresses written before migration 8. A body without a ship-to (possible only in
 * tests of the store) gets the key of empty fields, as the SQL's coalesce gave it.
 */
export function shipToKey(shipTo: { country?: string | undefined; postalCode?: string | undefined; line1?: string | undefined } | undefined): string {
  if (!shipTo) return '||';
  return `${normaliseKeyPart(shipTo.country)}|${normaliseKeyPart(shipTo.postalCode)}|${normaliseKeyPart(shipTo.line1)}`;
}

const EDGE_SPACES = /^ +| +$/g;
const ASCII_UPPER = /[A-Z]/;
const ASCII_UPPER_RUNS = /[A-Z]+/g;

/** trim() of spaces and lower() of ASCII, as SQLite does them; each order computes three keys, most already clean. */
function normaliseKeyPart(s: string | undefined): string {
  if (s === undefined || s === '') return '';
  let out = s;
  if (out.charCodeAt(0) === 32 || out.charCodeAt(out.length - 1) === 32) out = out.replace(EDGE_SPACES, '');
  return ASCII_UPPER.test(out) ? out.replace(ASCII_UPPER_RUNS, (m) => m.toLowerCase()) : out;
}
