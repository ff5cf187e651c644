/**
 * Shopify `orders/create` webhook payload -> our OrderInput (DESIGN §9). Pure: no I/O, no clock.
 *
 * Every problem is reported with a JSON pointer into the Shopify body (`/shipping_address/zip`,
 * `/line_items/2/sku`), so a merchant can find the offending field in their admin. Shape problems
 * are PW_ERR_VALIDATION (400); a shippable line item without a SKU is PW_ERR_UNKNOWN_SKU (422),
 * the same class of problem as a SKU the site does not carry (the fix is in the shop's catalog).
 *
 * What is taken from the payload:
 * - externalId: the order id, as a string. Shopify ids can exceed 2^53, where `JSON.parse` loses
 *   digits, so the exact digits of `admin_graphql_api_id` (`gid://shopify/Order/<id>`) win.
 * - customer: `customer.id` (same gid rule); a guest order without a customer record falls back to
 *   `guest:<email>`. The email is kept only when it looks like one (it is informational).
 * - shipTo: `shipping_address` (name or first+last name, address1, address2, city, zip,
 *   country_code, latitude/longitude).
 * - lines: `line_items` with `sku` and `quantity`. Items with `requires_shipping: false` (digital
 *   goods, gift cards) are not warehouse work and are skipped; `lineIndex` maps each of our lines
 *   back to its Shopify line item.
 * Priority stays at the default and there is no promisedBy.
 */
import type { OrderInput } from '../../domain/records.js';
import { PickwireError, type ErrorDetail } from '../../errors.js';

export const SHOPIFY_CHANNEL = 'shopify';

export interface ShopifyMapping {
  input: OrderInput;
  /** `lineIndex[i]` is the index in `line_items` of `input.lines[i]`. */
  lineIndex: number[];
}

const EMAIL = /^[^@\s]+@[^@\s]+$/;
const COUNTRY = /^[A-Za-z]{2}$/;
const MAX_LINES = 500;
const MAX_QUANTITY = 1_000_000;
const NO_SKU = 'has no SKU; Pickwire picks by SKU, so every line item that requires shipping needs one';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;

class Problems {
  readonly details: ErrorDetail[] = [];
  add(path: string, problem: string): undefined {
    this.details.push({ path, problem });
    return undefined;
  }

  /** A string field: trimmed; empty counts as absent. */
  text(obj: Json, key: string, base: string, max: number, required: boolean): string | undefined {
    const v = obj[key];
    const path = `${base}/${key}`;
    if (absent(v) || (typeof v === 'string' && v.trim() === '')) return required ? this.add(path, 'is required') : undefined;
    if (typeof v !== 'string') return this.add(path, 'must be a string');
    const s = v.trim();
    if (s.length > max) return this.add(path, `must not be longer than ${max} characters`);
    return s;
  }

  /** A Shopify id: a non-negative integer or a string of digits; `gid` (admin_graphql_api_id) gives exact digits. */
  id(obj: Json, base: string, kind: string): string | undefined {
    const gid = obj.admin_graphql_api_id;
    const m = typeof gid === 'string' ? new RegExp(`^gid://shopify/${kind}/(\\d{1,40})$`).exec(gid) : null;
    if (m?.[1]) return m[1];
    const v = obj.id;
    const path = `${base}/id`;
    if (absent(v)) return this.add(path, 'is required');
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
    if (typeof v === 'string' && /^\d{1,40}$/.test(v)) return v;
    return this.add(path, 'must be a Shopify id (a non-negative integer)');
  }

  coordinate(obj: Json, key: string, base: string, limit: number): number | undefined {
    const v = obj[key];
    if (absent(v) || v === '') return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || Math.abs(n) > limit) {
      return this.add(`${base}/${key}`, `must be a number between -${limit} and ${limit}`);
    }
    return n;
  }
}

/**
 * Maps a parsed `orders/create` body. Throws PW_ERR_UNKNOWN_SKU (422) when a shippable line item
 * has no SKU, PW_ERR_VALIDATION (400) for any other problem; details list every problem found.
 */
export function mapShopifyOrder(body: unknown): ShopifyMapping {
  const p = new Problems();
  if (!isObject(body)) throw new PickwireError('PW_ERR_VALIDATION', 'the Shopify order must be a JSON object', { details: [{ path: '/', problem: 'must be an object' }] });

  const externalId = p.id(body, '', 'Order');
  const customer = mapCustomer(body, p);
  const shipTo = mapShipTo(body, p);
  const { lines, lineIndex } = mapLines(body, p);

  if (p.details.length > 0 || externalId === undefined || customer === undefined || shipTo === undefined) {
    const noSku = p.details.some((d) => d.problem === NO_SKU);
    const summary = p.details.map((d) => `${d.path} ${d.problem}`).join('; ');
    throw new PickwireError(noSku ? 'PW_ERR_UNKNOWN_SKU' : 'PW_ERR_VALIDATION', `the Shopify order cannot be taken: ${summary}`, { details: p.details });
  }
  return { input: { channel: SHOPIFY_CHANNEL, externalId, customer, shipTo, lines }, lineIndex };
}

