/** The aggregate reads behind `GET /kpis` (src/app/kpis.ts): open orders by state, late and at-risk orders. */
import type Database from 'better-sqlite3';

/**
 * Lines whose promise still matters: everything before DELIVERED except the dead ends. A line's
 * promise is its delivery promise (sourcing adds transit days), so a shipped line still counts.
 */
const UNDELIVERED = "('CREATED', 'SOURCED', 'BACKORDERED', 'RELEASED', 'PICKING', 'PICKED', 'PACKED', 'SHIPPED')";

export class KpiQueries {
  private readonly openByFulfilment: Database.Statement;
  private readonly byPromise: Database.Statement;

  constructor(db: Database.Database) {
    // OPEN is the only non-final header status after intake; RECEIVED/VALIDATED last a transaction.
    this.openByFulfilment = db.prepare(
      "SELECT fulfilment, count(*) AS n FROM orders WHERE status IN ('RECEIVED', 'VALIDATED', 'OPEN') GROUP BY fulfilment",
    );
    // One row per open order: its earliest promise over the lines not yet delivered.
    this.byPromise = db.prepare(
      `SELECT count(CASE WHEN p < @late THEN 1 END) AS late,
              count(CASE WHEN p >= @late AND p < @risk THEN 1 END) AS atRisk
         FROM (SELECT min(json_extract(l.snapshot, '$.context.promiseDate')) AS p
                 FROM order_lines l JOIN orders o ON o.id = l.order_id
                WHERE l.state IN ${UNDELIVERED} AND o.status = 'OPEN'
                GROUP BY l.order_id)`,
    );
  }

  openOrdersByFulfilment(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.openByFulfilment.all() as { fulfilment: string; n: number }[]) out[r.fulfilment] = r.n;
    return out;
  }

  ordersByPromise(lateBefore: number, riskBefore: number): { late: number; atRisk: number } {
    const r = this.byPromise.get({ late: lateBefore, risk: riskBefore }) as { late: number; atRisk: number } | undefined;
    return { late: r?.late ?? 0, atRisk: r?.atRisk ?? 0 };
  }
}
