import { closeSync, fsync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock, IdempotencyRecord, OrderQuery, Store } from '../../ports.js';
import type { ExceptionRecord, ExceptionStatus, HoldRecord, HoldStatus, JournalEntry, LineRecord, OrderInput, OrderRecord, OutboxMessage, StockPosition, TaskRecord } from '../../domain/records.js';
import { shipToKey } from '../../domain/risk.js';
import { PickwireError } from '../../errors.js';
import { migrate } from './migrations.js';
import * as rows from './rows.js';
import { ExceptionsTable } from './exceptions-table.js';
import { KpiQueries } from './kpi-queries.js';
import { ShipmentsTable } from './shipments-table.js';

export interface SqliteStoreOptions {
  /** Directory of the database file; `:memory:` keeps it in memory (tests of pure SQL only). */
  dataDir: string;
  clock: Clock;
  fileName?: string;
}

/**
 * The embedded durable store: one SQLite file in WAL mode with synchronous=FULL, so a commit
 * that returned is on disk even if the machine loses power right after.
 */
/** SQLite allows 32,766 parameters per statement; 7 per journal row. */
const EVENTS_PER_STATEMENT = 64;

export class SqliteStore implements Store {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly clock: Clock;
  private readonly stmts: ReturnType<typeof prepare>;
  private readonly exceptions: ExceptionsTable;
  /** Aggregate reads for `GET /kpis`; outside the Store port because only the KPI service needs them. */
  readonly kpi: KpiQueries;
  /** Pack-station arrivals and shipments; outside the Store port because only the pack service needs them. */
  readonly shipments: ShipmentsTable;
  private readonly knownSkus = new Set<string>();
  /** Journal rows of the open transaction, not written yet (see appendEvent). */
  private readonly pendingEvents: (readonly unknown[])[] = [];
  /**
   * Order lines per state, counted once at open and kept up to date as this store writes lines: the
   * lines-by-state gauge reads it every 2 s, and a GROUP BY walked every line ever taken, shipped
   * history included, on the event loop (38 ms at 1M lines).
   */
  private readonly lineCounts = new Map<string, number>();
  /** Changes to lineCounts in the open transaction: counted once it commits, dropped with a rollback. */
  private readonly pendingLineCounts: { state: string; delta: number }[] = [];
  /** Outbox messages queued so far (txUnsynced syncs a commit that queued any). */
  private outboxWrites = 0;
  private readonly eventInserts = new Map<number, Database.Statement>();
  private readonly sequences = new Map<string, number>();
  private readonly dirtySequences = new Set<string>();
  /**
   * One transaction function for every call: better-sqlite3 builds a new wrapper per
   * `db.transaction(fn)`, which cost more than the savepoint it runs (intake opens one per order).
   * Nested calls become savepoints, as with a fresh wrapper.
   */
  private readonly runInTransaction: Database.Transaction<(fn: () => unknown) => unknown>;
  /** listOrders' statements, one per combination of filters (see orderListSql), prepared on first use. */
  private readonly listOrdersStmts = new Map<string, Database.Statement>();
  /** The write-ahead log, opened for fsync by txSyncLater; undefined until first needed. */
  private walFd: number | undefined;
  /** The WAL fsync running on libuv's thread pool, if any, and the one queued behind it. */
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;
  private closed = false;