function mapCustomer(body: Json, p: Problems): OrderInput['customer'] | undefined {
  const raw = body.customer;
  if (!absent(raw) && !isObject(raw)) return p.add('/customer', 'must be an object or null');
  const c = isObject(raw) ? raw : undefined;
  const emails = [c?.email, body.email, body.contact_email].filter((e): e is string => typeof e === 'string');
  const email = emails.map((e) => e.trim()).find((e) => e.length <= 254 && EMAIL.test(e));
  if (c && !absent(c.id)) {
    const id = p.id(c, '/customer', 'Customer');
    return id === undefined ? undefined : { id, ...(email ? { email } : {}) };
  }
  // A guest checkout: the email is the only stable handle on the buyer.
  if (email && email.length <= 122) return { id: `guest:${email.toLowerCase()}`, email };
  return p.add(c ? '/customer/id' : '/customer', 'is required (or an order email for a guest checkout)');
}

function mapShipTo(body: Json, p: Problems): OrderInput['shipTo'] | undefined {
  const a = body.shipping_address;
  const base = '/shipping_address';
  if (absent(a)) return p.add(base, 'is required: Pickwire ships physical goods');
  if (!isObject(a)) return p.add(base, 'must be an object');
  const before = p.details.length;
  let name = p.text(a, 'name', base, 200, false);
  if (name === undefined && !p.details.some((d) => d.path === `${base}/name`)) {
    const first = typeof a.first_name === 'string' ? a.first_name.trim() : '';
    const last = typeof a.last_name === 'string' ? a.last_name.trim() : '';
    const company = typeof a.company === 'string' ? a.company.trim() : '';
    const joined = [first, last].filter(Boolean).join(' ') || company;
    if (joined === '') p.add(`${base}/name`, 'is required (or first_name / last_name)');
    else if (joined.length > 200) p.add(`${base}/name`, 'must not be longer than 200 characters');
    else name = joined;
  }
  const line1 = p.text(a, 'address1', base, 200, true);
  const line2 = p.text(a, 'address2', base, 200, false);
  const city = p.text(a, 'city', base, 100, true);
  const postalCode = p.text(a, 'zip', base, 20, true);
  const country = p.text(a, 'country_code', base, 2, true);
  if (country !== undefined && !COUNTRY.test(country)) p.add(`${base}/country_code`, 'must be a two-letter ISO 3166 country code');
  const lat = p.coordinate(a, 'latitude', base, 90);
  const lon = p.coordinate(a, 'longitude', base, 180);
  if (p.details.length > before || name === undefined || line1 === undefined || city === undefined || postalCode === undefined || country === undefined) {
    return undefined;
  }
  return {
    name,
    line1,
    ...(line2 !== undefined ? { line2 } : {}),
    city,
    postalCode,
    country: country.toUpperCase(),
    // Shopify sends both or neither; half a position is no position.
    ...(lat !== undefined && lon !== undefined ? { lat, lon } : {}),
  };
}

function mapLines(body: Json, p: Problems): { lines: OrderInput['lines']; lineIndex: number[] } {
  const items = body.line_items;
  const lines: OrderInput['lines'] = [];
  const lineIndex: number[] = [];
  if (!Array.isArray(items)) {
    p.add('/line_items', absent(items) ? 'is required' : 'must be an array');
    return { lines, lineIndex };
  }
  if (items.length === 0) p.add('/line_items', 'must not be empty');
  const before = p.details.length;
  for (const [i, item] of (items as unknown[]).entries()) {
    const base = `/line_items/${i}`;
    if (!isObject(item)) {
      p.add(base, 'must be an object');
      continue;
    }
    if (item.requires_shipping === false) continue;
    const problems = p.details.length;
    const raw = item.sku;
    const sku = absent(raw) || (typeof raw === 'string' && raw.trim() === '') ? p.add(`${base}/sku`, NO_SKU) : p.text(item, 'sku', base, 64, true);
    const q = item.quantity;
    const quantity = typeof q === 'number' && Number.isInteger(q) && q >= 1 && q <= MAX_QUANTITY ? q : p.add(`${base}/quantity`, `must be an integer 1..${MAX_QUANTITY}`);
    if (p.details.length === problems && sku !== undefined && quantity !== undefined) {
      lines.push({ sku, quantity });
      lineIndex.push(i);
    }
  }
  if (items.length > 0 && lines.length === 0 && p.details.length === before) {
    p.add('/line_items', 'no line item requires shipping: nothing for the warehouse to do');
  }
  if (lines.length > MAX_LINES) p.add('/line_items', `must not have more than ${MAX_LINES} shippable line items`);
  return { lines, lineIndex };
}

/**
 * Intake reports problems at our paths (`/lines/3/sku`); the sender knows only its own body.
 * Rewrites `/lines/i/...` to `/line_items/<Shopify index>/...` in the error's details.
 */
export function toShopifyPaths(err: PickwireError, lineIndex: readonly number[]): PickwireError {
  if (!err.details) return err;
  const rewrite = (path: string) =>
    path.replace(/^\/lines\/(\d+)/, (whole, i: string) => {
      const original = lineIndex[Number(i)];
      return original === undefined ? whole : `/line_items/${original}`;
    });
  const details = err.details.map((d) => ({ path: rewrite(d.path), problem: d.problem }));
  return new PickwireError(err.code, err.message, { details, cause: err });
}
