/** Read models the API serves: orders with lines, timelines, stock positions. */
import { atp } from '../domain/stock.js';
import type { HoldRecord, JournalEntry, LineRecord, OrderRecord, StockPosition } from '../domain/records.js';
import type { LineContext } from '../domain/line-machine.js';
import type { EtaView } from './eta-service.js';

export interface OrderView {
  id: string;
  externalId: string | null;
  channel: string;
  customer: { id: string; email?: string };
  status: string;
  fulfilment: string;
  priority: number;
  promisedBy: string | null;
  createdAt: string;
  updatedAt: string;
  lines: LineView[];
  holds: HoldView[];
  /** Picked-by, packed-by, ships-at and delivers-by (ISO, null where unknown) and each line's picked-by; null without an estimate. */
  eta: EtaView | null;
}

export interface HoldView {
  id: string;
  orderId: string;
  type: string;
  status: string;
  reason: string;
  source: string;
  score: number | null;
  createdAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
  note: string | null;
}

export interface LineView {
  id: string;
  sku: string;
  quantity: number;
  picked: number;
  state: string;
  site: string | null;
  location: string | null;
  zone: string | null;
  attempts: number;
  promiseDate: string | null;
}

const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function lineView(l: LineRecord): LineView {
  const ctx = l.snapshot.context as Partial<LineContext>;
  return {
    id: l.id,
    sku: l.sku,
    quantity: l.quantity,
    picked: ctx.picked ?? 0,
    state: l.state,
    site: l.site ?? null,
    location: l.location ?? null,
    zone: l.zone ?? null,
    attempts: ctx.attempts ?? 0,
    promiseDate: iso(ctx.promiseDate),
  };
}

export function holdView(h: HoldRecord): HoldView {
  return {
    id: h.id,
    orderId: h.orderId,
    type: h.type,
    status: h.status,
    reason: h.reason,
    source: h.source,
    score: h.score ?? null,
    createdAt: iso(h.createdAt) ?? '',
    resolvedBy: h.resolvedBy ?? null,
    resolvedAt: iso(h.resolvedAt),
    note: h.note ?? null,
  };
}

/** `holds` is the order's hold records when the caller loaded them; list views leave it empty (and `eta` null). */
export function orderView(o: OrderRecord, lines: readonly LineRecord[], holds: readonly HoldRecord[] = [], eta: EtaView | null = null): OrderView {
  return {
    id: o.id,
    externalId: o.externalId ?? null,
    channel: o.channel,
    customer: o.body.customer,
    status: o.status,
    fulfilment: o.fulfilment,
    priority: o.priority,
    promisedBy: iso(o.promisedBy),
    createdAt: iso(o.createdAt) ?? '',
    updatedAt: iso(o.updatedAt) ?? '',
    lines: lines.map(lineView),
    holds: holds.map(holdView),
    eta,
  };
}

export function timelineView(entries: readonly JournalEntry[]): { seq: number; at: string; type: string; aggregateType: string; aggregateId: string; actor: string | null; data: Record<string, unknown> }[] {
  return entries.map((e) => ({
    seq: e.seq,
    at: iso(e.at) ?? '',
    type: e.type,
    aggregateType: e.aggregateType,
    aggregateId: e.aggregateId,
    actor: e.actor ?? null,
    data: e.data,
  }));
}

export function stockView(p: StockPosition): StockPosition & { atp: number } {
  return { ...p, atp: atp(p) };
}
