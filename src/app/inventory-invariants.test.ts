/**
 * Property test of the inventory invariants of DESIGN §4 over the real store and use cases (no
 * MQTT, no HTTP): random sequences of orders, receipts, adjustments (some refused), whole and
 * partial picks, and execution failures of released and partly picked lines. After every step:
 *   - reserved <= on hand, both >= 0, at every position;
 *   - on hand per SKU == initial + receipts + positive adjustments - picks - negative adjustments;
 *   - reserved per SKU == what lines in SOURCED/RELEASED/PICKING still have to pick;
 *   - picked never exceeds the ordered quantity;
 *   - after a receipt or positive adjustment, no BACKORDERED line of that SKU fits one position.
 * The demo floor sits in a network of three sites, so orders are also sourced to, released
 * (handed over) at and picked at another site's position.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import { loadSiteLayout } from '../adapters/site-loader.js';
import { MemorySink } from '../adapters/telemetry/memory-sink.js';
import type { LineRecord, OrderInput } from '../domain/records.js';
import { RouteGraph } from '../domain/route-graph.js';
import { atp } from '../domain/stock.js';
import { PickwireError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import type { Clock, Notifier } from '../ports.js';
import type { AppContext } from './context.js';
import { OrderIntake } from './intake.js';
import { ADJUSTMENT_REASONS, InventoryService } from './inventory-service.js';
import { LineService } from './line-service.js';
import { TelemetryRecorder } from './telemetry-recorder.js';
import { runInTransaction } from './unit-of-work.js';
import { ReleasePlanner } from './release-planner.js';
import { SourcingService } from './sourcing-service.js';
import { ExceptionService } from './exception-service.js';
import { REMOTE_LOCATION } from '../domain/records.js';
import type { SiteLayout } from '../domain/site-layout.js';
import { threeSiteNetwork } from '../../test/support/network.js';

/** The demo floor in a network of three sites, so sourcing, splits and hand-overs take part. */
const layout: SiteLayout = { ...loadSiteLayout('demo'), network: threeSiteNetwork() };
const SITE = layout.site.id;
const REMOTE = 'hamburg';
/** SKUs per world: each world names its own (`R<n>-A`, ...), so worlds can share one store. */
const SKU_COUNT = 3;
/** AMR and AS/RS locations of the demo layout; the third SKU starts in two of them. */
const LOCATIONS = [
  layout.locations.find((l) => l.zone === 'amr')!.id,
  layout.locations.find((l) => l.zone === 'asrs')!.id,
  layout.locations.filter((l) => l.zone === 'amr')[1]!.id,
];
/** Where receipts and adjustments go: three positions of this floor and one of another site. */
const TARGETS = [...LOCATIONS.map((location) => ({ site: SITE, location })), { site: REMOTE, location: REMOTE_LOCATION }];
const RESERVING = ['SOURCED', 'RELEASED', 'PICKING'] as const;
const ALL_STATES = ['CREATED', 'SOURCED', 'BACKORDERED', 'UNROUTABLE', 'RELEASED', 'PICKING', 'PICKED', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED'] as const;

/**
 * One store file for every world: opening and migrating a fresh SQLite file costs ~40 ms, which
 * is most of the budget at 100 runs. Worlds never see each other's SKUs, lines or positions.
 */
let t = Date.UTC(2025, 0, 6, 9, 0, 0);
const clock = { now: () => t, setTimer: () => () => undefined, advance: (ms: number) => void (t += ms) };
let dir: string;
let store: SqliteStore;
let worlds = 0;
const locations = new Map(layout.locations.map((l) => [l.id, l]));
const graph = new RouteGraph(layout);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pw-inv-prop-'));
  store = new SqliteStore({ dataDir: dir, clock });
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface World {
  store: SqliteStore;
  skus: string[];
  /** Ids of the world's orders, to read its lines without scanning other worlds'. */
  orders: string[];
  lines: LineService;
  intake: OrderIntake;
  inventory: InventoryService;
  release: ReleasePlanner;
  clock: Clock & { advance(ms: number): void };
  /** The model: expected on hand per SKU, from the actions that succeeded. */
  onHand: Map<string, number>;
}

/** A fresh set of SKUs with the given opening stock (`[sku index, location, on hand, safety stock]`). */
function world(initial: readonly (readonly [sku: number, location: string, onHand: number, safety: number, site?: string])[]): World {
  worlds += 1;
  const skus = Array.from({ length: SKU_COUNT }, (_, i) => `R${worlds}-${String.fromCharCode(65 + i)}`);
  const notifier: Notifier = { publish: () => undefined, subscribe: () => () => undefined };
  const ctx: AppContext = {
    store,
    clock,
    layout,
    locations,
    graph,
    notifier,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ processMetrics: false }),
    siteId: SITE,
    telemetry: new TelemetryRecorder({ sink: new MemorySink({ capacity: 100 }), site: SITE, now: clock.now }),
    maxLineAttempts: 3,
  };
  const onHand = new Map<string, number>();
  store.tx(() => {
    for (const sku of skus) store.upsertSku({ sku, name: sku });
    for (const [i, location, qty, safety, site = SITE] of initial) {
      const sku = skus[i]!;
      const zone = site === SITE ? ctx.locations.get(location)!.zone : 'remote';
      store.insertStock({ site, location, sku, zone, onHand: qty, reserved: 0, safetyStock: safety });
      onHand.set(sku, (onHand.get(sku) ?? 0) + qty);
    }
  });
  const sourcing = new SourcingService(ctx, { weights: { cost: 1, distance: 1, time: 1, co2: 0.5 }, minShipmentValue: 0 });
  const lines = new LineService(ctx, sourcing, new ExceptionService(ctx), () => undefined);
  return {
    store,
    skus,
    orders: [],
    lines,
    intake: new OrderIntake(ctx, lines, sourcing, { maxLineQuantity: 100 }),
    inventory: new InventoryService(ctx, lines, sourcing),
    release: new ReleasePlanner(ctx, lines, { window: 10_000 }),
    clock,
    onHand,
  };
}

