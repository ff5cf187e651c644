/** Exception records (src/domain/records.ts) in SQLite: statements and row mapping. */
import type Database from 'better-sqlite3';
import type { ExceptionRecord, ExceptionStatus, ExceptionType } from '../../domain/records.js';

interface ExceptionRow {
  id: string;
  type: ExceptionType;
  status: ExceptionStatus;
  order_id: string | null;
  line_id: string | null;
  task_id: string | null;
  device_id: string | null;
  summary: string;
  detail: string;
  actions: string;
  created_at: number;
  updated_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  note: string | null;
}

export class ExceptionsTable {
  private readonly insertStmt: Database.Statement;
  private readonly updateStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private readonly listAll: Database.Statement;
  private readonly listByStatus: Database.Statement;
  private readonly ofOrderStmt: Database.Statement;
  private readonly countOpenStmt: Database.Statement;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare(
      `INSERT INTO exceptions(id, type, status, order_id, line_id, task_id, device_id, summary, detail, actions, created_at, updated_at, resolved_at, resolved_by, note)
       VALUES (@id, @type, @status, @order_id, @line_id, @task_id, @device_id, @summary, @detail, @actions, @created_at, @updated_at, @resolved_at, @resolved_by, @note)`,
    );
    this.updateStmt = db.prepare(
      `UPDATE exceptions SET status = @status, actions = @actions, updated_at = @updated_at, resolved_at = @resolved_at, resolved_by = @resolved_by, note = @note
       WHERE id = @id`,
    );
    this.getStmt = db.prepare('SELECT * FROM exceptions WHERE id = ?');
    // Oldest first: the queue is worked from the longest-waiting exception.
    this.listAll = db.prepare('SELECT * FROM exceptions ORDER BY created_at, id LIMIT CAST(@limit AS INTEGER)');
    this.listByStatus = db.prepare('SELECT * FROM exceptions WHERE status = @status ORDER BY created_at, id LIMIT CAST(@limit AS INTEGER)');
    this.ofOrderStmt = db.prepare('SELECT * FROM exceptions WHERE order_id = ? ORDER BY created_at, id');
    this.countOpenStmt = db.prepare("SELECT type, count(*) AS n FROM exceptions WHERE status = 'open' GROUP BY type");
  }

  insert(e: ExceptionRecord): void {
    this.insertStmt.run(toRow(e));
  }

  update(e: ExceptionRecord): boolean {
    return this.updateStmt.run(toRow(e)).changes === 1;
  }

  get(id: string): ExceptionRecord | undefined {
    const r = this.getStmt.get(id) as ExceptionRow | undefined;
    return r && fromRow(r);
  }

  list(q: { status?: ExceptionStatus; limit: number }): ExceptionRecord[] {
    const rows = q.status === undefined ? this.listAll.all({ limit: q.limit }) : this.listByStatus.all({ status: q.status, limit: q.limit });
    return (rows as ExceptionRow[]).map(fromRow);
  }

  ofOrder(orderId: string): ExceptionRecord[] {
    return (this.ofOrderStmt.all(orderId) as ExceptionRow[]).map(fromRow);
  }

  countOpenByType(): Record<string, number> {
    return Object.fromEntries((this.countOpenStmt.all() as { type: string; n: number }[]).map((r) => [r.type, r.n]));
  }
}

function toRow(e: ExceptionRecord): ExceptionRow {
  return {
    id: e.id,
    type: e.type,
    status: e.status,
    order_id: e.orderId ?? null,
    line_id: e.lineId ?? null,
    task_id: e.taskId ?? null,
    device_id: e.deviceId ?? null,
    summary: e.summary,
    detail: JSON.stringify(e.detail),
    actions: JSON.stringify(e.actions),
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    resolved_at: e.resolvedAt ?? null,
    resolved_by: e.resolvedBy ?? null,
    note: e.note ?? null,
  };
}

function fromRow(r: ExceptionRow): ExceptionRecord {
  return {
    id: r.id,
    type: r.type,
    status: r.status,
    orderId: r.order_id ?? undefined,
    lineId: r.line_id ?? undefined,
    taskId: r.task_id ?? undefined,
    deviceId: r.device_id ?? undefined,
    summary: r.summary,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    actions: JSON.parse(r.actions) as ExceptionRecord['actions'],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    resolvedAt: r.resolved_at ?? undefined,
    resolvedBy: r.resolved_by ?? undefined,
    note: r.note ?? undefined,
  };
}