  constructor(opts: SqliteStoreOptions) {
    this.clock = opts.clock;
    if (opts.dataDir === ':memory:') {
      this.path = ':memory:';
    } else {
      mkdirSync(opts.dataDir, { recursive: true });
      this.path = join(opts.dataDir, opts.fileName ?? 'pickwire.sqlite');
    }
    try {
      this.db = new Database(this.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('cache_size = -65536');
      // Statement journals (a multi-row insert, like the journal flush) and savepoint journals
      // (intake's one per order) beyond 64 KiB spilled to temporary files: ~70 µs of system CPU
      // per order taken. They live only until their transaction ends, so memory is the place.
      this.db.pragma('temp_store = MEMORY');
      migrate(this.db);
    } catch (err) {
      throw new PickwireError('PW_ERR_STORE_UNAVAILABLE', `cannot open the store at ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    this.stmts = prepare(this.db);
    for (const r of this.stmts.countLines.all() as { state: string; n: number }[]) this.lineCounts.set(r.state, r.n);
    this.runInTransaction = this.db.transaction((fn: () => unknown) => fn());
    this.exceptions = new ExceptionsTable(this.db);
    this.kpi = new KpiQueries(this.db);
    this.shipments = new ShipmentsTable(this.db);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  pragma(name: string): unknown {
    return this.db.pragma(name, { simple: true });
  }

  tx<T>(fn: () => T): T {
    // The outermost transaction writes the journal and the sequence counters just before it commits.
    const outermost = !this.db.inTransaction;
    const journalMark = this.pendingEvents.length;
    const lineCountMark = this.pendingLineCounts.length;
    const body = outermost
      ? () => {
          const result = fn();
          this.flushEvents();
          this.flushSequences();
          return result;
        }
      : fn;
    try {
      const result = this.runInTransaction.immediate(body) as T;
      if (outermost) this.countCommittedLines();
      return result;
    } catch (err) {
      // Journal entries and line counts of a rolled-back transaction or savepoint go with it.
      this.pendingEvents.length = journalMark;
      this.pendingLineCounts.length = lineCountMark;
      if (err instanceof Database.SqliteError && /SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY)/.test(err.code)) {
        throw new PickwireError('PW_ERR_STORE_UNAVAILABLE', `the store refused the write (${err.code}); nothing was changed`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Group commit that does not hold the event loop while the disk syncs. The transaction commits
   * with synchronous=NORMAL (SQLite writes the WAL frames but does not fsync them), then the WAL
   * is fsynced on libuv's thread pool; `durable` resolves once that fsync, started after this
   * commit, has returned. A caller acknowledges only then (DESIGN §4: acknowledged only once on
   * disk), so the guarantee is that of synchronous=FULL, while the event loop runs the next group
   * during the fsync (it was ~1/3 of intake's wall time, and far more on a busy disk).
   *
   * Why this is as safe as FULL for the acknowledged commit: in WAL mode a commit is its frames
   * in the -wal file; fsync(2) on any descriptor of that file makes all of them durable, and
   * recovery replays every complete frame. With NORMAL, SQLite still syncs the WAL before a
   * checkpoint copies it into the database and syncs the database before reusing the WAL, so no
   * frame is overwritten before it is durable elsewhere. Other transactions (tx) stay FULL, and
   * each of them syncs the whole WAL, earlier NORMAL commits included. Readers may see a commit
   * before `durable` resolves (as with FULL between the commit and the caller's reply).
   */
  txSyncLater<T>(fn: () => T): { result: T; durable: Promise<void> } {
    if (this.path === ':memory:') return { result: this.tx(fn), durable: Promise.resolve() };
    if (this.db.inTransaction) throw new Error('txSyncLater opens the outermost transaction, not a savepoint');
    return { result: this.txUnsynced(fn), durable: this.syncWal() };
  }

  /**
   * See Store.txUnsynced: a synchronous=NORMAL commit, WAL frames written and not fsynced —
   * unless it queued outbox messages, which are fsynced before this returns (nothing is sent
   * that is not durable, and the caller's after-commit effects kick the publisher). SQLite
   * refuses to change the safety level inside a transaction, so the sync is ours, of the WAL
   * after the commit: the same guarantee as a FULL commit, decided once the work is known.
   */
  txUnsynced<T>(fn: () => T): T {
    // Inside another transaction: a savepoint of it, durable as that one is.
    if (this.path === ':memory:' || this.db.inTransaction) return this.tx(fn);
    const outboxWritesBefore = this.outboxWrites;
    // db.pragma() each time: SQLite applies this pragma when the statement is prepared, so a
    // statement prepared once would not switch anything when run again.
    this.db.pragma('synchronous = NORMAL');
    let result: T;
    try {
      result = this.tx(fn);
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    if (this.outboxWrites !== outboxWritesBefore) this.syncWalNow();
    return result;
  }

  /** fsync(2) of the WAL on this thread: every commit so far is on disk when it returns. */
  private syncWalNow(): void {
    try {
      this.walFd ??= openSync(`${this.path}-wal`, 'r+');
      fsyncSync(this.walFd);
    } catch (err) {
      throw new PickwireError('PW_ERR_STORE_UNAVAILABLE', `the write-ahead log could not be synced (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the commit may not be on disk`, { cause: err });
    }
  }

  /** Resolves after an fsync of the WAL that started after this call; concurrent callers share one. */
  private syncWal(): Promise<void> {
    if (!this.syncing) {
      this.syncing = this.fsyncWal().finally(() => (this.syncing = undefined));
      return this.syncing;
    }
    // The fsync in flight may have started before the caller's frames were written: the next one
    // covers them, and every caller that arrives meanwhile.
    if (!this.nextSync) {
      const next = (): Promise<void> => {
        this.nextSync = undefined;
        return this.syncWal();
      };
      this.nextSync = this.syncing.then(next, next);
    }
    return this.nextSync;
  }

  private fsyncWal(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) {
        // close() synced the WAL (and SQLite checkpointed it into the database).
        resolve();
        return;
      }
      try {
        this.walFd ??= openSync(`${this.path}-wal`, 'r+');
      } catch (err) {
        reject(new PickwireError('PW_ERR_STORE_UNAVAILABLE', `cannot open the write-ahead log to sync it: ${(err as Error).message}`, { cause: err }));
        return;
      }
      fsync(this.walFd, (err) => {
        if (this.closed) this.closeWal();
        if (err) reject(new PickwireError('PW_ERR_STORE_UNAVAILABLE', `the write-ahead log could not be synced (${err.code ?? err.message}); the commit may not be on disk`, { cause: err }));
        else resolve();
      });
    });
  }

  private closeWal(): void {
    if (this.walFd === undefined) return;
    closeSync(this.walFd);
    this.walFd = undefined;
  }

  /**
   * Ids come from in-memory counters: one statement per id was a tenth of intake's time. The
   * counters only move forward, and are written with the transaction that uses them, so a
   * rolled-back transaction leaves a gap, never a duplicate, and a restart resumes after the
   * last committed id.
   */
  nextId(sequence: string): number {
    let value = this.sequences.get(sequence);
    if (value === undefined) value = (this.stmts.readSequence.get(sequence) as { value: number } | undefined)?.value ?? 0;
    value += 1;
    this.sequences.set(sequence, value);
    this.dirtySequences.add(sequence);
    if (!this.db.inTransaction) this.flushSequences();
    return value;
  }

  private flushSequences(): void {
    for (const name of this.dirtySequences) this.stmts.writeSequence.run(name, this.sequences.get(name));
    this.dirtySequences.clear();
  }

  /**
   * Inside a transaction, entries are collected and written together just before it commits,
   * many rows per statement: intake journals a dozen entries per order, and one statement per
   * entry was the largest single cost of taking an order. Order (and so `seq`) is preserved; a
   * savepoint that rolls back drops its entries (see tx); readers see entries once committed.
   */
  appendEvent(e: Omit<JournalEntry, 'seq' | 'at'> & { at?: number }): void {
    // Order and line events are looked up through their order (migration 8): they must name it.
    const orderId = e.orderId ?? (e.aggregateType === 'order' ? e.aggregateId : undefined);
    if (orderId === undefined && e.aggregateType === 'line') throw new TypeError(`journal entry ${e.type} of line ${e.aggregateId} names no order`);
    const row = [e.at ?? this.clock.now(), e.type, e.aggregateType, e.aggregateId, orderId ?? null, e.actor ?? null, JSON.stringify(e.data)] as const;
    if (this.db.inTransaction) this.pendingEvents.push(row);
    else this.stmts.appendEvent.run(...row);
  }

  private flushEvents(): void {
    const rows = this.pendingEvents;
    for (let i = 0; i < rows.length; i += EVENTS_PER_STATEMENT) {
      const end = Math.min(i + EVENTS_PER_STATEMENT, rows.length);
      // A plain loop, not slice().flat(): V8's generic flat() took ~2% of intake's main thread.
      const params: unknown[] = [];
      for (let r = i; r < end; r++) for (const v of rows[r] as readonly unknown[]) params.push(v);
      this.eventInsert(end - i).run(params);
    }
    rows.length = 0;
  }

  private eventInsert(rows: number): Database.Statement {
    let stmt = this.eventInserts.get(rows);
    if (!stmt) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
      stmt = this.db.prepare(`INSERT INTO events(at, type, aggregate_type, aggregate_id, order_id, actor, data) VALUES ${values}`);
      this.eventInserts.set(rows, stmt);
    }
    return stmt;
  }

  /** Committed entries only: what the open transaction journals is written as it commits. */
  orderEvents(orderId: string): JournalEntry[] {
    return (this.stmts.orderEvents.all(orderId) as rows.EventRow[]).map(rows.toJournalEntry);
  }

  /** Order and line events are found through their order (see appendEvent), the others by the aggregate index. */
  aggregateEvents(aggregateType: JournalEntry['aggregateType'], aggregateId: string): JournalEntry[] {
    const found =
      aggregateType === 'order'
        ? this.stmts.orderAggregateEvents.all(aggregateId, aggregateId)
        : aggregateType === 'line'
          ? this.stmts.lineAggregateEvents.all({ id: aggregateId })
          : this.stmts.aggregateEvents.all(aggregateType, aggregateId);
    return (found as rows.EventRow[]).map(rows.toJournalEntry);
  }

  getIdempotency(key: string): IdempotencyRecord | undefined {
    const r = this.stmts.getIdem.get(key) as rows.IdemRow | undefined;
    return r && { key: r.key, requestHash: r.request_hash, statusCode: r.status_code, response: JSON.parse(r.response), responseJson: r.response, createdAt: r.created_at };
  }

  putIdempotency(r: IdempotencyRecord): void {
    this.stmts.putIdem.run(r.key, r.requestHash, r.statusCode, r.responseJson ?? JSON.stringify(r.response), r.createdAt);
  }

  pruneIdempotency(createdBefore: number): number {
    return this.stmts.pruneIdem.run(createdBefore).changes;
  }

  upsertSku(s: { sku: string; name: string; unitPrice?: number }): void {
    this.stmts.upsertSku.run(s.sku, s.name, s.unitPrice ?? null);
  }

  skuExists(sku: string): boolean {
    // Every order line asks: known SKUs are remembered (the catalogue only grows).
    if (this.knownSkus.has(sku)) return true;
    const found = this.stmts.skuExists.get(sku) !== undefined;
    if (found) this.knownSkus.add(sku);
    return found;
  }

  countSkus(): number {
    return (this.stmts.countSkus.get() as { n: number }).n;
  }

  insertStock(p: StockPosition): void {
    this.stmts.insertStock.run(p.site, p.location, p.sku, p.zone, p.onHand, p.reserved, p.safetyStock);
  }

  reservedBySite(): Map<string, number> {
    return new Map((this.stmts.reservedBySite.all() as { site: string; n: number }[]).map((r) => [r.site, r.n]));
  }

  stockOf(sku: string): StockPosition[] {
    return (this.stmts.stockOf.all(sku) as rows.StockRow[]).map(rows.toStock);
  }

  stockAt(site: string, location: string, sku: string): StockPosition | undefined {
    const r = this.stmts.stockAt.get(site, location, sku) as rows.StockRow | undefined;
    return r && rows.toStock(r);
  }

  listStock(q: { sku?: string; site?: string; limit: number; after?: string }): StockPosition[] {
    const r = this.stmts.listStock.all({
      sku: q.sku ?? null,
      site: q.site ?? null,
      after: q.after ?? '',
      limit: q.limit,
    }) as rows.StockRow[];
    return r.map(rows.toStock);
  }

  adjustStock(site: string, location: string, sku: string, delta: { onHand?: number; reserved?: number }): void {
    const info = this.stmts.adjustStock.run(delta.onHand ?? 0, delta.reserved ?? 0, site, location, sku);
    if (info.changes !== 1) throw new PickwireError('PW_ERR_NOT_FOUND', `no stock position ${site}/${location}/${sku}`);
  }

  insertOrder(o: OrderRecord): void {
    this.stmts.insertOrder.run(rows.fromOrder(o));
  }

  updateOrder(id: string, p: Pick<OrderRecord, 'status' | 'fulfilment' | 'snapshot' | 'updatedAt'>): void {
    this.stmts.updateOrder.run(p.status, p.fulfilment, JSON.stringify(p.snapshot), p.updatedAt, id);
  }

  getOrder(id: string): OrderRecord | undefined {
    const r = this.stmts.getOrder.get(id) as rows.OrderRow | undefined;
    return r && rows.toOrder(r);
  }

  listOrders(q: OrderQuery): OrderRecord[] {
    const filters = { status: q.status !== undefined, externalId: q.externalId !== undefined, customer: q.customer !== undefined };
    const key = `${Number(filters.status)}${Number(filters.externalId)}${Number(filters.customer)}`;
    let stmt = this.listOrdersStmts.get(key);
    if (stmt === undefined) {
      stmt = this.db.prepare(orderListSql(filters));
      this.listOrdersStmts.set(key, stmt);
    }
    const r = stmt.all({
      ...(q.status !== undefined ? { status: q.status } : {}),
      ...(q.externalId !== undefined ? { externalId: q.externalId } : {}),
      ...(q.customer !== undefined ? { customer: q.customer } : {}),
      beforeAt: q.before?.createdAt ?? Number.MAX_SAFE_INTEGER,
      beforeId: q.before?.id ?? '\uffff',
      limit: q.limit,
    }) as rows.OrderRow[];
    return r.map(rows.toOrder);
  }

  recentOrdersOfCustomer(customerId: string, limit: number): { id: string; body: OrderInput; createdAt: number }[] {
    return (this.stmts.recentOrdersOfCustomer.all(customerId, limit) as { id: string; body: string; created_at: number }[]).map((r) => ({
      id: r.id,
      body: JSON.parse(r.body) as OrderInput,
      createdAt: r.created_at,
    }));
  }

  recentShipToOrderTimes(shipTo: Pick<OrderInput['shipTo'], 'country' | 'postalCode' | 'line1'>, limit: number): number[] {
    const r = this.stmts.recentShipToOrderTimes.all(shipToKey(shipTo), limit) as { created_at: number }[];
    return r.map((o) => o.created_at);
  }

  insertException(e: ExceptionRecord): void {
    this.exceptions.insert(e);
  }

  updateException(e: ExceptionRecord): boolean {
    return this.exceptions.update(e);
  }

  getException(id: string): ExceptionRecord | undefined {
    return this.exceptions.get(id);
  }

  listExceptions(q: { status?: ExceptionStatus; limit: number }): ExceptionRecord[] {
    return this.exceptions.list(q);
  }

  exceptionsOf(orderId: string): ExceptionRecord[] {
    return this.exceptions.ofOrder(orderId);
  }

  countOpenExceptionsByType(): Record<string, number> {
    return this.exceptions.countOpenByType();
  }

  insertHold(h: HoldRecord): void {
    this.stmts.insertHold.run(h.id, h.orderId, h.type, h.status, h.reason, h.source, h.score ?? null, h.createdAt, h.resolvedAt ?? null, h.resolvedBy ?? null, h.note ?? null);
  }

  getHold(id: string): HoldRecord | undefined {
    const r = this.stmts.getHold.get(id) as HoldRow | undefined;
    return r && toHold(r);
  }

  holdsOf(orderId: string): HoldRecord[] {
    return (this.stmts.holdsOf.all(orderId) as HoldRow[]).map(toHold);
  }

  listHolds(q: { status?: HoldStatus; limit: number }): HoldRecord[] {
    const r = q.status === undefined ? this.stmts.listHolds.all({ limit: q.limit }) : this.stmts.listHoldsByStatus.all({ status: q.status, limit: q.limit });
    return (r as HoldRow[]).map(toHold);
  }

  resolveHold(id: string, p: Pick<HoldRecord, 'status' | 'resolvedAt' | 'resolvedBy' | 'note'>): void {
    const info = this.stmts.resolveHold.run(p.status, p.resolvedAt ?? null, p.resolvedBy ?? null, p.note ?? null, id);
    if (info.changes !== 1) throw new PickwireError('PW_ERR_NOT_FOUND', `no hold ${id}`);
  }

  insertLine(l: LineRecord): void {
    this.stmts.insertLine.run(rows.fromLine(l));
    this.countLine(l.state, 1);
  }

  updateLine(id: string, p: Pick<LineRecord, 'state' | 'site' | 'location' | 'zone' | 'snapshot' | 'updatedAt'>): void {
    const before = this.stmts.lineState.get(id) as { state: string } | undefined;
    this.stmts.updateLine.run(p.state, p.site ?? null, p.location ?? null, p.zone ?? null, JSON.stringify(p.snapshot), p.updatedAt, id);
    if (before !== undefined && before.state !== p.state) {
      this.countLine(before.state, -1);
      this.countLine(p.state, 1);
    }
  }

  /** A line entered (+1) or left (-1) `state`: counted now outside a transaction, else once it commits. */
  private countLine(state: string, delta: number): void {
    if (this.db.inTransaction) this.pendingLineCounts.push({ state, delta });
    else this.lineCounts.set(state, (this.lineCounts.get(state) ?? 0) + delta);
  }

  private countCommittedLines(): void {
    for (const { state, delta } of this.pendingLineCounts) this.lineCounts.set(state, (this.lineCounts.get(state) ?? 0) + delta);
    this.pendingLineCounts.length = 0;
  }

  getLine(id: string): LineRecord | undefined {
    const r = this.stmts.getLine.get(id) as rows.LineRow | undefined;
    return r && rows.toLine(r);
  }

  linesOf(orderId: string): LineRecord[] {
    return (this.stmts.linesOf.all(orderId) as rows.LineRow[]).map(rows.toLine);
  }

  linesOfOrders(orderIds: string[]): LineRecord[] {
    if (orderIds.length === 0) return [];
    return (this.stmts.linesOfOrders.all(JSON.stringify(orderIds)) as rows.LineRow[]).map(rows.toLine);
  }

  linesInState(state: string, limit: number): LineRecord[] {
    return (this.stmts.linesInState.all(state, limit) as rows.LineRow[]).map(rows.toLine);
  }

  countLinesByState(): Record<string, number> {
    const out: Record<string, number> = {};
    // By state, leaving out states no line is in any more: what GROUP BY state over the lines says.
    for (const [state, n] of [...this.lineCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) if (n > 0) out[state] = n;
    return out;
  }

  backorderedLines(sku: string): LineRecord[] {
    return (this.stmts.backorderedLines.all(sku) as rows.LineRow[]).map(rows.toLine);
  }

  countActiveLines(site: string): number {
    return (this.stmts.countActiveLines.get(site) as { n: number }).n;
  }

  releasableLines(q: { site: string; limit: number }): LineRecord[] {
    return (this.stmts.releasableLines.all(q.site, q.limit) as rows.LineRow[]).map(rows.toLine);
  }

  releaseQueue(q: { site: string; limit: number }): { id: string; zone: string | undefined }[] {
    return (this.stmts.releaseQueue.all(q.site, q.limit) as { id: string; zone: string | null }[]).map((r) => ({ id: r.id, zone: r.zone ?? undefined }));
  }

  /**
   * Calls `watcher` with a task's id whenever it is inserted or updated — the only two writes to
   * tasks — before the statement runs and even if its transaction later rolls back (then a
   * watcher reads again what is still the same task: harmless). Lets hot paths keep tasks they
   * read on every vehicle state or sweep (task progress, the execution watchdog) and re-read
   * only those written since.
   */
  watchTaskWrites(watcher: (taskId: string) => void): void {
    this.taskWriteWatchers.push(watcher);
  }

  private readonly taskWriteWatchers: ((taskId: string) => void)[] = [];

  private taskWritten(id: string): void {
    for (const watch of this.taskWriteWatchers) watch(id);
  }

  insertTask(t: TaskRecord): void {
    this.taskWritten(t.id);
    this.stmts.insertTask.run(rows.fromTask(t));
  }

  updateTask(id: string, p: Partial<Pick<TaskRecord, 'state' | 'deviceId' | 'progress' | 'attempts' | 'updatedAt' | 'plan'>>): void {
    const current = this.getTask(id);
    if (!current) throw new PickwireError('PW_ERR_NOT_FOUND', `no task ${id}`);
    this.taskWritten(id);
    const next = { ...current, ...p };
    this.stmts.updateTask.run(
      next.state,
      next.deviceId ?? null,
      JSON.stringify(next.plan),
      JSON.stringify(next.progress),
      next.attempts,
      next.updatedAt,
      id,
    );
  }

  getTask(id: string): TaskRecord | undefined {
    const r = this.stmts.getTask.get(id) as rows.TaskRow | undefined;
    return r && rows.toTask(r);
  }

  tasksOfLine(lineId: string): TaskRecord[] {
    return (this.stmts.tasksOfLine.all(lineId) as rows.TaskRow[]).map(rows.toTask);
  }

  tasksInStates(states: readonly string[], opts: { devices?: 'amr' | 'fixed'; limit?: number } = {}): TaskRecord[] {
    const rowsOut = this.stmts.tasksInStates.all({
      states: JSON.stringify(states),
      devices: opts.devices ?? null,
      limit: opts.limit ?? -1,
    }) as rows.TaskRow[];
    return rowsOut.map(rows.toTask);
  }

  tasksInStatePage(state: string, limit: number, after?: { createdAt: number; id: string }): TaskRecord[] {
    const page = this.stmts.tasksInStatePage.all({ state, afterAt: after?.createdAt ?? Number.MIN_SAFE_INTEGER, afterId: after?.id ?? '', limit }) as rows.TaskRow[];
    return page.map(rows.toTask);
  }

  amrTripsWaiting(limit: number): TaskRecord[] {
    return (this.stmts.amrTripsWaiting.all(limit) as rows.TaskRow[]).map(rows.toTask);
  }

  readySteps(deviceIds: readonly string[], limit: number): TaskRecord[] {
    return (this.stmts.readySteps.all(JSON.stringify(deviceIds), limit) as rows.TaskRow[]).map(rows.toTask);
  }

  enqueue(m: Pick<OutboxMessage, 'topic' | 'payload' | 'qos' | 'retain' | 'expirySeconds' | 'correlation'>): number {
    // Entry and payload go in together or not at all: a savepoint inside the caller's
    // transaction, one transaction of their own outside any.
    this.outboxWrites++;
    return this.runInTransaction(() => {
      const info = this.stmts.enqueue.run(m.topic, m.qos, m.retain ? 1 : 0, m.expirySeconds ?? null, m.correlation ?? null, this.clock.now());
      this.stmts.enqueuePayload.run(info.lastInsertRowid, m.payload);
      return Number(info.lastInsertRowid);
    }) as number;
  }

  unsent(limit: number): OutboxMessage[] {
    return (this.stmts.unsent.all(limit) as rows.OutboxRow[]).map(rows.toOutbox);
  }

  unconfirmed(sentBefore: number, limit: number): OutboxMessage[] {
    return (this.stmts.unconfirmed.all(sentBefore, limit) as rows.OutboxRow[]).map(rows.toOutbox);
  }

  markSent(seq: number, at: number): void {
    this.stmts.markSent.run({ at, seq });
  }

  confirm(correlation: string, at: number): number {
    return this.stmts.confirm.run(at, correlation).changes;
  }

  outboxPending(): number {
    return (this.stmts.outboxPending.get() as { n: number }).n;
  }

  pruneOutbox(confirmedBefore: number): number {
    return this.stmts.pruneOutbox.run(confirmedBefore).changes;
  }

  saveDevice(d: { id: string; class: string; data: unknown; updatedAt: number }): void {
    this.stmts.saveDevice.run(d.id, d.class, JSON.stringify(d.data), d.updatedAt);
  }

  loadDevices(): { id: string; class: string; data: unknown; updatedAt: number }[] {
    return (this.stmts.loadDevices.all() as { id: string; class: string; data: string; updated_at: number }[]).map((r) => ({
      id: r.id,
      class: r.class,
      data: JSON.parse(r.data) as unknown,
      updatedAt: r.updated_at,
    }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Commits still waiting for their WAL fsync are made durable here; a sync in flight on the
    // thread pool closes the descriptor when it returns, so its number is never reused under it.
    if (this.walFd !== undefined) {
      try {
        fsyncSync(this.walFd);
      } catch {
        // Closing the database below checkpoints the WAL into it and syncs both.
      }
      if (!this.syncing) this.closeWal();
    }
    if (this.db.open) this.db.close();
  }
}

/**
 * Lines of a site waiting for release, in release order: most urgent first (the release
 * planner's queue) — the order's priority, then its promise, then its age. Read along the
 * lines_release_queue index (migration 11), so a LIMIT stops early however long the queue is.
 */
const RELEASE_ORDER = `FROM order_lines l
  WHERE l.state = 'SOURCED' AND l.site = ?
    AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.order_id = l.order_id AND h.status = 'open')
  ORDER BY l.release_priority DESC, l.release_promised, l.release_created, l.order_id, l.line_no
  LIMIT CAST(? AS INTEGER)`;

/**
 * The order list for the filters given, newest first from the cursor (createdAt, id): each
 * combination reads one index in list order and stops after a page (migration 13), where one
 * statement for all of them (`@status IS NULL OR ...`) could use none and sorted every order.
 * A status names a header status (OPEN, CLOSED, ...) or a derived fulfilment (PICKED, ...):
 * one index each, merged in order; UNION, as an order can be CANCELED both ways.
 */
export function orderListSql(filters: { status: boolean; externalId: boolean; customer: boolean }): string {
  const rest = [...(filters.externalId ? ['external_id = @externalId'] : []), ...(filters.customer ? ['customer_id = @customer'] : []), '(created_at, id) < (@beforeAt, @beforeId)'].join(' AND ');
  const page = 'ORDER BY created_at DESC, id DESC LIMIT CAST(@limit AS INTEGER)';
  if (!filters.status) return `SELECT * FROM orders WHERE ${rest} ${page}`;
  return `SELECT * FROM orders WHERE status = @status AND ${rest} UNION SELECT * FROM orders WHERE fulfilment = @status AND ${rest} ${page}`;
}

/**
 * Every bound LIMIT is written `LIMIT CAST(? AS INTEGER)`. SQLite (3.53 here) lets the planner
 * look at the value bound to a bare LIMIT parameter, and a statement whose plan read a bound
 * value is compiled again each time that parameter is bound: measured, a bare LIMIT cost 4-20 µs
 * more per run, as much as preparing the statement (the dispatcher's trip query: 28 µs instead
 * of 11). The cast hides the value from the planner, whose plans here do not depend on it
 * (EXPLAIN QUERY PLAN of all 20 statements was the same before and after).
 * sqlite-store.test.ts keeps bare ones out.
 */
function prepare(db: Database.Database) {
  return {
    readSequence: db.prepare('SELECT value FROM sequences WHERE name = ?'),
    writeSequence: db.prepare(
      'INSERT INTO sequences(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)',
    ),
    appendEvent: db.prepare(
      'INSERT INTO events(at, type, aggregate_type, aggregate_id, order_id, actor, data) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    orderEvents: db.prepare('SELECT * FROM events WHERE order_id = ? ORDER BY seq'),
    // The term `aggregate_type NOT IN (...)` repeats the partial index's WHERE (migration 8), so the planner may use it.
    aggregateEvents: db.prepare("SELECT * FROM events WHERE aggregate_type = ? AND aggregate_id = ? AND aggregate_type NOT IN ('order', 'line') ORDER BY seq"),
    orderAggregateEvents: db.prepare("SELECT * FROM events WHERE order_id = ? AND aggregate_type = 'order' AND aggregate_id = ? ORDER BY seq"),
    lineAggregateEvents: db.prepare(
      "SELECT * FROM events WHERE order_id = (SELECT order_id FROM order_lines WHERE id = @id) AND aggregate_type = 'line' AND aggregate_id = @id ORDER BY seq",
    ),
    getIdem: db.prepare('SELECT * FROM idempotency_keys WHERE key = ?'),
    pruneIdem: db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?'),
    putIdem: db.prepare('INSERT INTO idempotency_keys(key, request_hash, status_code, response, created_at) VALUES (?, ?, ?, ?, ?)'),
    upsertSku: db.prepare(
      'INSERT INTO skus(sku, name, unit_price) VALUES (?, ?, ?) ON CONFLICT(sku) DO UPDATE SET name = excluded.name, unit_price = excluded.unit_price',
    ),
    skuExists: db.prepare('SELECT 1 FROM skus WHERE sku = ?'),
    countSkus: db.prepare('SELECT count(*) AS n FROM skus'),
    insertStock: db.prepare(
      'INSERT INTO stock(site, location, sku, zone, on_hand, reserved, safety_stock) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    reservedBySite: db.prepare('SELECT site, sum(reserved) AS n FROM stock GROUP BY site'),
    stockOf: db.prepare('SELECT * FROM stock WHERE sku = ? ORDER BY site, location'),
    stockAt: db.prepare('SELECT * FROM stock WHERE site = ? AND location = ? AND sku = ?'),
    listStock: db.prepare(
      `SELECT * FROM stock
       WHERE (@sku IS NULL OR sku = @sku) AND (@site IS NULL OR site = @site)
         AND (site || '/' || location || '/' || sku) > @after
       ORDER BY site || '/' || location || '/' || sku LIMIT CAST(@limit AS INTEGER)`,
    ),
    adjustStock: db.prepare(
      'UPDATE stock SET on_hand = on_hand + ?, reserved = reserved + ? WHERE site = ? AND location = ? AND sku = ?',
    ),
    insertOrder: db.prepare(
      `INSERT INTO orders(id, external_id, channel, customer_id, status, fulfilment, snapshot, body, priority, promised_by, created_at, updated_at, ship_to)
       VALUES (@id, @external_id, @channel, @customer_id, @status, @fulfilment, @snapshot, @body, @priority, @promised_by, @created_at, @updated_at, @ship_to)`,
    ),
    updateOrder: db.prepare('UPDATE orders SET status = ?, fulfilment = ?, snapshot = ?, updated_at = ? WHERE id = ?'),
    getOrder: db.prepare('SELECT * FROM orders WHERE id = ?'),
    recentOrdersOfCustomer: db.prepare('SELECT id, body, created_at FROM orders WHERE customer_id = ? ORDER BY created_at DESC LIMIT CAST(? AS INTEGER)'),
    recentShipToOrderTimes: db.prepare('SELECT created_at FROM orders WHERE ship_to = ? ORDER BY created_at DESC LIMIT CAST(? AS INTEGER)'),
    insertHold: db.prepare(
      `INSERT INTO holds(id, order_id, type, status, reason, source, score, created_at, resolved_at, resolved_by, note)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getHold: db.prepare('SELECT * FROM holds WHERE id = ?'),
    holdsOf: db.prepare('SELECT * FROM holds WHERE order_id = ? ORDER BY created_at, id'),
    // Two statements: `@status IS NULL OR ...` would keep the planner off holds_status.
    listHolds: db.prepare('SELECT * FROM holds ORDER BY created_at, id LIMIT CAST(@limit AS INTEGER)'),
    listHoldsByStatus: db.prepare('SELECT * FROM holds WHERE status = @status ORDER BY created_at, id LIMIT CAST(@limit AS INTEGER)'),
    resolveHold: db.prepare('UPDATE holds SET status = ?, resolved_at = ?, resolved_by = ?, note = ? WHERE id = ?'),
    insertLine: db.prepare(
      // The order's release key goes onto the line (migration 11); a missing order fails NOT NULL.
      `INSERT INTO order_lines(id, order_id, line_no, sku, quantity, state, site, location, zone, snapshot, updated_at, release_priority, release_promised, release_created)
       VALUES (@id, @order_id, @line_no, @sku, @quantity, @state, @site, @location, @zone, @snapshot, @updated_at,
         (SELECT priority FROM orders WHERE id = @order_id), (SELECT coalesce(promised_by, 9007199254740991) FROM orders WHERE id = @order_id), (SELECT created_at FROM orders WHERE id = @order_id))`,
    ),
    updateLine: db.prepare(
      'UPDATE order_lines SET state = ?, site = ?, location = ?, zone = ?, snapshot = ?, updated_at = ? WHERE id = ?',
    ),
    getLine: db.prepare('SELECT * FROM order_lines WHERE id = ?'),
    linesOf: db.prepare('SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no'),
    linesOfOrders: db.prepare('SELECT * FROM order_lines WHERE order_id IN (SELECT value FROM json_each(?)) ORDER BY order_id, line_no'),
    linesInState: db.prepare('SELECT * FROM order_lines WHERE state = ? ORDER BY updated_at LIMIT CAST(? AS INTEGER)'),
    // Once, at open (see lineCounts).
    countLines: db.prepare('SELECT state, count(*) AS n FROM order_lines GROUP BY state'),
    lineState: db.prepare('SELECT state FROM order_lines WHERE id = ?'),
    // The promise date lives in the line machine's snapshot; a line without one sorts last.
    backorderedLines: db.prepare(
      `SELECT l.* FROM order_lines l JOIN orders o ON o.id = l.order_id
       WHERE l.state = 'BACKORDERED' AND l.sku = ?
       ORDER BY coalesce(json_extract(l.snapshot, '$.context.promiseDate'), 9007199254740991), o.created_at, l.order_id, l.line_no`,
    ),
    countActiveLines: db.prepare("SELECT count(*) AS n FROM order_lines WHERE state IN ('RELEASED', 'PICKING') AND site = ?"),
    releasableLines: db.prepare(`SELECT l.* ${RELEASE_ORDER}`),
    releaseQueue: db.prepare(`SELECT l.id, l.zone ${RELEASE_ORDER}`),
    insertTask: db.prepare(
      `INSERT INTO tasks(id, line_id, step, kind, device_class, device_id, state, load_id, plan, progress, attempts, created_at, updated_at)
       VALUES (@id, @line_id, @step, @kind, @device_class, @device_id, @state, @load_id, @plan, @progress, @attempts, @created_at, @updated_at)`,
    ),
    updateTask: db.prepare('UPDATE tasks SET state = ?, device_id = ?, plan = ?, progress = ?, attempts = ?, updated_at = ? WHERE id = ?'),
    getTask: db.prepare('SELECT t.*, l.order_id FROM tasks t JOIN order_lines l ON l.id = t.line_id WHERE t.id = ?'),
    tasksOfLine: db.prepare('SELECT t.*, l.order_id FROM tasks t JOIN order_lines l ON l.id = t.line_id WHERE t.line_id = ? ORDER BY t.step'),
    tasksInStates: db.prepare(
      `SELECT t.*, l.order_id FROM tasks t JOIN order_lines l ON l.id = t.line_id
       WHERE t.state IN (SELECT value FROM json_each(@states))
         AND (@devices IS NULL OR (@devices = 'amr') = (t.device_class = 'amr'))
       ORDER BY t.created_at, t.id LIMIT CAST(@limit AS INTEGER)`,
    ),
    // tasks_state is (state, created_at): one state reads in list order, ties on created_at sorted among themselves.
    tasksInStatePage: db.prepare(
      `SELECT t.*, l.order_id FROM tasks t JOIN order_lines l ON l.id = t.line_id
       WHERE t.state = @state AND (t.created_at, t.id) > (@afterAt, @afterId)
       ORDER BY t.created_at, t.id LIMIT CAST(@limit AS INTEGER)`,
    ),
    // Named, and its WHERE repeated: without statistics the planner preferred tasks_state, which
    // reads and sorts every CREATED task — what migration 12 is there to avoid.
    amrTripsWaiting: db.prepare(
      `SELECT t.*, l.order_id FROM tasks t INDEXED BY tasks_amr_waiting JOIN order_lines l ON l.id = t.line_id
       WHERE t.state = 'CREATED' AND t.device_class = 'amr'
       ORDER BY t.created_at, t.id LIMIT CAST(? AS INTEGER)`,
    ),
    readySteps: db.prepare(
      `SELECT t.*, l.order_id FROM tasks t JOIN order_lines l ON l.id = t.line_id
       WHERE t.state = 'CREATED' AND t.device_class <> 'amr'
         AND t.device_id IN (SELECT value FROM json_each(?))
         AND NOT EXISTS (SELECT 1 FROM tasks p WHERE p.line_id = t.line_id AND p.step < t.step
                           AND p.state IN ('CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'))
       ORDER BY t.created_at, t.id LIMIT CAST(? AS INTEGER)`,
    ),
    // The outbox is two tables (migration 10): outbox_entries, whose status columns change, and
    // outbox_payloads, written once. Reads walk the entries' indexes first (CROSS JOIN keeps that
    // order) and fetch each payload by seq; a trigger deletes the payload with its entry.
    enqueue: db.prepare(
      'INSERT INTO outbox_entries(topic, qos, retain, expiry_seconds, correlation, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    enqueuePayload: db.prepare('INSERT INTO outbox_payloads(seq, payload) VALUES (?, ?)'),
    unsent: db.prepare(
      `SELECT e.*, p.payload FROM outbox_entries e CROSS JOIN outbox_payloads p ON p.seq = e.seq
       WHERE e.sent_at IS NULL ORDER BY e.seq LIMIT CAST(? AS INTEGER)`,
    ),
    unconfirmed: db.prepare(
      `SELECT e.*, p.payload FROM outbox_entries e CROSS JOIN outbox_payloads p ON p.seq = e.seq
       WHERE e.confirmed_at IS NULL AND e.correlation IS NOT NULL AND e.sent_at IS NOT NULL AND e.sent_at < ?
       ORDER BY e.seq LIMIT CAST(? AS INTEGER)`,
    ),
    markSent: db.prepare(
      // Messages nobody echoes (instant actions, presence) count as confirmed once sent.
      'UPDATE outbox_entries SET sent_at = @at, attempts = attempts + 1, confirmed_at = CASE WHEN correlation IS NULL THEN @at ELSE confirmed_at END WHERE seq = @seq',
    ),
    confirm: db.prepare('UPDATE outbox_entries SET confirmed_at = ? WHERE correlation = ? AND confirmed_at IS NULL'),
    outboxPending: db.prepare('SELECT count(*) AS n FROM outbox_entries WHERE confirmed_at IS NULL'),
    pruneOutbox: db.prepare('DELETE FROM outbox_entries WHERE confirmed_at IS NOT NULL AND confirmed_at < ?'),
    saveDevice: db.prepare(
      'INSERT INTO devices(id, class, data, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET class = excluded.class, data = excluded.data, updated_at = excluded.updated_at',
    ),
    loadDevices: db.prepare('SELECT * FROM devices ORDER BY id'),
  };
}

interface HoldRow {
  id: string;
  order_id: string;
  type: HoldRecord['type'];
  status: HoldStatus;
  reason: string;
  source: string;
  score: number | null;
  created_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  note: string | null;
}

function toHold(r: HoldRow): HoldRecord {
  return {
    id: r.id,
    orderId: r.order_id,
    type: r.type,
    status: r.status,
    reason: r.reason,
    source: r.source,
    score: r.score ?? undefined,
    createdAt: r.created_at,
    resolvedAt: r.resolved_at ?? undefined,
    resolvedBy: r.resolved_by ?? undefined,
    note: r.note ?? undefined,
  };
}