/** The world's lines in these states. */
function allLines(w: World, states: readonly string[] = ALL_STATES): LineRecord[] {
  return w.store.linesOfOrders(w.orders).filter((l) => states.includes(l.state));
}

async function submit(w: World, lines: { sku: string; quantity: number }[]): Promise<string> {
  const r = await w.intake.submit(order(lines), undefined);
  expect(r.statusCode).toBe(201);
  const id = (r.body as { id: string }).id;
  w.orders.push(id);
  return id;
}

const picked = (l: LineRecord): number => l.snapshot.context.picked;

function checkInvariants(w: World, label: string): void {
  const positions = w.skus.flatMap((sku) => w.store.stockOf(sku));
  for (const p of positions) {
    expect(p.reserved, `${label}: reserved >= 0 at ${p.location}/${p.sku}`).toBeGreaterThanOrEqual(0);
    expect(p.onHand, `${label}: on hand >= 0 at ${p.location}/${p.sku}`).toBeGreaterThanOrEqual(0);
    expect(p.reserved, `${label}: reserved <= on hand at ${p.location}/${p.sku}`).toBeLessThanOrEqual(p.onHand);
  }
  const open = allLines(w, RESERVING);
  for (const sku of w.skus) {
    const mine = positions.filter((p) => p.sku === sku);
    expect(mine.reduce((s, p) => s + p.onHand, 0), `${label}: stock of ${sku} is conserved`).toBe(w.onHand.get(sku) ?? 0);
    const demand = open.filter((l) => l.sku === sku).reduce((s, l) => s + l.quantity - picked(l), 0);
    expect(mine.reduce((s, p) => s + p.reserved, 0), `${label}: reserved ${sku} matches open lines`).toBe(demand);
  }
  for (const l of allLines(w)) expect(picked(l), `${label}: ${l.id} picked <= quantity`).toBeLessThanOrEqual(l.quantity);
}

