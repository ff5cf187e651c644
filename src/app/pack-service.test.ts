/**
 * The pack service over the real SQLite store and use cases, on a hand-driven clock (no MQTT):
 * consolidation of an order's totes, the pack deadline and the carrier cut-off fired by the
 * service's own timer, both surviving a store reopen (a restart), and the periodic sweep starting
 * a parcel once a sibling line stops holding it back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSiteLayout } from '../adapters/site-loader.js';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import type { LineRecord, TaskRecord } from '../domain/records.js';
import { ExceptionService } from './exception-service.js';
import { OrderIntake } from './intake.js';
import { LineService } from './line-service.js';
import { PackService } from './pack-service.js';
import { seedFromLayout } from './site-seed.js';
import { SourcingService } from './sourcing-service.js';
import { runInTransaction } from './unit-of-work.js';
import { ManualClock, testAppContext } from './testing/app-context.js';

const layout = loadSiteLayout('demo');
const TIMING = { baseSeconds: 30, secondsPerUnit: 10 };

interface Rig {
  store: SqliteStore;
  lines: LineService;
  packs: PackService;
  intake: OrderIntake;
}

function rig(dir: string, clock: ManualClock, shipAtCutoff = true): Rig {
  const store = new SqliteStore({ dataDir: dir, clock });
  seedFromLayout(store, layout);
  const ctx = testAppContext(store, clock, layout);
  const sourcing = new SourcingService(ctx, { weights: { cost: 1, distance: 1, time: 1, co2: 0.5 }, minShipmentValue: 0 });
  const lines = new LineService(ctx, sourcing, new ExceptionService(ctx), () => undefined);
  const packs = new PackService(ctx, store.shipments, lines, sourcing.sites, { timing: TIMING, shipAtCutoff });
  packs.start();
  return { store, lines, packs, intake: new OrderIntake(ctx, lines, sourcing, { maxLineQuantity: 100 }) };
}

const zoneSku = (zone: 'amr' | 'asrs'): string => {
  const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
  return layout.stock.find((s) => zoneOf.get(s.location) === zone && s.onHand > 10)!.sku;
};

async function twoLineOrder(r: Rig): Promise<LineRecord[]> {
  const res = await r.intake.submit(
    {
      channel: 'web',
      customer: { id: 'c-1' },
      shipTo: { name: 'A', line1: '1 Dock Road', city: 'Dortmund', postalCode: '44135', country: 'DE' },
      lines: [
        { sku: zoneSku('amr'), quantity: 2 },
        { sku: zoneSku('asrs'), quantity: 1 },
      ],
    },
    undefined,
  );
  expect(res.statusCode).toBe(201);
  const lines = r.store.linesOf((res.body as { id: string }).id);
  expect(lines.map((l) => l.state)).toEqual(['SOURCED', 'SOURCED']);
  return lines;
}

/** Released and picked in full, as task progress would leave it (no device here). */
function pick(r: Rig, line: LineRecord): void {
  runInTransaction(r.store, (after) => {
    const released = r.lines.apply(line, { type: 'line.release' }, after);
    r.lines.recordPick(released, line.quantity, after, { test: true });
  });
}

function arrive(r: Rig, line: LineRecord, kind: 'amr.pickTrip' | 'arm.pick'): void {
  const task = {
    id: `T-${line.id}`,
    lineId: line.id,
    orderId: line.orderId,
    kind,
    plan: { sku: line.sku, quantity: line.quantity, location: line.location ?? '', stationId: kind === 'amr.pickTrip' ? 'pack-1' : 'arm-st-1' },
  } as TaskRecord;
  runInTransaction(r.store, (after) => r.packs.toteArrived(task, after));
}

const states = (r: Rig, orderId: string): string[] => r.store.linesOf(orderId).map((l) => l.state);

