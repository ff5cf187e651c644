/**
 * A shipment: the parcel one site packs from one order's consolidated totes, and what happens to
 * it afterwards (packed, handed to its carrier, delivered). Pure: records, the allowed status
 * moves, and the time arithmetic of packing and departure; src/app/pack-service.ts drives it.
 *
 *   PACKING --(pack deadline)--> PACKED --(carrier cut-off | ship confirmed)--> SHIPPED
 *   SHIPPED --(carrier confirms delivery)--> DELIVERED
 *   PACKING | PACKED --(last line canceled)--> CANCELED
 */
import type { Arrival } from './consolidation.js';
import { nextDeparture, type CarrierProfile, type SiteProfile } from './sourcing.js';

export const SHIPMENT_STATUSES = ['PACKING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED'] as const;
export type ShipmentStatus = (typeof SHIPMENT_STATUSES)[number];

export interface ShipmentRecord {
  id: string;
  orderId: string;
  site: string;
  /** The pack station the order's totes consolidated at. */
  stationId: string;
  status: ShipmentStatus;
  /** The order lines in the parcel (a canceled line leaves it). */
  lineIds: string[];
  units: number;
  /** The carrier sourcing chose for these lines; undefined when the site's network does not name one. */
  carrier: string | undefined;
  /** When packing started (the last tote arrived) and when it is done: an absolute deadline (DESIGN §3). */
  packStartedAt: number;
  packDueAt: number;
  packedAt: number | undefined;
  /** The carrier's next cut-off after packing: the shipment leaves then unless confirmed earlier. */
  shipDueAt: number | undefined;
  shippedAt: number | undefined;
  shippedBy: string | undefined;
  trackingNumber: string | undefined;
  deliveredAt: number | undefined;
  deliveredBy: string | undefined;
  canceledAt: number | undefined;
  createdAt: number;
  updatedAt: number;
}

/**
 * Pack time: a base to close, label and induct the carton plus a time per unit (DESIGN §5's
 * reference station time is 10 s per unit). Configured per core; packing is not device-driven,
 * so there is nothing to learn it from.
 */
export interface PackTiming {
  baseSeconds: number;
  secondsPerUnit: number;
}

export const DEFAULT_PACK_TIMING: PackTiming = { baseSeconds: 60, secondsPerUnit: 10 };

export function packDurationMs(units: number, timing: PackTiming): number {
  return Math.round((timing.baseSeconds + timing.secondsPerUnit * Math.max(0, units)) * 1000);
}

/** When a packed shipment leaves: its carrier's first daily cut-off at or after packing; undefined without a known carrier. */
export function departureAt(packedAt: number, site: SiteProfile | undefined, carrierId: string | undefined): number | undefined {
  if (!site) return undefined;
  const carrier: CarrierProfile | undefined = site.carriers.find((c) => c.id === carrierId) ?? (carrierId === undefined ? site.carriers[0] : undefined);
  return carrier ? nextDeparture(packedAt, site, carrier) : undefined;
}

export type ShipmentAction = 'ship' | 'deliver';

/**
 * What an operator's or carrier's confirmation does to a shipment in `status`: `apply` moves it,
 * `repeat` answers with the shipment as it is (the confirmation already happened: idempotent),
 * `refuse` is a wrong state, with the reason to give back.
 */
export function confirmationVerdict(status: ShipmentStatus, action: ShipmentAction): { verdict: 'apply' | 'repeat' } | { verdict: 'refuse'; reason: string } {
  if (action === 'ship') {
    if (status === 'PACKED') return { verdict: 'apply' };
    if (status === 'SHIPPED' || status === 'DELIVERED') return { verdict: 'repeat' };
    return { verdict: 'refuse', reason: status === 'PACKING' ? 'the shipment is still being packed' : 'the shipment was canceled' };
  }
  if (status === 'SHIPPED') return { verdict: 'apply' };
  if (status === 'DELIVERED') return { verdict: 'repeat' };
  return {
    verdict: 'refuse',
    reason: status === 'CANCELED' ? 'the shipment was canceled' : `the shipment has not left yet (${status}); confirm it shipped first`,
  };
}

/** A shipment is still waiting for a deadline of the core's scheduler. */
export function nextDeadline(s: Pick<ShipmentRecord, 'status' | 'packDueAt' | 'shipDueAt'>): number | undefined {
  if (s.status === 'PACKING') return s.packDueAt;
  if (s.status === 'PACKED') return s.shipDueAt;
  return undefined;
}

export interface ArrivalRecord extends Arrival {
  orderId: string;
  site: string;
  taskId: string | undefined;
  shipmentId: string | undefined;
}

/** What the pack service needs of the store beside the Store port (src/adapters/sqlite/shipments-table.ts). */
export interface ShipmentStore {
  recordArrival(a: ArrivalRecord): void;
  /** The order's arrivals at `site` not yet packed into a shipment. */
  unpackedArrivals(orderId: string, site: string): ArrivalRecord[];
  /** Forgets a line's arrival (the line was canceled before it was packed). */
  dropArrival(lineId: string): void;
  assignArrivals(lineIds: readonly string[], shipmentId: string): void;
  /** Orders with totes at a pack station of `site` that are not in a shipment yet, oldest arrival first. */
  ordersWaitingAtPack(site: string, limit: number): string[];
  insertShipment(s: ShipmentRecord): void;
  updateShipment(s: ShipmentRecord): void;
  getShipment(id: string): ShipmentRecord | undefined;
  shipmentsOfOrder(orderId: string): ShipmentRecord[];
  listShipments(q: { status?: ShipmentStatus; limit: number }): ShipmentRecord[];
  /** Shipments whose pack deadline (or, with `ship`, ship deadline) is at or before `now`, earliest first. */
  dueShipments(now: number, limit: number, opts: { ship: boolean }): ShipmentRecord[];
  /** The earliest pending pack deadline (or, with `ship`, ship deadline), if any. */
  nextDeadline(opts: { ship: boolean }): number | undefined;
}
