/**
 * Exception records (issue "Execution" item 6): every automatic corrective workflow leaves a
 * record of what happened and what it did (`handled`), and what it cannot fix waits for an
 * operator (`open`) until resolved with a note. Raised inside the caller's transaction, so the
 * record commits with the correction it describes.
 */
import type { ExceptionRecord, ExceptionStatus, ExceptionType } from '../domain/records.js';
import { PickwireError } from '../errors.js';
import type { AppContext } from './context.js';
import type { AfterCommit } from './line-service.js';
import { runInTransaction } from './unit-of-work.js';

export interface RaiseInput {
  type: ExceptionType;
  /** `handled` when the workflow fixed it, `open` when an operator must act. */
  status: 'open' | 'handled';
  orderId?: string | undefined;
  lineId?: string | undefined;
  taskId?: string | undefined;
  deviceId?: string | undefined;
  summary: string;
  detail: Record<string, unknown>;
  /** What the core did about it, in order. */
  actions: string[];
}

/** Who the core signs its own corrective actions as. */
export const CORE_ACTOR = 'pickwire';

export class ExceptionService {
  constructor(private readonly ctx: AppContext) {}

  raise(input: RaiseInput, after: AfterCommit): ExceptionRecord {
    const now = this.ctx.clock.now();
    const record: ExceptionRecord = {
      id: `E-${String(this.ctx.store.nextId('exception')).padStart(8, '0')}`,
      type: input.type,
      status: input.status,
      orderId: input.orderId,
      lineId: input.lineId,
      taskId: input.taskId,
      deviceId: input.deviceId,
      summary: input.summary,
      detail: input.detail,
      actions: input.actions.map((action) => ({ at: now, by: CORE_ACTOR, action })),
      createdAt: now,
      updatedAt: now,
      resolvedAt: undefined,
      resolvedBy: undefined,
      note: undefined,
    };
    this.ctx.store.insertException(record);
    this.journal(record, 'exception.raised', undefined, { type: record.type, status: record.status, summary: record.summary, actions: input.actions });
    after(() => {
      this.ctx.metrics.exceptionsRaised.inc({ type: record.type, status: record.status });
      this.ctx.logger.warn({ exceptionId: record.id, type: record.type, status: record.status, orderId: record.orderId, lineId: record.lineId }, record.summary);
      this.publish(record);
    });
    return record;
  }

  /**
   * An operator closes an exception with a note. Resolving it again answers the same record;
   * a handled one may be acknowledged the same way.
   */
  resolve(id: string, by: string, note: string): ExceptionRecord {
    return runInTransaction(this.ctx.store, (after) => {
      const current = this.ctx.store.getException(id);
      if (!current) throw new PickwireError('PW_ERR_NOT_FOUND', `no exception ${id}`);
      if (current.status === 'resolved') return current;
      const now = this.ctx.clock.now();
      const next: ExceptionRecord = {
        ...current,
        status: 'resolved',
        actions: [...current.actions, { at: now, by, action: `resolved: ${note}` }],
        updatedAt: now,
        resolvedAt: now,
        resolvedBy: by,
        note,
      };
      this.ctx.store.updateException(next);
      this.journal(next, 'exception.resolved', by, { from: current.status, note });
      after(() => this.publish(next));
      return next;
    });
  }

  /**
   * The cause went away by itself and the core undid what it did (a jam cleared, upstream
   * resumed): an open exception becomes handled, with that last action added.
   */
  settle(id: string, action: string, after: AfterCommit): ExceptionRecord | undefined {
    const current = this.ctx.store.getException(id);
    if (current?.status !== 'open') return current;
    const now = this.ctx.clock.now();
    const next: ExceptionRecord = { ...current, status: 'handled', actions: [...current.actions, { at: now, by: CORE_ACTOR, action }], updatedAt: now };
    this.ctx.store.updateException(next);
    this.journal(next, 'exception.settled', undefined, { action });
    after(() => this.publish(next));
    return next;
  }

  get(id: string): ExceptionRecord {
    const e = this.ctx.store.getException(id);
    if (!e) throw new PickwireError('PW_ERR_NOT_FOUND', `no exception ${id}`);
    return e;
  }

  list(q: { status?: ExceptionStatus; limit: number }): ExceptionRecord[] {
    return this.ctx.store.listExceptions(q);
  }

  private journal(e: ExceptionRecord, type: string, actor: string | undefined, data: Record<string, unknown>): void {
    this.ctx.store.appendEvent({
      type,
      aggregateType: e.lineId ? 'line' : e.deviceId && !e.orderId ? 'device' : 'order',
      aggregateId: e.lineId ?? (e.deviceId && !e.orderId ? e.deviceId : (e.orderId ?? e.id)),
      orderId: e.orderId,
      actor,
      data: { exceptionId: e.id, ...data },
    });
  }

  private publish(e: ExceptionRecord): void {
    this.ctx.notifier.publish({ type: 'exception.updated', at: this.ctx.clock.now(), data: exceptionView(e) as unknown as Record<string, unknown> });
  }
}

export interface ExceptionView {
  id: string;
  type: ExceptionType;
  status: ExceptionStatus;
  orderId: string | null;
  lineId: string | null;
  taskId: string | null;
  deviceId: string | null;
  summary: string;
  detail: Record<string, unknown>;
  actions: { at: string; by: string; action: string }[];
  createdAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  note: string | null;
}

export function exceptionView(e: ExceptionRecord): ExceptionView {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    id: e.id,
    type: e.type,
    status: e.status,
    orderId: e.orderId ?? null,
    lineId: e.lineId ?? null,
    taskId: e.taskId ?? null,
    deviceId: e.deviceId ?? null,
    summary: e.summary,
    detail: e.detail,
    actions: e.actions.map((a) => ({ at: iso(a.at), by: a.by, action: a.action })),
    createdAt: iso(e.createdAt),
    resolvedAt: e.resolvedAt === undefined ? null : iso(e.resolvedAt),
    resolvedBy: e.resolvedBy ?? null,
    note: e.note ?? null,
  };
}
