import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { orderListSql, SqliteStore } from './sqlite-store.js';
import { MIGRATIONS, migrate } from './migrations.js';
import type { Clock, OrderQuery } from '../../ports.js';
import type { LineRecord, OrderRecord } from '../../domain/records.js';

const clock: Clock = { now: () => 1_000, setTimer: () => () => undefined };
const dirs: string[] = [];
function openTemp(): { store: SqliteStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pw-store-'));
  dirs.push(dir);
  return { store: new SqliteStore({ dataDir: dir, clock }), dir };
}
/** A store file as an older Pickwire left it: migrated up to `version`, opened without the store. */
function fileAtVersion(version: number): { old: Database.Database; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pw-store-'));
  dirs.push(dir);
  const old = new Database(join(dir, 'pickwire.sqlite'));
  migrate(old, MIGRATIONS.filter((m) => m.version <= version));
  return { old, dir };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
/** EXPLAIN QUERY PLAN of `sql` on the store's file, one step per line. */
function queryPlan(store: SqliteStore, sql: string, ...params: unknown[]): string {
  const reader = new Database(store.path, { readonly: true, fileMustExist: true });
  try {
    return (reader.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((s) => s.detail).join('\n');
  } finally {
    reader.close();
  }
}
/** The store's prepared statements, for their plans. */
const statementsOf = (store: SqliteStore): Record<string, Database.Statement> => (store as unknown as { stmts: Record<string, Database.Statement> }).stmts;

describe('SqliteStore', () => {
  it('opens a WAL file with synchronous=FULL at the latest schema version, and reopens without re-migrating', () => {
    const { store, dir } = openTemp();
    expect(store.pragma('journal_mode')).toBe('wal');
    expect(store.pragma('synchronous')).toBe(2);
    expect(store.schemaVersion).toBe(MIGRATIONS.at(-1)?.version);
    store.upsertSku({ sku: 'S1', name: 'one' });
    store.close();
    const again = new SqliteStore({ dataDir: dir, clock });
    expect(again.skuExists('S1')).toBe(true);
    again.close();
  });

  it('journals a transaction in order on commit, drops a rolled-back savepoint with its entries, and nothing of a failed transaction', () => {
    const { store } = openTemp();
    const entry = (type: string) => ({ type, aggregateType: 'order' as const, aggregateId: 'O-1', orderId: 'O-1', actor: undefined, data: { type } });
    store.tx(() => {
      store.appendEvent(entry('a'));
      store.tx(() => store.appendEvent(entry('b')));
      expect(() =>
        store.tx(() => {
          store.appendEvent(entry('lost'));
          throw new Error('savepoint fails');
        }),
      ).toThrow('savepoint fails');
      // More entries than one multi-row statement carries.
      for (let i = 0; i < 150; i++) store.appendEvent(entry(`n${i}`));
    });
    const types = store.orderEvents('O-1').map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['a', 'b', 'n0']);
    expect(types).toHaveLength(152);
    expect(types.at(-1)).toBe('n149');
    expect(() =>
      store.tx(() => {
        store.appendEvent(entry('never'));
        throw new Error('transaction fails');
      }),
    ).toThrow('transaction fails');
    store.appendEvent(entry('outside'));
    expect(store.orderEvents('O-1').map((e) => e.type).slice(-1)).toEqual(['outside']);
    store.close();
  });

  it('forgets idempotency keys older than the retention window', () => {
    const { store } = openTemp();
    store.putIdempotency({ key: 'old', requestHash: 'h', statusCode: 201, response: { id: 'O-1' }, createdAt: 1_000 });
    store.putIdempotency({ key: 'new', requestHash: 'h', statusCode: 201, response: { id: 'O-2' }, createdAt: 5_000 });
    expect(store.pruneIdempotency(2_000)).toBe(1);
    expect(store.getIdempotency('old')).toBeUndefined();
    expect(store.getIdempotency('new')?.response).toEqual({ id: 'O-2' });
    store.close();
  });

  it('hands out monotonic ids per sequence, never twice across rollbacks and restarts', () => {
    const { store, dir } = openTemp();
    expect([store.nextId('order'), store.nextId('order'), store.nextId('task')]).toEqual([1, 2, 1]);
    store.tx(() => {
      expect(store.nextId('order')).toBe(3);
      // A savepoint that fails leaves a gap, not a number to reuse.
      expect(() =>
        store.tx(() => {
          store.nextId('order');
          throw new Error('rolled back');
        }),
      ).toThrow('rolled back');
      expect(store.nextId('order')).toBe(5);
    });
    expect(() =>
      store.tx(() => {
        store.nextId('order');
        throw new Error('whole transaction rolled back');
      }),
    ).toThrow();
    expect(store.nextId('order')).toBe(7);
    store.close();
    const again = new SqliteStore({ dataDir: dir, clock });
    expect(again.nextId('order')).toBe(8);
    expect(again.nextId('task')).toBe(2);
    again.close();
  });

  it('refuses to reserve more than is on hand and rolls the whole transaction back', () => {
    const { store } = openTemp();
    store.upsertSku({ sku: 'S1', name: 'one' });
    store.insertStock({ site: 'demo', location: 'A-1', sku: 'S1', zone: 'amr', onHand: 5, reserved: 0, safetyStock: 0 });
    expect(() =>
      store.tx(() => {
        store.appendEvent({ type: 'stock.reserved', aggregateType: 'stock', aggregateId: 'A-1', orderId: undefined, actor: undefined, data: {} });
        store.adjustStock('demo', 'A-1', 'S1', { reserved: 6 });
      }),
    ).toThrow(/CHECK constraint/);
    expect(store.stockAt('demo', 'A-1', 'S1')?.reserved).toBe(0);
    expect(store.orderEvents('x')).toEqual([]);
    store.close();
  });

  it('lists backordered lines of a SKU by promise date, then oldest order, and reads one aggregate\'s journal', () => {
    const { store } = openTemp();
    store.upsertSku({ sku: 'S1', name: 'one' });
    const order = (id: string, createdAt: number) =>
      store.insertOrder({
        id,
        externalId: undefined,
        channel: 'web',
        customerId: 'c',
        status: 'OPEN',
        fulfilment: 'BACKORDERED',
        snapshot: { value: 'OPEN', context: { orderId: id } } as never,
        body: {} as never,
        priority: 0,
        promisedBy: undefined,
        createdAt,
        updatedAt: createdAt,
      });
    const line = (orderId: string, lineNo: number, sku: string, state: 'BACKORDERED' | 'RELEASED', promiseDate: number | null) =>
      store.insertLine({
        id: `${orderId}-L${lineNo}`,
        orderId,
        lineNo,
        sku,
        quantity: 1,
        state,
        site: undefined,
        location: undefined,
        zone: undefined,
        snapshot: { value: state, context: { lineId: `${orderId}-L${lineNo}`, orderId, sku, quantity: 1, picked: 0, attempts: 0, site: null, location: null, promiseDate, reason: null } },
        updatedAt: 1,
      });
    order('O-3', 30);
    order('O-1', 10);
    order('O-2', 20);
    line('O-3', 1, 'S1', 'BACKORDERED', 500);
    line('O-2', 2, 'S1', 'BACKORDERED', 900);
    line('O-2', 1, 'S1', 'BACKORDERED', 900);
    line('O-1', 1, 'S1', 'BACKORDERED', 900);
    line('O-1', 2, 'S1', 'RELEASED', null);
    line('O-1', 3, 'S2', 'BACKORDERED', 100);
    expect(store.backorderedLines('S1').map((l) => l.id)).toEqual(['O-3-L1', 'O-1-L1', 'O-2-L1', 'O-2-L2']);
    expect(store.backorderedLines('S2').map((l) => l.id)).toEqual(['O-1-L3']);
    expect(store.backorderedLines('S3')).toEqual([]);

    store.appendEvent({ type: 'stock.received', aggregateType: 'stock', aggregateId: 'demo/A-1/S1', orderId: undefined, actor: 'ops', data: { quantity: 2 } });
    store.appendEvent({ type: 'stock.received', aggregateType: 'stock', aggregateId: 'demo/A-2/S1', orderId: undefined, actor: 'ops', data: {} });
    store.appendEvent({ type: 'stock.adjusted', aggregateType: 'stock', aggregateId: 'demo/A-1/S1', orderId: undefined, actor: 'ops', data: { delta: -1 } });
    expect(store.aggregateEvents('stock', 'demo/A-1/S1').map((e) => [e.type, e.data])).toEqual([
      ['stock.received', { quantity: 2 }],
      ['stock.adjusted', { delta: -1 }],
    ]);

    // Order and line events are found through their order (migration 8's partial index leaves them out).
    store.tx(() => {
      store.appendEvent({ type: 'order.received', aggregateType: 'order', aggregateId: 'O-1', orderId: undefined, actor: undefined, data: {} });
      store.appendEvent({ type: 'line.created', aggregateType: 'line', aggregateId: 'O-1-L1', orderId: 'O-1', actor: undefined, data: {} });
      store.appendEvent({ type: 'line.created', aggregateType: 'line', aggregateId: 'O-2-L1', orderId: 'O-2', actor: undefined, data: {} });
      store.appendEvent({ type: 'line.sourced', aggregateType: 'line', aggregateId: 'O-1-L1', orderId: 'O-1', actor: undefined, data: {} });
      store.appendEvent({ type: 'order.opened', aggregateType: 'order', aggregateId: 'O-1', orderId: 'O-1', actor: undefined, data: {} });
    });
    expect(store.aggregateEvents('order', 'O-1').map((e) => e.type)).toEqual(['order.received', 'order.opened']);
    expect(store.aggregateEvents('line', 'O-1-L1').map((e) => e.type)).toEqual(['line.created', 'line.sourced']);
    expect(store.aggregateEvents('line', 'O-9-L1')).toEqual([]);
    expect(() => store.appendEvent({ type: 'line.created', aggregateType: 'line', aggregateId: 'O-1-L2', orderId: undefined, actor: undefined, data: {} })).toThrow(/names no order/);
    store.close();
  });

  it('stores the normalised ship-to key with each order for address velocity', () => {
    const { store } = openTemp();
    const order = (id: string, createdAt: number, shipTo: Record<string, string>) =>
      store.insertOrder({
        id,
        externalId: undefined,
        channel: 'web',
        customerId: 'c',
        status: 'OPEN',
        fulfilment: 'SOURCED',
        snapshot: { value: 'OPEN', context: { orderId: id, reason: null } },
        body: { channel: 'web', customer: { id: 'c' }, shipTo: { name: 'n', city: 'c', ...shipTo }, lines: [] } as never,
        priority: 0,
        promisedBy: undefined,
        createdAt,
        updatedAt: createdAt,
      });
    order('O-1', 10, { country: 'DE', postalCode: ' 10115', line1: 'Main St 1 ' });
    order('O-2', 20, { country: 'de', postalCode: '10115', line1: 'MAIN ST 1' });
    order('O-3', 30, { country: 'DE', postalCode: '10117', line1: 'Main St 1' });
    expect(store.recentShipToOrderTimes({ country: 'De', postalCode: '10115 ', line1: 'main st 1' }, 10)).toEqual([20, 10]);
    store.close();
  });

  it('fills the stored ship-to key of orders written before migration 8 from the generated one', () => {
    const { old, dir } = fileAtVersion(7);
    old.prepare(
      `INSERT INTO orders(id, channel, customer_id, status, fulfilment, snapshot, body, created_at, updated_at)
       VALUES ('O-1', 'web', 'c', 'OPEN', 'SOURCED', '{}', ?, 5, 5)`,
    ).run(JSON.stringify({ shipTo: { country: 'DE', postalCode: '10115', line1: ' Main St 1' } }));
    old.close();
    const store = new SqliteStore({ dataDir: dir, clock });
    expect(store.schemaVersion).toBe(MIGRATIONS.at(-1)?.version);
    expect(store.recentShipToOrderTimes({ country: 'de', postalCode: '10115', line1: 'MAIN ST 1' }, 10)).toEqual([5]);
    store.close();
  });

  it('counts lines by state as they change, rollbacks included, starting from the lines already in the file', () => {
    const { old, dir } = fileAtVersion(MIGRATIONS.at(-1)?.version ?? 0);
    old.exec(`INSERT INTO orders(id, channel, customer_id, status, fulfilment, snapshot, body, created_at, updated_at) VALUES ('O-0', 'web', 'c', 'OPEN', 'SOURCED', '{}', '{}', 1, 1)`);
    const oldLine = old.prepare(`INSERT INTO order_lines(id, order_id, line_no, sku, quantity, state, snapshot, updated_at) VALUES (?, 'O-0', ?, 'S', 1, ?, '{}', 1)`);
    oldLine.run('O-0-1', 1, 'SHIPPED');
    oldLine.run('O-0-2', 2, 'SHIPPED');
    oldLine.run('O-0-3', 3, 'PICKED');
    old.close();
    const store = new SqliteStore({ dataDir: dir, clock });
    expect(store.countLinesByState()).toEqual({ PICKED: 1, SHIPPED: 2 });
    store.insertOrder({ id: 'O-1', externalId: undefined, channel: 'web', customerId: 'c', status: 'OPEN', fulfilment: 'SOURCED', snapshot: {} as never, body: {} as never, priority: 0, promisedBy: undefined, createdAt: 2, updatedAt: 2 });
    const line = (lineNo: number, state: LineRecord['state']): LineRecord => ({ id: `O-1-${lineNo}`, orderId: 'O-1', lineNo, sku: 'S', quantity: 1, state, site: 'A', location: undefined, zone: undefined, snapshot: {} as never, updatedAt: 2 });
    store.tx(() => [1, 2, 3].forEach((n) => store.insertLine(line(n, 'SOURCED'))));
    const move = (lineNo: number, state: LineRecord['state']): void => store.updateLine(`O-1-${lineNo}`, { ...line(lineNo, state), updatedAt: 3 });
    move(1, 'RELEASED');
    move(2, 'RELEASED');
    move(2, 'RELEASED'); // no change of state: no change of count
    move(3, 'CANCELED');
    // SOURCED is back to 0 lines and is left out, as GROUP BY would.
    expect(store.countLinesByState()).toEqual({ CANCELED: 1, PICKED: 1, RELEASED: 2, SHIPPED: 2 });
    // A transaction that fails takes its count changes with it.
    expect(() =>
      store.tx(() => {
        move(1, 'PICKED');
        store.insertLine(line(4, 'SOURCED'));
        throw new Error('rolled back');
      }),
    ).toThrow('rolled back');
    expect(store.countLinesByState()).toEqual({ CANCELED: 1, PICKED: 1, RELEASED: 2, SHIPPED: 2 });
    // A savepoint rolled back inside a transaction that commits: only the transaction's own change counts.
    store.tx(() => {
      move(1, 'PICKED');
      expect(() =>
        store.tx(() => {
          move(2, 'PICKED');
          throw new Error('savepoint rolled back');
        }),
      ).toThrow('savepoint rolled back');
    });
    expect(store.countLinesByState()).toEqual({ CANCELED: 1, PICKED: 2, RELEASED: 1, SHIPPED: 2 });
    // Always what a walk over every line says.
    const walk = new Database(store.path, { readonly: true, fileMustExist: true });
    const counted = Object.fromEntries((walk.prepare('SELECT state, count(*) AS n FROM order_lines GROUP BY state').all() as { state: string; n: number }[]).map((r) => [r.state, r.n]));
    walk.close();
    expect(store.countLinesByState()).toEqual(counted);
    store.close();
  });

  it('queues SOURCED lines for release by priority, promise and age, from the order key its lines carry since migration 11', () => {
    const { old, dir } = fileAtVersion(10);
    const order = old.prepare(
      `INSERT INTO orders(id, channel, customer_id, status, fulfilment, snapshot, body, priority, promised_by, created_at, updated_at)
       VALUES (?, 'web', 'c', 'OPEN', 'SOURCED', '{}', '{}', ?, ?, ?, 0)`,
    );
    const line = old.prepare(`INSERT INTO order_lines(id, order_id, line_no, sku, quantity, state, site, snapshot, updated_at) VALUES (?, ?, ?, 'S', 1, 'SOURCED', 'A', '{}', 0)`);
    order.run('O-late', 0, null, 30);
    order.run('O-promised', 0, 500, 40);
    line.run('O-late-2', 'O-late', 2);
    line.run('O-late-1', 'O-late', 1);
    line.run('O-promised-1', 'O-promised', 1);
    old.close();
    // Written before the migration: the key comes from the orders.
    const store = new SqliteStore({ dataDir: dir, clock });
    const queue = (): string[] => store.releaseQueue({ site: 'A', limit: 10 }).map((l) => l.id);
    expect(queue()).toEqual(['O-promised-1', 'O-late-1', 'O-late-2']);
    // Written after: the insert copies it. An urgent order goes first, an older one before a newer.
    const insert = (id: string, priority: number, createdAt: number): void => {
      store.insertOrder({ id, externalId: undefined, channel: 'web', customerId: 'c', status: 'OPEN', fulfilment: 'SOURCED', snapshot: {} as never, body: {} as never, priority, promisedBy: undefined, createdAt, updatedAt: createdAt });
      store.insertLine({ id: `${id}-1`, orderId: id, lineNo: 1, sku: 'S', quantity: 1, state: 'SOURCED', site: 'A', location: undefined, zone: undefined, snapshot: {} as never, updatedAt: createdAt });
    };
    insert('O-urgent', 5, 50);
    insert('O-early', 0, 10);
    expect(queue()).toEqual(['O-urgent-1', 'O-promised-1', 'O-early-1', 'O-late-1', 'O-late-2']);
    expect(store.releasableLines({ site: 'A', limit: 2 }).map((l) => l.id)).toEqual(['O-urgent-1', 'O-promised-1']);
    // A line released leaves the queue.
    store.tx(() => store.updateLine('O-urgent-1', { state: 'RELEASED', site: 'A', location: undefined, zone: undefined, snapshot: {} as never, updatedAt: 60 }));
    expect(queue()[0]).toBe('O-promised-1');
    store.close();
  });

  it('lists AMR trips waiting for a vehicle oldest first, through their own index whatever else is queued', () => {
    const { store } = openTemp();
    store.insertOrder({ id: 'O-1', externalId: undefined, channel: 'web', customerId: 'c', status: 'OPEN', fulfilment: 'SOURCED', snapshot: {} as never, body: {} as never, priority: 0, promisedBy: undefined, createdAt: 0, updatedAt: 0 });
    store.insertLine({ id: 'O-1-1', orderId: 'O-1', lineNo: 1, sku: 'S', quantity: 1, state: 'RELEASED', site: 'A', location: undefined, zone: undefined, snapshot: {} as never, updatedAt: 0 });
    const task = (id: string, deviceClass: 'amr' | 'asrs', state: 'CREATED' | 'DISPATCHED', createdAt: number): void =>
      store.insertTask({ id, lineId: 'O-1-1', orderId: 'O-1', step: 0, kind: deviceClass === 'amr' ? 'amr.pickTrip' : 'asrs.retrieve', deviceClass, deviceId: undefined, state, loadId: undefined, plan: { sku: 'S', quantity: 1, location: 'L' }, progress: { applied: [] }, attempts: 0, createdAt, updatedAt: createdAt });
    // Fixed-equipment steps queued ahead of them, as behind a busy AS/RS: the index skips them.
    for (let i = 0; i < 50; i++) task(`T-asrs-${i}`, 'asrs', 'CREATED', i);
    task('T-late', 'amr', 'CREATED', 90);
    task('T-early', 'amr', 'CREATED', 60);
    task('T-on-its-way', 'amr', 'DISPATCHED', 10);
    expect(store.amrTripsWaiting(10).map((t) => t.id)).toEqual(['T-early', 'T-late']);
    expect(store.amrTripsWaiting(1).map((t) => t.id)).toEqual(['T-early']);
    expect(store.amrTripsWaiting(10)).toEqual(store.tasksInStates(['CREATED'], { devices: 'amr' }));
    // A trip given to a vehicle leaves the list.
    store.updateTask('T-early', { state: 'DISPATCHED', deviceId: 'amr-1', updatedAt: 100 });
    expect(store.amrTripsWaiting(10).map((t) => t.id)).toEqual(['T-late']);
    // Read in index order: no walk over the queued AS/RS steps, no sort.
    const steps = queryPlan(store, statementsOf(store).amrTripsWaiting!.source, 1);
    expect(steps).toContain('USING INDEX tasks_amr_waiting');
    expect(steps).not.toContain('TEMP B-TREE');
    store.close();
  });

  it('finds due shipments and the next deadline through the partial deadline indexes, not by walking every PACKED parcel', () => {
    const { store } = openTemp();
    const stmts = (store as unknown as { shipments: { stmts: Record<'due' | 'next', Database.Statement> } }).shipments.stmts;
    for (const steps of [queryPlan(store, stmts.due.source, { now: 1, ship: 1, limit: 10 }), queryPlan(store, stmts.next.source, { ship: 1 })]) {
      expect(steps).toContain('INDEX shipments_pack_due');
      expect(steps).toContain('INDEX shipments_ship_due');
      expect(steps).not.toContain('shipments_status');
    }
    store.close();
  });

  it('lists orders newest first by any filter and cursor, as a walk over every order would, through an index in list order', () => {
    const { store } = openTemp();
    const statuses = ['OPEN', 'CLOSED', 'CANCELED'] as const;
    const fulfilments = ['SOURCED', 'PICKED', 'CANCELED', 'BACKORDERED'] as const;
    const all: OrderRecord[] = [];
    for (let i = 0; i < 240; i++) {
      // Ties on created_at (three orders an instant), ids out of insertion order, and orders CANCELED both ways.
      const o: OrderRecord = {
        id: `O-${String((i * 7919) % 1000).padStart(3, '0')}`,
        externalId: i % 5 === 0 ? `E-${i % 15}` : undefined,
        channel: 'web',
        customerId: `c${i % 4}`,
        status: statuses[i % 3] as OrderRecord['status'],
        fulfilment: fulfilments[i % 4] as string,
        snapshot: {} as never,
        body: {} as never,
        priority: 0,
        promisedBy: undefined,
        createdAt: 1_000 + Math.floor(i / 3),
        updatedAt: 1_000,
      };
      store.insertOrder(o);
      all.push(o);
    }
    const newestFirst = [...all].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    const queries: Omit<OrderQuery, 'limit'>[] = [{}, { status: 'OPEN' }, { status: 'PICKED' }, { status: 'CANCELED' }, { status: 'NOSUCH' }, { customer: 'c1' }, { externalId: 'E-5' }, { status: 'CANCELED', customer: 'c2' }, { status: 'SOURCED', externalId: 'E-10', customer: 'c0' }];
    for (const q of queries) {
      const expected = newestFirst.filter((o) => (q.status === undefined || o.status === q.status || o.fulfilment === q.status) && (q.customer === undefined || o.customerId === q.customer) && (q.externalId === undefined || o.externalId === q.externalId));
      // Page through with the cursor, 7 at a time: every order once, in order.
      const paged: string[] = [];
      let before: OrderQuery['before'];
      for (;;) {
        const page = store.listOrders({ ...q, limit: 7, ...(before ? { before } : {}) });
        paged.push(...page.map((o) => o.id));
        const last = page.at(-1);
        if (page.length < 7 || !last) break;
        before = { createdAt: last.createdAt, id: last.id };
      }
      expect(paged, JSON.stringify(q)).toEqual(expected.map((o) => o.id));
    }
    // Each combination of filters reads an index, and sorts at most the rows of one instant.
    for (const status of [false, true])
      for (const externalId of [false, true])
        for (const customer of [false, true]) {
          const params = { beforeAt: 1, beforeId: 'x', limit: 5, ...(status ? { status: 'OPEN' } : {}), ...(externalId ? { externalId: 'E' } : {}), ...(customer ? { customer: 'c' } : {}) };
          const steps = queryPlan(store, orderListSql({ status, externalId, customer }), params);
          expect(steps).not.toMatch(/SCAN orders|TEMP B-TREE FOR ORDER BY/);
          expect(steps).toContain('SEARCH orders USING INDEX');
        }
    store.close();
  });

  it('reads a page of the exception and shipment lists through an index in list order, not by sorting them all', () => {
    const { store } = openTemp();
    const internals = store as unknown as { exceptions: Record<string, Database.Statement>; shipments: { stmts: Record<string, Database.Statement> } };
    const lists: [Database.Statement, Record<string, unknown> | unknown[]][] = [
      [internals.exceptions.listAll!, { limit: 5 }],
      [internals.exceptions.listByStatus!, { status: 'open', limit: 5 }],
      [internals.exceptions.ofOrderStmt!, ['O-1']],
      [internals.shipments.stmts.listAll!, [5]],
      [internals.shipments.stmts.listByStatus!, ['PACKED', 5]],
      [internals.shipments.stmts.ofOrder!, ['O-1']],
    ];
    for (const [stmt, params] of lists) {
      const steps = queryPlan(store, stmt.source, ...(Array.isArray(params) ? params : [params]));
      expect(steps, stmt.source).not.toMatch(/SCAN (exceptions|shipments)\b(?! USING)|TEMP B-TREE/);
    }
    store.close();
  });

  it('reads a page of the tasks in one state through tasks_state, not by sorting every finished task', () => {
    const { store } = openTemp();
    const steps = queryPlan(store, statementsOf(store).tasksInStatePage!.source, { state: 'FINISHED', afterAt: 0, afterId: '', limit: 5 });
    expect(steps).toContain('USING INDEX tasks_state (state=?');
    expect(steps).not.toMatch(/SCAN t\b|TEMP B-TREE FOR ORDER BY/);
    store.close();
  });

  it('binds no bare LIMIT, whose statement SQLite would compile again on every run (see prepare())', () => {
    const here = new URL('.', import.meta.url);
    const sources = readdirSync(here).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(sources).toContain('sqlite-store.ts');
    const bare = sources.flatMap((f) => [...readFileSync(new URL(f, here), 'utf8').matchAll(/LIMIT\s+[?@:$]\w*/g)].map((m) => `${f}: ${m[0]}`));
    expect(bare).toEqual([]);
  });

  it('commits with txSyncLater before the WAL is synced, resolves once it is, and stays synchronous=FULL for everything else', async () => {
    const { store } = openTemp();
    const { result, durable } = store.txSyncLater(() => {
      store.upsertSku({ sku: 'S1', name: 'one' });
      return store.pragma('synchronous');
    });
    // NORMAL (1) for this commit only: the WAL fsync is txSyncLater's own.
    expect(result).toBe(1);
    expect(store.pragma('synchronous')).toBe(2);
    // Committed: another connection sees it already; acknowledged only after `durable`.
    const reader = new Database(store.path, { readonly: true, fileMustExist: true });
    expect(reader.prepare('SELECT count(*) AS n FROM skus').get()).toEqual({ n: 1 });
    await durable;
    // Groups committed while a sync runs share the next one; each resolves.
    const more = Array.from({ length: 5 }, (_, i) => store.txSyncLater(() => store.upsertSku({ sku: `S${i + 2}`, name: 'more' })).durable);
    await Promise.all(more);
    expect(reader.prepare('SELECT count(*) AS n FROM skus').get()).toEqual({ n: 6 });
    expect(() => store.tx(() => store.txSyncLater(() => undefined))).toThrow(/outermost/);
    reader.close();
    // A sync still pending when the store closes resolves: close() synced the WAL.
    const last = store.txSyncLater(() => store.upsertSku({ sku: 'S9', name: 'last' })).durable;
    store.close();
    await expect(last).resolves.toBeUndefined();
  });

  it('commits txUnsynced without an fsync unless it queued outbox messages, and nests as a savepoint', () => {
    const { store } = openTemp();
    const syncs = vi.spyOn(store as unknown as { syncWalNow: () => void }, 'syncWalNow');
    // A report applied: NORMAL for this commit, nothing synced (the next FULL commit covers it).
    expect(store.txUnsynced(() => (store.upsertSku({ sku: 'S1', name: 'one' }), store.pragma('synchronous')))).toBe(1);
    expect(syncs).not.toHaveBeenCalled();
    expect(store.pragma('synchronous')).toBe(2);
    // A report that queued a command: synced before it returns, so the publisher may send it.
    store.txUnsynced(() => store.enqueue({ topic: 't/a', payload: Buffer.from('a'), qos: 1, retain: false, expirySeconds: undefined, correlation: undefined }));
    expect(syncs).toHaveBeenCalledTimes(1);
    // Inside a transaction: a savepoint, rolled back with it.
    expect(() =>
      store.tx(() => {
        store.txUnsynced(() => store.upsertSku({ sku: 'S2', name: 'two' }));
        throw new Error('outer fails');
      }),
    ).toThrow('outer fails');
    expect(store.skuExists('S2')).toBe(false);
    expect(store.skuExists('S1')).toBe(true);
    store.close();
  });

  it('keeps outbox rows pending until the device echo confirms them', () => {
    const { store } = openTemp();
    const a = store.enqueue({ topic: 't/a', payload: Buffer.from('a'), qos: 1, retain: false, expirySeconds: 30, correlation: 'job:1:0' });
    const b = store.enqueue({ topic: 't/b', payload: Buffer.from('b'), qos: 1, retain: false, expirySeconds: undefined, correlation: undefined });
    expect(store.unsent(10).map((m) => m.seq)).toEqual([a, b]);
    store.markSent(a, 2_000);
    store.markSent(b, 2_000);
    expect(store.unsent(10)).toEqual([]);
    expect(store.outboxPending()).toBe(1);
    expect(store.unconfirmed(3_000, 10).map((m) => m.topic)).toEqual(['t/a']);
    expect(store.confirm('job:1:0', 2_500)).toBe(1);
    expect(store.confirm('job:1:0', 2_600)).toBe(0);
    expect(store.outboxPending()).toBe(0);
    expect(store.pruneOutbox(2_550)).toBe(2);
    expect(store.unconfirmed(10_000, 10)).toEqual([]);
    store.close();
  });

  it('moves the payloads of outbox rows written before migration 10 to their own table, keeping seq, order and every column', () => {
    const { old, dir } = fileAtVersion(9);
    const insert = old.prepare(
      `INSERT INTO outbox(topic, payload, qos, retain, expiry_seconds, correlation, created_at, sent_at, attempts, confirmed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const big = Buffer.alloc(6 * 1024, 'o');
    insert.run('t/unsent', big, 1, 0, 30, 'job:1:0', 10, null, 0, null);
    insert.run('t/awaiting', Buffer.from('two'), 1, 1, null, 'job:2:0', 11, 20, 2, null);
    insert.run('t/confirmed', Buffer.from('three'), 0, 0, null, null, 12, 20, 1, 20);
    insert.run('t/gone', Buffer.from('four'), 1, 0, null, null, 13, null, 0, null);
    old.prepare("DELETE FROM outbox WHERE topic = 't/gone'").run();
    const before = old.prepare('SELECT * FROM outbox ORDER BY seq').all();
    old.close();

    const store = new SqliteStore({ dataDir: dir, clock });
    expect(store.schemaVersion).toBe(MIGRATIONS.at(-1)?.version);
    expect(store.unsent(10)).toEqual([
      { seq: 1, topic: 't/unsent', payload: big, qos: 1, retain: false, expirySeconds: 30, correlation: 'job:1:0', createdAt: 10, sentAt: undefined, attempts: 0, confirmedAt: undefined },
    ]);
    expect(store.unconfirmed(100, 10)).toEqual([
      { seq: 2, topic: 't/awaiting', payload: Buffer.from('two'), qos: 1, retain: true, expirySeconds: undefined, correlation: 'job:2:0', createdAt: 11, sentAt: 20, attempts: 2, confirmedAt: undefined },
    ]);
    expect(store.outboxPending()).toBe(2);
    // The seq sequence came along: a deleted seq is not handed out again.
    expect(store.enqueue({ topic: 't/new', payload: Buffer.from('five'), qos: 1, retain: false, expirySeconds: undefined, correlation: undefined })).toBe(5);

    const reader = new Database(store.path, { readonly: true, fileMustExist: true });
    // Readers of the file still find the old columns, in their old order, under the old name.
    expect(reader.prepare('SELECT * FROM outbox WHERE seq < 5 ORDER BY seq').all()).toEqual(before);
    expect((reader.prepare('PRAGMA table_info(outbox_entries)').all() as { name: string }[]).map((c) => c.name)).not.toContain('payload');
    expect(reader.prepare('SELECT seq FROM outbox_payloads ORDER BY seq').pluck().all()).toEqual([1, 2, 3, 5]);
    reader.close();
    store.close();
  });

  it('writes status changes to the entry only, reads entry and payload together, and prunes both', () => {
    const { store } = openTemp();
    const payloadA = Buffer.alloc(6 * 1024, 'a');
    const a = store.enqueue({ topic: 't/a', payload: payloadA, qos: 1, retain: true, expirySeconds: 30, correlation: 'job:1:0' });
    const b = store.enqueue({ topic: 't/b', payload: Buffer.from('b'), qos: 0, retain: false, expirySeconds: undefined, correlation: undefined });
    const c = store.enqueue({ topic: 't/c', payload: Buffer.from('c'), qos: 1, retain: false, expirySeconds: undefined, correlation: 'job:3:0' });
    expect(store.unsent(2).map((m) => [m.seq, m.payload.toString()])).toEqual([[a, payloadA.toString()], [b, 'b']]);

    const reader = new Database(store.path, { readonly: true, fileMustExist: true });
    const payloadRows = reader.prepare('SELECT seq, payload FROM outbox_payloads ORDER BY seq');
    const stored = payloadRows.all();
    store.markSent(a, 2_000);
    store.markSent(a, 2_100);
    store.markSent(b, 2_000);
    expect(store.confirm('job:1:0', 2_200)).toBe(1);
    // Sent, re-sent and confirmed: the entries changed, the payloads did not.
    expect(payloadRows.all()).toEqual(stored);
    expect(reader.prepare('SELECT seq, sent_at, attempts, confirmed_at FROM outbox_entries ORDER BY seq').raw().all()).toEqual([
      [a, 2_100, 2, 2_200],
      [b, 2_000, 1, 2_000],
      [c, null, 0, null],
    ]);
    expect(store.unsent(10).map((m) => [m.seq, m.payload.toString()])).toEqual([[c, 'c']]);

    // Pruning a confirmed entry takes its payload along and leaves the others whole.
    expect(store.pruneOutbox(2_150)).toBe(1);
    expect(reader.prepare('SELECT seq FROM outbox_payloads ORDER BY seq').pluck().all()).toEqual([a, c]);
    expect(store.pruneOutbox(2_300)).toBe(1);
    expect(reader.prepare('SELECT seq FROM outbox_payloads ORDER BY seq').pluck().all()).toEqual([c]);
    expect(reader.prepare('SELECT seq FROM outbox_entries ORDER BY seq').pluck().all()).toEqual([c]);
    reader.close();
    store.close();
  });

  it('enqueues entry and payload together or not at all, inside a transaction or outside one', () => {
    const { store } = openTemp();
    const bad = { topic: 't/bad', payload: null as unknown as Buffer, qos: 1 as const, retain: false, expirySeconds: undefined, correlation: 'job:9:0' };
    expect(() => store.enqueue(bad)).toThrow(/NOT NULL/);
    const kept = store.tx(() => {
      expect(() => store.enqueue(bad)).toThrow(/NOT NULL/);
      return store.enqueue({ topic: 't/ok', payload: Buffer.from('ok'), qos: 1, retain: false, expirySeconds: undefined, correlation: 'job:1:0' });
    });
    expect(store.outboxPending()).toBe(1);
    expect(store.unsent(10).map((m) => [m.seq, m.topic, m.payload.toString()])).toEqual([[kept, 't/ok', 'ok']]);
    store.close();
  });
});