function order(lines: { sku: string; quantity: number }[]): OrderInput {
  return { channel: 'prop', customer: { id: 'c1' }, shipTo: { name: 'n', line1: 'l', city: 'c', postalCode: '1', country: 'DE' }, lines };
}

type Action =
  | { kind: 'order'; lines: { sku: number; quantity: number }[] }
  | { kind: 'receipt'; sku: number; location: number; quantity: number }
  | { kind: 'adjust'; sku: number; location: number; delta: number; reason: (typeof ADJUSTMENT_REASONS)[number] }
  | { kind: 'pick'; pick: number; quantity: number }
  | { kind: 'fail'; pick: number }
  | { kind: 'release' };

const skuIdx = fc.nat({ max: SKU_COUNT - 1 });
const locIdx = fc.nat({ max: TARGETS.length - 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('order' as const), lines: fc.array(fc.record({ sku: skuIdx, quantity: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('receipt' as const), sku: skuIdx, location: locIdx, quantity: fc.integer({ min: 1, max: 8 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('adjust' as const),
      sku: skuIdx,
      location: locIdx,
      delta: fc.integer({ min: -8, max: 8 }).filter((d) => d !== 0),
      reason: fc.constantFrom(...ADJUSTMENT_REASONS),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('pick' as const), pick: fc.nat(), quantity: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('release' as const) }) },
);

async function step(w: World, a: Action): Promise<void> {
  w.clock.advance(1000);
  switch (a.kind) {
    case 'order': {
      await submit(w, a.lines.map((l) => ({ sku: w.skus[l.sku]!, quantity: l.quantity })));
      return;
    }
    case 'receipt': {
      const sku = w.skus[a.sku]!;
      const r = w.inventory.receive({ ...TARGETS[a.location]!, sku, quantity: a.quantity, reason: 'po' }, 'prop');
      w.onHand.set(sku, (w.onHand.get(sku) ?? 0) + a.quantity);
      expect(r.position.onHand).toBeGreaterThanOrEqual(a.quantity);
      return checkBackordersDrained(w, sku);
    }
    case 'adjust': {
      const sku = w.skus[a.sku]!;
      const { site, location } = TARGETS[a.location]!;
      const before = w.store.stockAt(site, location, sku);
      const refused = (before?.onHand ?? 0) + a.delta < (before?.reserved ?? 0);
      try {
        w.inventory.adjust({ site, location, sku, delta: a.delta, reason: a.reason }, 'prop');
      } catch (err) {
        expect(refused, `adjust ${a.delta} refused unexpectedly: ${String(err)}`).toBe(true);
        expect(err).toBeInstanceOf(PickwireError);
        expect((err as PickwireError).code).toBe('PW_ERR_INVALID_STATE');
        expect(w.store.stockAt(site, location, sku)).toEqual(before);
        return;
      }
      expect(refused, 'an adjustment below reserved went through').toBe(false);
      w.onHand.set(sku, (w.onHand.get(sku) ?? 0) + a.delta);
      if (a.delta > 0) checkBackordersDrained(w, sku);
      return;
    }
    case 'pick': {
      // Whole remaining quantity or less; partial picks leave the line PICKING.
      const candidates = allLines(w, ['RELEASED', 'PICKING']);
      if (candidates.length === 0) return;
      const line = candidates[a.pick % candidates.length]!;
      const quantity = Math.min(a.quantity, line.quantity - picked(line));
      runInTransaction(w.store, (after) => w.lines.recordPick(line, quantity, after, { source: 'prop' }));
      w.onHand.set(line.sku, (w.onHand.get(line.sku) ?? 0) - quantity);
      return;
    }
    case 'fail': {
      // Execution fails, before or after a partial pick: what is left to pick goes back to
      // stock and is sourced again; what was picked stays picked.
      const candidates = allLines(w, ['RELEASED', 'PICKING']);
      if (candidates.length === 0) return;
      const line = candidates[a.pick % candidates.length]!;
      runInTransaction(w.store, (after) => w.lines.fail(line, 'device failed', after));
      return;
    }
    case 'release': {
      // The floor takes SOURCED lines (hand-overs for the other sites' lines).
      w.release.runOnce();
      return;
    }
  }
}

/** Right after stock arrived, every backordered line that one position could fill was sourced. */
function checkBackordersDrained(w: World, sku: string): void {
  const best = w.store.stockOf(sku).reduce((m, p) => Math.max(m, atp(p)), 0);
  for (const l of w.store.backorderedLines(sku)) expect(l.quantity, `${l.id} stayed BACKORDERED with ${best} fillable`).toBeGreaterThan(best);
}

const initialStock = fc.tuple(fc.nat({ max: 6 }), fc.nat({ max: 6 }), fc.nat({ max: 4 }), fc.nat({ max: 4 }), fc.nat({ max: 1 }), fc.nat({ max: 5 }));

describe('inventory invariants under random operations', () => {
  it('keeps reserved <= on hand, conserves stock and matches reservations to open lines', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, fc.array(action, { minLength: 1, maxLength: 40, size: 'max' }), async ([a, b, c1, c2, safety, remote], actions) => {
        const w = world([
          [0, LOCATIONS[0]!, a, 0],
          [1, LOCATIONS[1]!, b, safety],
          [2, LOCATIONS[0]!, c1, 0],
          [2, LOCATIONS[2]!, c2, 0],
          [0, REMOTE_LOCATION, remote, 0, REMOTE],
        ]);
        checkInvariants(w, 'initial');
        for (const [i, act] of actions.entries()) {
          await step(w, act);
          checkInvariants(w, `step ${i} ${act.kind}`);
        }
      }),
      { numRuns: 100 },
    );
  });

  /** The smallest case the property once shrank a real bug to: 2 on hand, order 2, pick 1, fail. */
  it('failing a partly picked line releases and re-sources only what is left to pick', async () => {
    const w = world([[0, LOCATIONS[0]!, 2, 0]]);
    await step(w, { kind: 'order', lines: [{ sku: 0, quantity: 2 }] });
    await step(w, { kind: 'release' });
    await step(w, { kind: 'pick', pick: 0, quantity: 1 });
    const line = allLines(w, ['PICKING'])[0]!;
    runInTransaction(w.store, (after) => w.lines.fail(line, 'device failed', after));
    checkInvariants(w, 'after failing a partly picked line');
  });

  it('sources backorders oldest promise first, one transaction per line', async () => {
    const w = world([[0, LOCATIONS[0]!, 0, 0]]);
    const sku = w.skus[0]!;
    const ids: string[] = [];
    for (const quantity of [3, 5, 2]) {
      ids.push(await submit(w, [{ sku, quantity }]));
      w.clock.advance(60_000);
    }
    expect(w.store.backorderedLines(sku).map((l) => l.orderId)).toEqual(ids);
    // 4 units: the oldest (3) fits, the next (5) does not and waits, the newest (2) no longer fits either.
    const r = w.inventory.receive({ location: LOCATIONS[0]!, sku, quantity: 4, reason: 'po' });
    expect(r.resourced.map((l) => l.orderId)).toEqual([ids[0]]);
    expect(r.position).toMatchObject({ onHand: 4, reserved: 3, atp: 1 });
    // 1 more unit (2 free): the 5 still waits, the 2 behind it is served.
    const r2 = w.inventory.adjust({ location: LOCATIONS[0]!, sku, delta: 1, reason: 'found' });
    expect(r2.resourced.map((l) => l.orderId)).toEqual([ids[2]]);
    expect(w.store.backorderedLines(sku).map((l) => l.orderId)).toEqual([ids[1]]);
    w.onHand.set(sku, 5);
    checkInvariants(w, 'end');
  });
});
