/**
 * Shared by the fault-injection tests of test/reliability/: a sales channel that remembers which
 * orders it got an acknowledgement for, the invariants of DESIGN §4 checked over the HTTP API
 * and the durable journal, and the one-line JSON figures each test prints for RELIABILITY.md.
 *
 * Everything works against an in-process core and a spawned process alike: reads go through a
 * `get` function (HTTP) and a read-only connection to the store file (SQLite allows readers
 * beside the core's writer in WAL mode).
 */
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteLayout } from '../../src/domain/site-layout.js';
import type { VdaState } from '../../protocols/index.js';
import { createOrderGenerator } from '../../simulators/index.js';
import { listAllOrders, listStock, reservationMismatches, sumOf, type Get, type OrderView, type StockView } from './orders.js';

/** Line states past the pick, on the way to the customer. */
export const PICKED_OR_LATER: readonly string[] = ['PICKED', 'PACKED', 'SHIPPED', 'DELIVERED'];

/** What one Idempotency-Key came to, as far as the channel knows. */
export type PostOutcome =
  | { kind: 'acknowledged'; orderId: string; status: number }
  /** A 4xx or 5xx answer: the core said no (nothing was committed). */
  | { kind: 'refused'; status: number; body: string }
  /** No answer (connection refused or cut): the order may or may not have been committed. */
  | { kind: 'unanswered'; error: string };

export interface PosterOptions {
  layout: SiteLayout;
  /** SKUs the orders draw from (the test tops their stock up so nothing is backordered). */
  skus: readonly string[];
  seed: number;
  token: string;
  /** Where the core is now; undefined while it is down (requests then count as unanswered). */
  baseUrl: () => string | undefined;
  /** Key prefix, unique per run so a re-run never replays an old key. */
  run: string;
  maxLinesPerOrder?: number;
  maxUnitsPerLine?: number;
}

/**
 * A sales channel at a fixed rate: order bodies come from the simulators' order generator
 * (restricted to the test's SKUs), every request carries an Idempotency-Key, and each key's
 * outcome is remembered so the test can tell acknowledged orders from unanswered ones.
 */
export class OrderPoster {
  readonly outcomes = new Map<string, PostOutcome>();
  private readonly bodies = new Map<string, Record<string, unknown>>();
  private readonly makeOrder: (n: number) => Record<string, unknown>;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private n = 0;

  constructor(private readonly opts: PosterOptions) {
    const wanted = new Set(opts.skus);
    const layout: SiteLayout = { ...opts.layout, stock: opts.layout.stock.filter((s) => wanted.has(s.sku)) };
    const generate = createOrderGenerator({ layout, maxLinesPerOrder: opts.maxLinesPerOrder ?? 2, maxUnitsPerLine: opts.maxUnitsPerLine ?? 2, seed: opts.seed });
    this.makeOrder = (n) => ({ ...generate(n), externalId: this.keyOf(n) });
  }

  /**
   * Posts `perSecond` orders a second until `stop()`, or until `max` were sent. While the core
   * is known to be down (no base URL) the channel holds back, as a real one backs off; requests
   * already under way when it went down stay unanswered.
   */
  start(perSecond: number, max = Infinity): void {
    this.timer = setInterval(() => {
      if (this.n >= max || this.opts.baseUrl() === undefined) return;
      void this.post(++this.n);
    }, 1000 / perSecond);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
  }

  /** Posts the next order now and waits for its outcome. */
  async postOne(): Promise<PostOutcome> {
    const n = ++this.n;
    await this.post(n);
    return this.outcomes.get(this.keyOf(n))!;
  }

  get sent(): number {
    return this.n;
  }

  acknowledged(): { key: string; orderId: string }[] {
    return [...this.outcomes].flatMap(([key, o]) => (o.kind === 'acknowledged' ? [{ key, orderId: o.orderId }] : []));
  }

  keysWith(kind: PostOutcome['kind']): string[] {
    return [...this.outcomes].filter(([, o]) => o.kind === kind).map(([k]) => k);
  }