describe('PackService', () => {
  const dirs: string[] = [];
  const open: Rig[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'pw-pack-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const r of open.splice(0)) {
      r.packs.stop();
      r.store.close();
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('packs once both totes are there, then ships at the carrier cut-off, each on its own timer', async () => {
    const start = Date.UTC(2026, 0, 6, 9, 0, 0);
    const clock = new ManualClock(start);
    const r = rig(tempDir(), clock);
    open.push(r);
    const [amr, asrs] = await twoLineOrder(r);
    const orderId = amr!.orderId;

    pick(r, amr!);
    arrive(r, amr!, 'amr.pickTrip');
    expect(r.store.shipments.shipmentsOfOrder(orderId)).toEqual([]);
    clock.advanceTo(start + 60_000);
    pick(r, asrs!);
    // Picked is not enough: the arm's tote is not handed over yet.
    expect(r.store.shipments.shipmentsOfOrder(orderId)).toEqual([]);
    arrive(r, asrs!, 'arm.pick');

    const [packing] = r.store.shipments.shipmentsOfOrder(orderId);
    expect(packing).toMatchObject({ status: 'PACKING', stationId: 'pack-1', units: 3, carrier: 'road', packStartedAt: start + 60_000 });
    expect(packing!.packDueAt).toBe(start + 60_000 + (30 + 3 * 10) * 1000);
    expect(states(r, orderId)).toEqual(['PICKED', 'PICKED']);

    clock.advanceTo(packing!.packDueAt - 1);
    expect(r.store.shipments.getShipment(packing!.id)?.status).toBe('PACKING');
    clock.advanceTo(packing!.packDueAt);
    const packed = r.store.shipments.getShipment(packing!.id)!;
    expect(packed).toMatchObject({ status: 'PACKED', packedAt: packing!.packDueAt });
    // The demo site alone: one road carrier with a 16:00 cut-off, site time = UTC.
    expect(packed.shipDueAt).toBe(Date.UTC(2026, 0, 6, 16, 0, 0));
    expect(states(r, orderId)).toEqual(['PACKED', 'PACKED']);
    expect(r.store.getOrder(orderId)?.fulfilment).toBe('PACKED');

    clock.advanceTo(Date.UTC(2026, 0, 6, 16, 0, 0));
    expect(r.store.shipments.getShipment(packing!.id)).toMatchObject({ status: 'SHIPPED', shippedAt: Date.UTC(2026, 0, 6, 16, 0, 0), shippedBy: 'pack-scheduler' });
    expect(states(r, orderId)).toEqual(['SHIPPED', 'SHIPPED']);
    const shipped = r.store.orderEvents(orderId).filter((e) => e.type === 'line.shipped');
    expect(shipped.map((e) => [e.actor, e.data.how])).toEqual([
      ['pack-scheduler', 'carrier cut-off'],
      ['pack-scheduler', 'carrier cut-off'],
    ]);

    // The carrier confirms delivery; the order closes.
    expect(r.packs.deliver(packing!.id, 'carrier-bot')).toMatchObject({ status: 'DELIVERED', deliveredBy: 'carrier-bot' });
    expect(r.store.getOrder(orderId)).toMatchObject({ status: 'CLOSED', fulfilment: 'DELIVERED' });
  });

  it('keeps pack and ship deadlines in the store: a reopened store picks them up, overdue ones at once', async () => {
    const start = Date.UTC(2026, 0, 6, 15, 0, 0);
    const clock = new ManualClock(start);
    const dir = tempDir();
    const first = rig(dir, clock);
    const [amr, asrs] = await twoLineOrder(first);
    const orderId = amr!.orderId;
    pick(first, amr!);
    pick(first, asrs!);
    arrive(first, amr!, 'amr.pickTrip');
    arrive(first, asrs!, 'arm.pick');
    const [packing] = first.store.shipments.shipmentsOfOrder(orderId);
    expect(packing?.status).toBe('PACKING');
    // The core goes down before the pack deadline and stays down past it.
    first.packs.stop();
    first.store.close();
    clock.advanceTo(packing!.packDueAt + 5 * 60_000);

    const second = rig(dir, clock);
    open.push(second);
    clock.advanceTo(clock.t);
    const packed = second.store.shipments.getShipment(packing!.id)!;
    expect(packed).toMatchObject({ status: 'PACKED', packedAt: packing!.packDueAt, shipDueAt: Date.UTC(2026, 0, 6, 16, 0, 0) });
    expect(states(second, orderId)).toEqual(['PACKED', 'PACKED']);
    // The cut-off timer was armed from the store too.
    clock.advanceTo(Date.UTC(2026, 0, 6, 16, 0, 0));
    expect(second.store.shipments.getShipment(packing!.id)?.status).toBe('SHIPPED');
  });

  it('leaves packed parcels for a confirmation when shipping at the cut-off is off', async () => {
    const start = Date.UTC(2026, 0, 6, 9, 0, 0);
    const clock = new ManualClock(start);
    const r = rig(tempDir(), clock, false);
    open.push(r);
    const [amr, asrs] = await twoLineOrder(r);
    for (const [l, kind] of [[amr!, 'amr.pickTrip'], [asrs!, 'arm.pick']] as const) {
      pick(r, l);
      arrive(r, l, kind);
    }
    const [s] = r.store.shipments.shipmentsOfOrder(amr!.orderId);
    expect(() => r.packs.ship(s!.id, 'dock-1')).toThrow(expect.objectContaining({ code: 'PW_ERR_INVALID_STATE' }));
    clock.advanceTo(Date.UTC(2026, 0, 7, 9, 0, 0));
    r.packs.sweep();
    expect(r.store.shipments.getShipment(s!.id)?.status).toBe('PACKED');
    expect(r.packs.ship(s!.id, 'dock-1', { trackingNumber: 'X1' })).toMatchObject({ status: 'SHIPPED', shippedBy: 'dock-1', trackingNumber: 'X1' });
    expect(r.packs.ship(s!.id, 'dock-2')).toMatchObject({ status: 'SHIPPED', shippedBy: 'dock-1' });
  });

  it('packs a backlog larger than one pass: the timer keeps going until nothing is due', async () => {
    const start = Date.UTC(2026, 0, 6, 9, 0, 0);
    const clock = new ManualClock(start);
    const r = rig(tempDir(), clock);
    open.push(r);
    const orders: string[] = [];
    for (let i = 0; i < 60; i++) {
      const [amr, asrs] = await twoLineOrder(r);
      for (const [l, kind] of [[amr!, 'amr.pickTrip'], [asrs!, 'arm.pick']] as const) {
        pick(r, l);
        arrive(r, l, kind);
      }
      orders.push(amr!.orderId);
    }
    clock.advanceTo(start + 3600_000);
    const all = r.store.shipments.listShipments({ limit: 100 });
    expect(all).toHaveLength(60);
    expect(new Set(all.map((s) => s.status))).toEqual(new Set(['PACKED']));
    expect(orders.every((id) => r.store.getOrder(id)?.fulfilment === 'PACKED')).toBe(true);
  });

  it('starts the parcel on the sweep once a sibling line stops holding it back', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 6, 9, 0, 0));
    const r = rig(tempDir(), clock);
    open.push(r);
    const [amr, asrs] = await twoLineOrder(r);
    pick(r, amr!);
    arrive(r, amr!, 'amr.pickTrip');
    r.packs.sweep();
    expect(r.store.shipments.shipmentsOfOrder(amr!.orderId)).toEqual([]);
    // The other line cannot be filled after all (e.g. its location was found empty).
    runInTransaction(r.store, (after) => {
      r.lines.releaseReservation(asrs!);
      r.lines.apply(asrs!, { type: 'line.unroutable', reason: 'test' }, after);
    });
    r.packs.sweep();
    const [s] = r.store.shipments.shipmentsOfOrder(amr!.orderId);
    expect(s).toMatchObject({ status: 'PACKING', lineIds: [amr!.id], units: 2 });
  });
});
