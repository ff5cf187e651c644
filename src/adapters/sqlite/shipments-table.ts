/**
 * Pack-station arrivals and shipments (src/domain/shipment.ts, src/domain/consolidation.ts) in
 * SQLite: statements and row mapping. The deadlines live here, so the scheduler that packs and
 * ships picks them up again after a restart (DESIGN §3).
 */
import type Database from 'better-sqlite3';
import type { ArrivalRecord, ShipmentRecord, ShipmentStatus, ShipmentStore } from '../../domain/shipment.js';

interface ArrivalRow {
  line_id: string;
  order_id: string;
  site: string;
  station_id: string;
  task_id: string | null;
  arrived_at: number;
  shipment_id: string | null;
}

interface ShipmentRow {
  id: string;
  order_id: string;
  site: string;
  station_id: string;
  status: ShipmentStatus;
  line_ids: string;
  units: number;
  carrier: string | null;
  pack_started_at: number;
  pack_due_at: number;
  packed_at: number | null;
  ship_due_at: number | null;
  shipped_at: number | null;
  shipped_by: string | null;
  tracking_number: string | null;
  delivered_at: number | null;
  delivered_by: string | null;
  canceled_at: number | null;
  created_at: number;
  updated_at: number;
}

export class ShipmentsTable implements ShipmentStore {
  private readonly stmts: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.stmts = prepare(db);
  }

  recordArrival(a: ArrivalRecord): void {
    this.stmts.upsertArrival.run({
      line_id: a.lineId,
      order_id: a.orderId,
      site: a.site,
      station_id: a.stationId,
      task_id: a.taskId ?? null,
      arrived_at: a.arrivedAt,
      shipment_id: a.shipmentId ?? null,
    });
  }

  unpackedArrivals(orderId: string, site: string): ArrivalRecord[] {
    return (this.stmts.unpacked.all(orderId, site) as ArrivalRow[]).map(arrivalFromRow);
  }

  dropArrival(lineId: string): void {
    this.stmts.dropArrival.run(lineId);
  }

  assignArrivals(lineIds: readonly string[], shipmentId: string): void {
    for (const id of lineIds) this.stmts.assignArrival.run(shipmentId, id);
  }

  ordersWaitingAtPack(site: string, limit: number): string[] {
    return (this.stmts.waitingOrders.all(site, limit) as { order_id: string }[]).map((r) => r.order_id);
  }

  insertShipment(s: ShipmentRecord): void {
    this.stmts.insertShipment.run(toRow(s));
  }

  updateShipment(s: ShipmentRecord): void {
    this.stmts.updateShipment.run(toRow(s));
  }

  getShipment(id: string): ShipmentRecord | undefined {
    const r = this.stmts.getShipment.get(id) as ShipmentRow | undefined;
    return r && fromRow(r);
  }

  shipmentsOfOrder(orderId: string): ShipmentRecord[] {
    return (this.stmts.ofOrder.all(orderId) as ShipmentRow[]).map(fromRow);
  }

  listShipments(q: { status?: ShipmentStatus; limit: number }): ShipmentRecord[] {
    const rows = q.status === undefined ? this.stmts.listAll.all(q.limit) : this.stmts.listByStatus.all(q.status, q.limit);
    return (rows as ShipmentRow[]).map(fromRow);
  }

  dueShipments(now: number, limit: number, opts: { ship: boolean }): ShipmentRecord[] {
    return (this.stmts.due.all({ now, limit, ship: opts.ship ? 1 : 0 }) as ShipmentRow[]).map(fromRow);
  }

  nextDeadline(opts: { ship: boolean }): number | undefined {
    const r = this.stmts.next.get({ ship: opts.ship ? 1 : 0 }) as { at: number | null } | undefined;
    return r?.at ?? undefined;
  }
}

