/**
 * Read helpers for order and stock invariants over the HTTP API, shared by the concurrency
 * (oversell) and crash tests. They take a `get` function so they work against the in-process
 * harness and against a spawned process alike.
 */

import type { LineView, OrderView } from '../../src/app/queries.js';

export type Get = (path: string) => Promise<Response>;

// The API's own response shapes (src/app/queries.ts): the tests read what the core serves.
export type { LineView, OrderView } from '../../src/app/queries.js';

export interface StockView {
  site: string;
  location: string;
  sku: string;
  zone: string;
  onHand: number;
  reserved: number;
  safetyStock: number;
  atp: number;
}

/** Line states that hold a reservation on their location (DESIGN §3). */
export const RESERVING_STATES: readonly string[] = ['SOURCED', 'RELEASED', 'PICKING'];

/** Units a line still holds reserved: what picks have not consumed yet, in a reserving state. */
export function reservedUnits(line: LineView): number {
  return RESERVING_STATES.includes(line.state) ? line.quantity - line.picked : 0;
}

async function json<T>(res: Response, what: string): Promise<T> {
  if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every order, following `nextCursor` until the end. */
export async function listAllOrders(get: Get): Promise<OrderView[]> {
  const all: OrderView[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const body: { items: OrderView[]; nextCursor: string | null } = await json(await get(`/api/v1/orders?limit=500${q}`), 'GET /orders');
    all.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) return all;
  }
  throw new Error('GET /orders: more than 1000 pages');
}

/** Every stock position (optionally of one SKU), following `nextCursor` until the end. */
export async function listStock(get: Get, sku?: string): Promise<StockView[]> {
  const all: StockView[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const q = [`limit=1000`, sku ? `sku=${encodeURIComponent(sku)}` : '', cursor ? `cursor=${encodeURIComponent(cursor)}` : ''].filter(Boolean).join('&');
    const body: { items: StockView[]; nextCursor: string | null } = await json(await get(`/api/v1/inventory?${q}`), 'GET /inventory');
    all.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) return all;
  }
  throw new Error('GET /inventory: more than 1000 pages');
}

/** On hand - reserved - safety stock without the clamp at 0 the API applies, so an oversell shows. */
export function rawAtp(p: Pick<StockView, 'onHand' | 'reserved' | 'safetyStock'>): number {
  return p.onHand - p.reserved - p.safetyStock;
}

/** Sum of `f` over `items`. */
export function sumOf<T>(items: readonly T[], f: (t: T) => number): number {
  return items.reduce((s, t) => s + f(t), 0);
}

/**
 * Compares what every stock position holds reserved with what the open lines say they hold:
 * returns one message per SKU where they differ (empty when all agree), plus the totals.
 */
export function reservationMismatches(stock: readonly StockView[], orders: readonly OrderView[], skus?: ReadonlySet<string>): { problems: string[]; reservedInStock: number; reservedByLines: number } {
  const inStock = new Map<string, number>();
  for (const p of stock) if (!skus || skus.has(p.sku)) inStock.set(p.sku, (inStock.get(p.sku) ?? 0) + p.reserved);
  const byLines = new Map<string, number>();
  for (const o of orders) {
    for (const l of o.lines) if (!skus || skus.has(l.sku)) byLines.set(l.sku, (byLines.get(l.sku) ?? 0) + reservedUnits(l));
  }
  const problems: string[] = [];
  for (const sku of new Set([...inStock.keys(), ...byLines.keys()])) {
    const a = inStock.get(sku) ?? 0;
    const b = byLines.get(sku) ?? 0;
    if (a !== b) problems.push(`${sku}: positions hold ${a} reserved, lines hold ${b}`);
  }
  return { problems, reservedInStock: sumOf([...inStock.values()], (n) => n), reservedByLines: sumOf([...byLines.values()], (n) => n) };
}

/** A small deterministic PRNG (mulberry32), so a failing burst can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