  /**
   * What a channel does after an outage: re-post every unanswered key with the same body. The
   * core replays what it had committed or creates the order now; afterwards every key has an
   * answer. Returns how many of the re-posts were replays.
   */
  async retryUnanswered(): Promise<{ retried: number; replayed: number }> {
    let replayed = 0;
    const keys = this.keysWith('unanswered');
    for (const key of keys) {
      const res = await this.send(key);
      if (res?.replayed) replayed++;
    }
    return { retried: keys.length, replayed };
  }

  private keyOf(n: number): string {
    return `${this.opts.run}-${String(n).padStart(5, '0')}`;
  }

  private post(n: number): Promise<void> {
    const key = this.keyOf(n);
    this.bodies.set(key, this.makeOrder(n));
    const p = this.send(key)
      .then(() => undefined)
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  private async send(key: string): Promise<{ replayed: boolean } | undefined> {
    const base = this.opts.baseUrl();
    if (base === undefined) {
      this.outcomes.set(key, { kind: 'unanswered', error: 'core down' });
      return undefined;
    }
    try {
      const res = await fetch(`${base}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.opts.token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(this.bodies.get(key)),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status >= 200 && res.status < 300) {
        this.outcomes.set(key, { kind: 'acknowledged', orderId: (JSON.parse(text) as OrderView).id, status: res.status });
        return { replayed: res.headers.get('idempotent-replayed') === 'true' };
      }
      this.outcomes.set(key, { kind: 'refused', status: res.status, body: text.slice(0, 300) });
    } catch (err) {
      const e = err as { message?: string; cause?: { code?: string } };
      this.outcomes.set(key, { kind: 'unanswered', error: `${e.message ?? String(err)}${e.cause?.code ? ` (${e.cause.code})` : ''}` });
    }
    return undefined;
  }
}

/** AMR-zone and AS/RS-zone SKUs of a layout with stock, first `amr` and `asrs` of each, sorted. */
export function pickSkus(layout: SiteLayout, amr: number, asrs: number): string[] {
  const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
  const of = (zone: string) => [...new Set(layout.stock.filter((s) => zoneOf.get(s.location) === zone && s.onHand > 0).map((s) => s.sku))].sort();
  return [...of('amr').slice(0, amr), ...of('asrs').slice(0, asrs)];
}

/** Tops every stock position of `skus` up by `delta` (reason `found`), so no order is backordered. */
export async function topUp(post: (path: string, body: unknown) => Promise<Response>, get: Get, skus: readonly string[], delta: number): Promise<void> {
  for (const sku of skus) {
    for (const p of await listStock(get, sku)) {
      const res = await post('/api/v1/inventory/adjustments', { location: p.location, sku, delta, reason: 'found', note: 'reliability test top-up' });
      if (res.status !== 201) throw new Error(`top-up of ${sku}@${p.location}: HTTP ${res.status} ${await res.text()}`);
    }
  }
}

/** On hand per SKU over all its positions. */
export function onHandBySku(stock: readonly StockView[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of stock) m.set(p.sku, (m.get(p.sku) ?? 0) + p.onHand);
  return m;
}

export interface PickEvent {
  lineId: string;
  sku: string;
  quantity: number;
  taskId: string | undefined;
  actionId: string | undefined;
}

/** What the durable store says happened, read from the store file without disturbing the core. */
export interface Ledger {
  /** Every `stock.picked` in the journal (each took stock off a shelf once). */
  picks: PickEvent[];
  /** Outbox commands sent more than once (re-sent until their device echoed them). */
  resentCommands: number;
  /** Outbox commands never confirmed by their device, among those that need an echo. */
  unconfirmedCommands: number;
  /** Tasks by state. */
  tasks: Record<string, number>;
  /** Journal events of these types, counted. */
  events: Record<string, number>;
  /** Exception records by type (short picks, unreachable devices, timed-out tasks, ...). */
  exceptions: Record<string, number>;
}

export function readLedger(dataDir: string, countEvents: readonly string[] = []): Ledger {
  const db = new Database(join(dataDir, 'pickwire.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const picks = (db.prepare("SELECT data FROM events WHERE type = 'stock.picked' ORDER BY seq").all() as { data: string }[]).map((r) => {
      const d = JSON.parse(r.data) as { lineId: string; sku: string; quantity: number; taskId?: string; actionId?: string };
      return { lineId: d.lineId, sku: d.sku, quantity: d.quantity, taskId: d.taskId, actionId: d.actionId };
    });
    const resentCommands = (db.prepare('SELECT count(*) AS n FROM outbox WHERE attempts > 1').get() as { n: number }).n;
    const unconfirmedCommands = (db.prepare('SELECT count(*) AS n FROM outbox WHERE correlation IS NOT NULL AND confirmed_at IS NULL').get() as { n: number }).n;
    const tasks = Object.fromEntries((db.prepare('SELECT state, count(*) AS n FROM tasks GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]));
    const events: Record<string, number> = {};
    for (const type of countEvents) events[type] = (db.prepare('SELECT count(*) AS n FROM events WHERE type = ?').get(type) as { n: number }).n;
    const exceptions = Object.fromEntries(
      (db.prepare("SELECT json_extract(data, '$.type') AS type, count(*) AS n FROM events WHERE type = 'exception.raised' GROUP BY 1").all() as { type: string; n: number }[]).map((r) => [r.type, r.n]),
    );
    return { picks, resentCommands, unconfirmedCommands, tasks, events, exceptions };
  } finally {
    db.close();
  }
}

export interface InvariantReport {
  /** One message per broken invariant; empty when everything holds. */
  problems: string[];
  /** Acknowledged orders not found. */
  lost: number;
  /** Keys that made more than one order, plus picks booked twice. */
  duplicates: number;
  orders: number;
  lines: number;
  unitsPicked: number;
}

/**
 * The invariants of DESIGN §4 over what the run touched:
 * - every acknowledged order is there, once (one order per Idempotency-Key);
 * - reserved <= on hand at every position, and what positions hold reserved equals the unpicked
 *   units of the open lines;
 * - stock is conserved: on hand now = on hand at start - units picked (no receipts or
 *   adjustments happen after `initialOnHand` was taken);
 * - no pick is booked twice: per line, the journaled picks add up to the line's picked count,
 *   never over its quantity, and no (task, action) is booked twice.
 */
export async function checkInvariants(
  get: Get,
  opts: {
    acknowledged: readonly { key: string; orderId: string }[];
    keyPrefix: string;
    skus: readonly string[];
    initialOnHand: ReadonlyMap<string, number>;
    /** The journal's picks; a function when the floor is still working, so that it is read with the rest (see floorSnapshot). */
    ledger: Ledger | (() => Ledger);
  },
): Promise<InvariantReport & { all: OrderView[]; stock: StockView[] }> {
  const problems: string[] = [];
  const snapshot = await floorSnapshot(get, typeof opts.ledger === 'function' ? opts.ledger : () => opts.ledger as Ledger);
  const everyOrder = snapshot.orders;
  const ledger = snapshot.ledger;
  const all = everyOrder.filter((o) => (o.externalId ?? '').startsWith(opts.keyPrefix));
  const byId = new Map(all.map((o) => [o.id, o]));
  let lost = 0;
  for (const a of opts.acknowledged) {
    const o = byId.get(a.orderId);
    if (!o) {
      lost++;
      problems.push(`acknowledged order ${a.orderId} (${a.key}) is missing`);
    } else if (o.externalId !== a.key) problems.push(`order ${a.orderId} carries ${o.externalId ?? 'no key'}, acknowledged for ${a.key}`);
  }
  const perKey = new Map<string, number>();
  for (const o of all) perKey.set(o.externalId ?? '', (perKey.get(o.externalId ?? '') ?? 0) + 1);
  let duplicates = 0;
  for (const [key, n] of perKey) {
    if (n > 1) {
      duplicates += n - 1;
      problems.push(`${n} orders for key ${key}`);
    }
  }

  const skus = new Set(opts.skus);
  const stock = snapshot.stock.filter((p) => skus.has(p.sku));
  for (const p of stock) if (p.reserved > p.onHand) problems.push(`${p.sku}@${p.location}: reserved ${p.reserved} > on hand ${p.onHand}`);
  // Every order of the site counts for reservations, not only this run's: the SKUs are the run's.
  problems.push(...reservationMismatches(stock, everyOrder, skus).problems);

  const pickedBySku = new Map<string, number>();
  for (const o of everyOrder) for (const l of o.lines) if (skus.has(l.sku)) pickedBySku.set(l.sku, (pickedBySku.get(l.sku) ?? 0) + l.picked);
  const now = onHandBySku(stock);
  for (const sku of skus) {
    const expected = (opts.initialOnHand.get(sku) ?? 0) - (pickedBySku.get(sku) ?? 0);
    if ((now.get(sku) ?? 0) !== expected) problems.push(`${sku}: on hand ${now.get(sku) ?? 0}, expected ${expected} (start ${opts.initialOnHand.get(sku) ?? 0} - picked ${pickedBySku.get(sku) ?? 0})`);
  }

  const picksOfLine = new Map<string, PickEvent[]>();
  for (const p of ledger.picks) picksOfLine.set(p.lineId, [...(picksOfLine.get(p.lineId) ?? []), p]);
  const booked = new Set<string>();
  for (const p of ledger.picks) {
    const id = `${p.taskId ?? '?'}/${p.actionId ?? '?'}`;
    if (booked.has(id)) {
      duplicates++;
      problems.push(`pick ${id} of ${p.lineId} booked twice`);
    }
    booked.add(id);
  }
  for (const o of all) {
    for (const l of o.lines) {
      const journaled = sumOf(picksOfLine.get(l.id) ?? [], (p) => p.quantity);
      if (journaled !== l.picked) problems.push(`${l.id}: journal books ${journaled} picked, the line says ${l.picked}`);
      if (l.picked > l.quantity) {
        duplicates++;
        problems.push(`${l.id}: picked ${l.picked} of ${l.quantity}`);
      }
    }
  }
  const lines = all.flatMap((o) => o.lines);
  return { problems, lost, duplicates, orders: all.length, lines: lines.length, unitsPicked: sumOf(lines, (l) => l.picked), all, stock };
}

/**
 * Orders, stock and the journal's picks as of one moment, on a floor that may still be working.
 * Three separate reads are not one transaction: a pick between the stock read and the orders
 * read shows as stock still reserved for a line that says picked (a run once failed on exactly
 * that). Every reservation and pick changes a line in the same transaction as the stock and the
 * journal, so when no order or line changed from before the stock and journal reads to after
 * them, the three agree. Read again until they do.
 */
async function floorSnapshot(get: Get, readLedger: () => Ledger): Promise<{ orders: OrderView[]; stock: StockView[]; ledger: Ledger }> {
  const signature = (orders: readonly OrderView[]): string => JSON.stringify(orders.map((o) => [o.id, o.status, o.lines.map((l) => [l.id, l.state, l.picked])]));
  let before = await listAllOrders(get);
  for (let attempt = 0; attempt < 50; attempt++) {
    const stock = await listStock(get);
    const ledger = readLedger();
    const after = await listAllOrders(get);
    if (signature(after) === signature(before)) return { orders: after, stock, ledger };
    before = after;
  }
  throw new Error('checkInvariants: orders kept changing while stock and journal were read (50 tries); no consistent snapshot');
}

/** Lines of the given orders not yet picked (with their states), empty when all are. */
export async function unpickedLines(get: Get, orderIds: readonly string[]): Promise<string[]> {
  const ids = new Set(orderIds);
  const open: string[] = [];
  for (const o of await listAllOrders(get)) {
    if (!ids.has(o.id)) continue;
    for (const l of o.lines) if (!PICKED_OR_LATER.includes(l.state)) open.push(`${l.id}:${l.state}`);
  }
  return open;
}

/**
 * Lines of the given orders that are neither picked nor given up: a line whose retries ran out
 * (UNROUTABLE, `attempts-exhausted`) has an open exception for the operator and released its
 * stock, so it is settled (not lost) — the tests count such lines in their figures.
 */
export async function unsettledLines(get: Get, orderIds: readonly string[]): Promise<{ open: string[]; gaveUp: string[] }> {
  const ids = new Set(orderIds);
  const open: string[] = [];
  const gaveUp: string[] = [];
  for (const o of await listAllOrders(get)) {
    if (!ids.has(o.id)) continue;
    for (const l of o.lines) {
      if (l.state === 'UNROUTABLE') gaveUp.push(l.id);
      else if (!PICKED_OR_LATER.includes(l.state)) open.push(`${l.id}:${l.state}`);
    }
  }
  return { open, gaveUp };
}

/** Line ids with an open exception (an operator has been told). */
export async function linesWithOpenException(get: Get): Promise<Set<string>> {
  const res = await get('/api/v1/exceptions?status=open&limit=500');
  if (res.status !== 200) throw new Error(`GET /exceptions: HTTP ${res.status}`);
  return new Set(((await res.json()) as { items: { lineId: string | null }[] }).items.flatMap((e) => (e.lineId ? [e.lineId] : [])));
}

/** Held device tasks now (dispatched, running or paused), over the API. */
export async function tasksInFlight(get: Get): Promise<number> {
  let n = 0;
  for (const state of ['DISPATCHED', 'RUNNING', 'PAUSED']) {
    const res = await get(`/api/v1/tasks?state=${state}`);
    if (res.status !== 200) throw new Error(`GET /tasks?state=${state}: HTTP ${res.status}`);
    n += ((await res.json()) as { items: unknown[] }).items.length;
  }
  return n;
}

/** Held tasks and devices as the core sees them: what a stuck run is waiting for. */
export async function floorDump(call: Get): Promise<string> {
  const out: string[] = [];
  for (const state of ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED']) {
    const items = ((await (await call(`/api/v1/tasks?state=${state}`)).json()) as { items: { id: string; kind: string; deviceId?: string; lineId: string; updatedAt: number }[] }).items;
    for (const t of items.slice(0, 15)) out.push(`task ${t.id} ${state} ${t.kind} ${t.lineId} on ${t.deviceId ?? '-'} for ${Math.round((Date.now() - t.updatedAt) / 1000)} s`);
  }
  const devices = ((await (await call('/api/v1/devices')).json()) as { items: Record<string, unknown>[] }).items;
  for (const d of devices) out.push(`device ${String(d.id)} ${String(d.state)} task=${String(d.task)} node=${String(d.lastNodeId)} driving=${String(d.driving)} reserved=${JSON.stringify(d.reservedNodes)} errors=${JSON.stringify(d.errors)}`);
  return out.join('\n');
}

/** One line per vehicle: its order, where it stands, what is left of the order, its unfinished actions and errors. */
export function describeVehicles(states: ReadonlyMap<string, VdaState>): string {
  return [...states.values()]
    .sort((a, b) => a.serialNumber.localeCompare(b.serialNumber))
    .map((s) => {
      const base = s.nodeStates.filter((n) => n.released).map((n) => n.nodeId);
      const horizon = s.nodeStates.filter((n) => !n.released).length;
      const open = s.actionStates.filter((a) => a.actionStatus !== 'FINISHED' && a.actionStatus !== 'FAILED').map((a) => `${a.actionId}:${a.actionStatus}`);
      return `${s.serialNumber} order=${s.orderId}#${s.orderUpdateId} at=${s.lastNodeId}#${s.lastNodeSequenceId} driving=${s.driving} newBaseRequest=${String(s.newBaseRequest)} base=${JSON.stringify(base)} horizon=${horizon} openActions=${JSON.stringify(open)} errors=${JSON.stringify(s.errors.map((e) => `${e.errorType}: ${e.errorDescription ?? ''}`))}`;
    })
    .join('\n');
}

/**
 * Keeps what a failing run leaves for its diagnosis in a new /tmp/pickwire-<test>-diag-* dir: a
 * copy of the data dir (the store file) and the given text files. Returns the dir.
 */
export function keepDiagnostics(test: string, dataDir: string, files: Record<string, string>): string {
  const diag = mkdtempSync(join(tmpdir(), `pickwire-${test}-diag-`));
  cpSync(dataDir, join(diag, 'data'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(diag, name), text);
  console.error(`${test}: diagnostics kept in ${diag}`);
  return diag;
}

/** The figures a reliability test prints, one JSON line, picked up for RELIABILITY.md. */
export interface Figures {
  test: string;
  faultsInjected: number;
  ordersAcknowledged: number;
  ordersCompleted: number;
  ordersLost: number;
  duplicates: number;
  seconds: number;
  [more: string]: unknown;
}

export function printFigures(f: Figures): void {
  console.log(`RELIABILITY ${JSON.stringify(f)}`);
}