function prepare(db: Database.Database) {
  return {
    upsertArrival: db.prepare(
      `INSERT INTO pack_arrivals(line_id, order_id, site, station_id, task_id, arrived_at, shipment_id)
       VALUES (@line_id, @order_id, @site, @station_id, @task_id, @arrived_at, @shipment_id)
       ON CONFLICT(line_id) DO UPDATE SET station_id = excluded.station_id, task_id = excluded.task_id, arrived_at = excluded.arrived_at
       WHERE pack_arrivals.shipment_id IS NULL`,
    ),
    unpacked: db.prepare('SELECT * FROM pack_arrivals WHERE order_id = ? AND site = ? AND shipment_id IS NULL ORDER BY arrived_at, line_id'),
    dropArrival: db.prepare('DELETE FROM pack_arrivals WHERE line_id = ? AND shipment_id IS NULL'),
    assignArrival: db.prepare('UPDATE pack_arrivals SET shipment_id = ? WHERE line_id = ?'),
    waitingOrders: db.prepare(
      'SELECT order_id FROM pack_arrivals WHERE site = ? AND shipment_id IS NULL GROUP BY order_id ORDER BY min(arrived_at), order_id LIMIT CAST(? AS INTEGER)',
    ),
    insertShipment: db.prepare(
      `INSERT INTO shipments(id, order_id, site, station_id, status, line_ids, units, carrier, pack_started_at, pack_due_at, packed_at, ship_due_at,
                             shipped_at, shipped_by, tracking_number, delivered_at, delivered_by, canceled_at, created_at, updated_at)
       VALUES (@id, @order_id, @site, @station_id, @status, @line_ids, @units, @carrier, @pack_started_at, @pack_due_at, @packed_at, @ship_due_at,
               @shipped_at, @shipped_by, @tracking_number, @delivered_at, @delivered_by, @canceled_at, @created_at, @updated_at)`,
    ),
    updateShipment: db.prepare(
      `UPDATE shipments SET status = @status, line_ids = @line_ids, units = @units, packed_at = @packed_at, ship_due_at = @ship_due_at,
              shipped_at = @shipped_at, shipped_by = @shipped_by, tracking_number = @tracking_number, delivered_at = @delivered_at,
              delivered_by = @delivered_by, canceled_at = @canceled_at, updated_at = @updated_at
        WHERE id = @id`,
    ),
    getShipment: db.prepare('SELECT * FROM shipments WHERE id = ?'),
    ofOrder: db.prepare('SELECT * FROM shipments WHERE order_id = ? ORDER BY created_at, id'),
    listAll: db.prepare('SELECT * FROM shipments ORDER BY created_at DESC, id DESC LIMIT CAST(? AS INTEGER)'),
    listByStatus: db.prepare('SELECT * FROM shipments WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT CAST(? AS INTEGER)'),
    // The deadline queries name their partial indexes: without statistics the planner prefers
    // shipments_status and walks every PACKED parcel, and a day's parcels wait for their
    // carrier's cut-off as PACKED, so each pass cost more as the day went on.
    due: db.prepare(
      `SELECT * FROM (
         SELECT * FROM shipments INDEXED BY shipments_pack_due WHERE status = 'PACKING' AND pack_due_at <= @now
         UNION ALL
         SELECT * FROM shipments INDEXED BY shipments_ship_due WHERE @ship = 1 AND status = 'PACKED' AND ship_due_at <= @now
       ) ORDER BY CASE status WHEN 'PACKING' THEN pack_due_at ELSE ship_due_at END, id LIMIT CAST(@limit AS INTEGER)`,
    ),
    next: db.prepare(
      `SELECT min(at) AS at FROM (
         SELECT min(pack_due_at) AS at FROM shipments INDEXED BY shipments_pack_due WHERE status = 'PACKING'
         UNION ALL
         SELECT min(ship_due_at) AS at FROM shipments INDEXED BY shipments_ship_due WHERE @ship = 1 AND status = 'PACKED'
       )`,
    ),
  };
}

function arrivalFromRow(r: ArrivalRow): ArrivalRecord {
  return {
    lineId: r.line_id,
    orderId: r.order_id,
    site: r.site,
    stationId: r.station_id,
    taskId: r.task_id ?? undefined,
    arrivedAt: r.arrived_at,
    shipmentId: r.shipment_id ?? undefined,
  };
}

function toRow(s: ShipmentRecord): ShipmentRow {
  return {
    id: s.id,
    order_id: s.orderId,
    site: s.site,
    station_id: s.stationId,
    status: s.status,
    line_ids: JSON.stringify(s.lineIds),
    units: s.units,
    carrier: s.carrier ?? null,
    pack_started_at: s.packStartedAt,
    pack_due_at: s.packDueAt,
    packed_at: s.packedAt ?? null,
    ship_due_at: s.shipDueAt ?? null,
    shipped_at: s.shippedAt ?? null,
    shipped_by: s.shippedBy ?? null,
    tracking_number: s.trackingNumber ?? null,
    delivered_at: s.deliveredAt ?? null,
    delivered_by: s.deliveredBy ?? null,
    canceled_at: s.canceledAt ?? null,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

function fromRow(r: ShipmentRow): ShipmentRecord {
  return {
    id: r.id,
    orderId: r.order_id,
    site: r.site,
    stationId: r.station_id,
    status: r.status,
    lineIds: JSON.parse(r.line_ids) as string[],
    units: r.units,
    carrier: r.carrier ?? undefined,
    packStartedAt: r.pack_started_at,
    packDueAt: r.pack_due_at,
    packedAt: r.packed_at ?? undefined,
    shipDueAt: r.ship_due_at ?? undefined,
    shippedAt: r.shipped_at ?? undefined,
    shippedBy: r.shipped_by ?? undefined,
    trackingNumber: r.tracking_number ?? undefined,
    deliveredAt: r.delivered_at ?? undefined,
    deliveredBy: r.delivered_by ?? undefined,
    canceledAt: r.canceled_at ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
