/** Row shapes of the SQLite schema and their mapping to domain records. */
import type { JournalEntry, LineRecord, OrderRecord, OutboxMessage, StockPosition, TaskRecord } from '../../domain/records.js';
import { shipToKey } from '../../domain/risk.js';

export interface EventRow {
  seq: number;
  at: number;
  type: string;
  aggregate_type: JournalEntry['aggregateType'];
  aggregate_id: string;
  order_id: string | null;
  actor: string | null;
  data: string;
}

export interface IdemRow {
  key: string;
  request_hash: string;
  status_code: number;
  response: string;
  created_at: number;
}

export interface StockRow {
  site: string;
  location: string;
  sku: string;
  zone: 'amr' | 'asrs';
  on_hand: number;
  reserved: number;
  safety_stock: number;
}

export interface OrderRow {
  id: string;
  external_id: string | null;
  channel: string;
  customer_id: string;
  status: OrderRecord['status'];
  fulfilment: string;
  snapshot: string;
  body: string;
  priority: number;
  promised_by: number | null;
  created_at: number;
  updated_at: number;
}

export interface LineRow {
  id: string;
  order_id: string;
  line_no: number;
  sku: string;
  quantity: number;
  state: LineRecord['state'];
  site: string | null;
  location: string | null;
  zone: 'amr' | 'asrs' | null;
  snapshot: string;
  updated_at: number;
}

export interface TaskRow {
  id: string;
  line_id: string;
  order_id: string;
  step: number;
  kind: TaskRecord['kind'];
  device_class: TaskRecord['deviceClass'];
  device_id: string | null;
  state: TaskRecord['state'];
  load_id: string | null;
  plan: string;
  progress: string;
  attempts: number;
  created_at: number;
  updated_at: number;
}

/** An outbox_entries row with its payload from outbox_payloads (joined by seq, migration 10). */
export interface OutboxRow {
  seq: number;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: number;
  expiry_seconds: number | null;
  correlation: string | null;
  created_at: number;
  sent_at: number | null;
  attempts: number;
  confirmed_at: number | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

export const toJournalEntry = (r: EventRow): JournalEntry => ({
  seq: r.seq,
  at: r.at,
  type: r.type,
  aggregateType: r.aggregate_type,
  aggregateId: r.aggregate_id,
  orderId: opt(r.order_id),
  actor: opt(r.actor),
  data: JSON.parse(r.data) as Record<string, unknown>,
});

export const toStock = (r: StockRow): StockPosition => ({
  site: r.site,
  location: r.location,
  sku: r.sku,
  zone: r.zone,
  onHand: r.on_hand,
  reserved: r.reserved,
  safetyStock: r.safety_stock,
});

export const toOrder = (r: OrderRow): OrderRecord => ({
  id: r.id,
  externalId: opt(r.external_id),
  channel: r.channel,
  customerId: r.customer_id,
  status: r.status,
  fulfilment: r.fulfilment,
  snapshot: JSON.parse(r.snapshot) as OrderRecord['snapshot'],
  body: JSON.parse(r.body) as OrderRecord['body'],
  priority: r.priority,
  promisedBy: opt(r.promised_by),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** The row to insert: with the ship-to key the address-velocity index reads (migration 8). */
export const fromOrder = (o: OrderRecord): OrderRow & { ship_to: string } => ({
  id: o.id,
  external_id: o.externalId ?? null,
  channel: o.channel,
  customer_id: o.customerId,
  status: o.status,
  fulfilment: o.fulfilment,
  snapshot: JSON.stringify(o.snapshot),
  body: JSON.stringify(o.body),
  priority: o.priority,
  promised_by: o.promisedBy ?? null,
  created_at: o.createdAt,
  updated_at: o.updatedAt,
  ship_to: shipToKey(o.body.shipTo),
});

export const toLine = (r: LineRow): LineRecord => ({
  id: r.id,
  orderId: r.order_id,
  lineNo: r.line_no,
  sku: r.sku,
  quantity: r.quantity,
  state: r.state,
  site: opt(r.site),
  location: opt(r.location),
  zone: opt(r.zone),
  snapshot: JSON.parse(r.snapshot) as LineRecord['snapshot'],
  updatedAt: r.updated_at,
});

export const fromLine = (l: LineRecord): LineRow => ({
  id: l.id,
  order_id: l.orderId,
  line_no: l.lineNo,
  sku: l.sku,
  quantity: l.quantity,
  state: l.state,
  site: l.site ?? null,
  location: l.location ?? null,
  zone: l.zone ?? null,
  snapshot: JSON.stringify(l.snapshot),
  updated_at: l.updatedAt,
});

export const toTask = (r: TaskRow): TaskRecord => ({
  id: r.id,
  lineId: r.line_id,
  orderId: r.order_id,
  step: r.step,
  kind: r.kind,
  deviceClass: r.device_class,
  deviceId: opt(r.device_id),
  state: r.state,
  loadId: opt(r.load_id),
  plan: JSON.parse(r.plan) as TaskRecord['plan'],
  progress: JSON.parse(r.progress) as TaskRecord['progress'],
  attempts: r.attempts,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const fromTask = (t: TaskRecord): Omit<TaskRow, 'order_id'> => ({
  id: t.id,
  line_id: t.lineId,
  step: t.step,
  kind: t.kind,
  device_class: t.deviceClass,
  device_id: t.deviceId ?? null,
  state: t.state,
  load_id: t.loadId ?? null,
  plan: JSON.stringify(t.plan),
  progress: JSON.stringify(t.progress),
  attempts: t.attempts,
  created_at: t.createdAt,
  updated_at: t.updatedAt,
});

export const toOutbox = (r: OutboxRow): OutboxMessage => ({
  seq: r.seq,
  topic: r.topic,
  payload: r.payload,
  qos: r.qos === 0 ? 0 : 1,
  retain: r.retain === 1,
  expirySeconds: opt(r.expiry_seconds),
  correlation: opt(r.correlation),
  createdAt: r.created_at,
  sentAt: opt(r.sent_at),
  attempts: r.attempts,
  confirmedAt: opt(r.confirmed_at),
});
