/**
 * The history the risk score reads (src/domain/risk.ts), kept in memory: each customer's most
 * recent orders (value, ship-to coordinates, time) and the most recent order times per ship-to
 * address. Reading it from the store cost three indexed queries and twenty JSON parses per order,
 * a fifth of intake's time.
 *
 * Correct because the core is the store's only writer (DESIGN §4) and intake is the only code
 * that creates orders, which are never deleted nor re-addressed:
 * - an entry is loaded from the store the first time it is needed (and again after eviction);
 * - intake adds each order as soon as its savepoint is released, so later orders of the same
 *   group commit see it, as they did when they read the store inside the transaction;
 * - if the group's transaction fails, `forget()` drops everything: the store, which rolled back,
 *   is read again on demand.
 * Velocity needs only the newest `velocityCap` times: the count of orders since any instant,
 * capped at `velocityCap`, is the same over those as over all of them.
 */
import type { GeoPoint } from '../domain/geo.js';
import type { OrderInput, ShipTo } from '../domain/records.js';
import type { Store } from '../ports.js';
import { shipToKey } from '../domain/risk.js';

export { shipToKey };

export interface PastOrder {
  value: number;
  /** Ship-to coordinates when the order had them. */
  point: GeoPoint | undefined;
  createdAt: number;
}

export interface RiskHistoryOptions {
  /** Previous orders of a customer the score looks at (value average, past addresses). */
  depth: number;
  /** Orders counted for velocity, at most (the rule's limit). */
  velocityCap: number;
  /** Order value from the stored body's lines, as the score computes it. */
  valueOf: (lines: OrderInput['lines']) => number;
  /** Customers and addresses kept each; the least recently used is dropped beyond it. */
  maxEntries?: number;
}

type HistoryStore = Pick<Store, 'recentOrdersOfCustomer' | 'recentShipToOrderTimes'>;

const DEFAULT_MAX_ENTRIES = 20_000;

export class RiskHistory {
  /** Newest first, at most max(depth, velocityCap) per customer. */
  private readonly customers = new Map<string, PastOrder[]>();
  /** Newest first, at most velocityCap per address. */
  private readonly addresses = new Map<string, number[]>();
  private readonly customerDepth: number;
  private readonly maxEntries: number;

  constructor(
    private readonly store: HistoryStore,
    private readonly opts: RiskHistoryOptions,
  ) {
    this.customerDepth = Math.max(opts.depth, opts.velocityCap);
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  /** The customer's previous orders, newest first, at most `depth`. */
  previousOrders(customerId: string): readonly PastOrder[] {
    return this.customer(customerId).slice(0, this.opts.depth);
  }

  /** The customer's orders created at or after `since`, counted up to `velocityCap`. */
  customerOrdersSince(customerId: string, since: number): number {
    return countSince(
      this.customer(customerId).map((o) => o.createdAt),
      since,
      this.opts.velocityCap,
    );
  }

  /** Orders to the same ship-to address (as the store's ship-to key normalises it) since `since`, up to `velocityCap`. */
  addressOrdersSince(shipTo: ShipTo, since: number): number {
    return countSince(this.address(shipTo), since, this.opts.velocityCap);
  }

  /**
   * A new order, once its savepoint is released, described as a reload from the store would.
   * Only entries already in memory change: one loaded later reads the store, which has the order.
   */
  record(order: Pick<OrderInput, 'customer' | 'shipTo' | 'lines'>, createdAt: number): void {
    const customer = this.customers.get(order.customer.id);
    if (customer) insertNewestFirst(customer, { value: this.opts.valueOf(order.lines), point: pointOf(order.shipTo), createdAt }, (o) => o.createdAt, this.customerDepth);
    const address = this.addresses.get(shipToKey(order.shipTo));
    if (address) insertNewestFirst(address, createdAt, (t) => t, this.opts.velocityCap);
  }

  /** After a failed group commit: what was recorded may not be in the store. */
  forget(): void {
    this.customers.clear();
    this.addresses.clear();
  }

  private customer(customerId: string): PastOrder[] {
    return this.cached(this.customers, customerId, () =>
      this.store.recentOrdersOfCustomer(customerId, this.customerDepth).map((o) => ({
        value: this.opts.valueOf(o.body.lines),
        point: pointOf(o.body.shipTo),
        createdAt: o.createdAt,
      })),
    );
  }

  private address(shipTo: ShipTo): number[] {
    return this.cached(this.addresses, shipToKey(shipTo), () => this.store.recentShipToOrderTimes(shipTo, this.opts.velocityCap));
  }

  private cached<T>(map: Map<string, T>, key: string, load: () => T): T {
    let entry = map.get(key);
    if (entry === undefined) {
      entry = load();
      if (map.size >= this.maxEntries) {
        const oldest = map.keys().next();
        if (!oldest.done) map.delete(oldest.value);
      }
    } else {
      // Re-inserted so the Map's order is least recently used first.
      map.delete(key);
    }
    map.set(key, entry);
    return entry;
  }
}

function pointOf(shipTo: ShipTo): GeoPoint | undefined {
  return shipTo.lat !== undefined && shipTo.lon !== undefined ? { lat: shipTo.lat, lon: shipTo.lon } : undefined;
}

function countSince(newestFirst: readonly number[], since: number, cap: number): number {
  let n = 0;
  for (const at of newestFirst) {
    if (n >= cap) break;
    if (at >= since) n++;
  }
  return n;
}

/** Keeps `list` newest first and at most `max` long; ties go before the older equal entries. */
function insertNewestFirst<T>(list: T[], item: T, at: (t: T) => number, max: number): void {
  const t = at(item);
  let i = 0;
  while (i < list.length && at(list[i] as T) > t) i++;
  list.splice(i, 0, item);
  if (list.length > max) list.length = max;
}
