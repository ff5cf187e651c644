/** Read models the API serves: orders with lines, timelines, stock positions. */
import { atp } from '../domain/stock.js';
import type { JournalEntry, LineRecord, OrderRecord, StockPosition } from '../domain/records.js';
import type { LineContext } from '../domain/line-machine.js';

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
  holds: unknown[];
  eta: string | null;
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

export function orderView(o: OrderRecord, lines: readonly LineRecord[]): OrderView {
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
    holds: [],
    eta: null,
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
