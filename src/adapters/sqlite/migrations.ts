import type Database from 'better-sqlite3';

/**
 * Versioned schema migrations. Append only: a released migration is never edited, because
 * data dirs in the field have already applied it. Each runs in its own transaction.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'journal, orders, lines, stock, tasks, outbox, devices',
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        aggregate_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        order_id TEXT,
        actor TEXT,
        data TEXT NOT NULL
      );
      CREATE INDEX events_order ON events(order_id, seq);
      CREATE INDEX events_aggregate ON events(aggregate_type, aggregate_id, seq);

      CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        response TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE skus (
        sku TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        unit_price REAL
      );

      CREATE TABLE stock (
        site TEXT NOT NULL,
        location TEXT NOT NULL,
        sku TEXT NOT NULL REFERENCES skus(sku),
        zone TEXT NOT NULL,
        on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
        reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        safety_stock INTEGER NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
        PRIMARY KEY (site, location, sku),
        CHECK (reserved <= on_hand)
      );
      CREATE INDEX stock_sku ON stock(sku);

      CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        external_id TEXT,
        channel TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        status TEXT NOT NULL,
        fulfilment TEXT NOT NULL,
        snapshot TEXT NOT NULL,
        body TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        promised_by INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX orders_status ON orders(status, created_at);
      CREATE INDEX orders_fulfilment ON orders(fulfilment, created_at);
      CREATE INDEX orders_external ON orders(channel, external_id);
      CREATE INDEX orders_customer ON orders(customer_id, created_at);

      CREATE TABLE order_lines (
        id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders(id),
        line_no INTEGER NOT NULL,
        sku TEXT NOT NULL,
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        state TEXT NOT NULL,
        site TEXT,
        location TEXT,
        zone TEXT,
        snapshot TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX lines_order ON order_lines(order_id, line_no);
      CREATE INDEX lines_state ON order_lines(state);

      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        line_id TEXT NOT NULL REFERENCES order_lines(id),
        step INTEGER NOT NULL,
        kind TEXT NOT NULL,
        device_class TEXT NOT NULL,
        device_id TEXT,
        state TEXT NOT NULL,
        load_id TEXT,
        plan TEXT NOT NULL,
        progress TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX tasks_line ON tasks(line_id, step);
      CREATE INDEX tasks_state ON tasks(state, created_at);
      CREATE INDEX tasks_kind_state ON tasks(kind, state);
      CREATE INDEX tasks_device ON tasks(device_id, state);

      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        qos INTEGER NOT NULL,
        retain INTEGER NOT NULL DEFAULT 0,
        expiry_seconds INTEGER,
        correlation TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        confirmed_at INTEGER
      );
      CREATE INDEX outbox_unsent ON outbox(sent_at) WHERE sent_at IS NULL;
      CREATE INDEX outbox_unconfirmed ON outbox(correlation) WHERE confirmed_at IS NULL;

      CREATE TABLE sequences (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );

      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        class TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'holds; ship-to key on orders for address velocity',
    sql: `
      CREATE TABLE holds (
        id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders(id),
        type TEXT NOT NULL CHECK (type IN ('fraud', 'payment', 'address', 'inventory', 'manual')),
        status TEXT NOT NULL CHECK (status IN ('open', 'released', 'rejected')),
        reason TEXT NOT NULL,
        source TEXT NOT NULL,
        score REAL,
        created_at INTEGER NOT NULL,
        resolved_at INTEGER,
        resolved_by TEXT,
        note TEXT
      );
      CREATE INDEX holds_status ON holds(status, created_at);
      CREATE INDEX holds_order ON holds(order_id);

      -- The normalised ship-to address, computed from the stored body (a virtual column costs
      -- nothing to add to existing rows), indexed for the risk score's per-address velocity.
      ALTER TABLE orders ADD COLUMN ship_to_key TEXT GENERATED ALWAYS AS (
        lower(trim(coalesce(json_extract(body, '$.shipTo.country'), ''))) || '|' ||
        lower(trim(coalesce(json_extract(body, '$.shipTo.postalCode'), ''))) || '|' ||
        lower(trim(coalesce(json_extract(body, '$.shipTo.line1'), '')))
      ) VIRTUAL;
      CREATE INDEX orders_ship_to ON orders(ship_to_key, created_at);
    `,
  },
  {
    version: 3,
    name: 'idempotency keys expire: index by age',
    sql: `CREATE INDEX idempotency_created ON idempotency_keys(created_at);`,
  },
  {
    version: 4,
    name: 'lines by state and site: the release window counts and picks them per site',
    sql: `
      DROP INDEX lines_state;
      CREATE INDEX lines_state_site ON order_lines(state, site);
    `,
  },
  {
    version: 5,
    name: 'exception records: what went wrong, what was done, who closed it',
    sql: `
      CREATE TABLE exceptions (
        id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'handled', 'resolved')),
        order_id TEXT REFERENCES orders(id),
        line_id TEXT,
        task_id TEXT,
        device_id TEXT,
        summary TEXT NOT NULL,
        detail TEXT NOT NULL,
        actions TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        resolved_at INTEGER,
        resolved_by TEXT,
        note TEXT
      );
      CREATE INDEX exceptions_status ON exceptions(status, created_at);
      CREATE INDEX exceptions_order ON exceptions(order_id);
    `,
  },
  {
    version: 6,
    name: 'pack-station arrivals and shipments, with their pack and ship deadlines',
    sql: `
      CREATE TABLE pack_arrivals (
        line_id TEXT PRIMARY KEY REFERENCES order_lines(id),
        order_id TEXT NOT NULL REFERENCES orders(id),
        site TEXT NOT NULL,
        station_id TEXT NOT NULL,
        task_id TEXT,
        arrived_at INTEGER NOT NULL,
        shipment_id TEXT
      );
      CREATE INDEX pack_arrivals_waiting ON pack_arrivals(site, order_id) WHERE shipment_id IS NULL;

      CREATE TABLE shipments (
        id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders(id),
        site TEXT NOT NULL,
        station_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('PACKING', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELED')),
        line_ids TEXT NOT NULL,
        units INTEGER NOT NULL CHECK (units >= 0),
        carrier TEXT,
        pack_started_at INTEGER NOT NULL,
        pack_due_at INTEGER NOT NULL,
        packed_at INTEGER,
        ship_due_at INTEGER,
        shipped_at INTEGER,
        shipped_by TEXT,
        tracking_number TEXT,
        delivered_at INTEGER,
        delivered_by TEXT,
        canceled_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX shipments_order ON shipments(order_id, created_at);
      CREATE INDEX shipments_status ON shipments(status, created_at);
      CREATE INDEX shipments_pack_due ON shipments(pack_due_at) WHERE status = 'PACKING';
      CREATE INDEX shipments_ship_due ON shipments(ship_due_at) WHERE status = 'PACKED';
    `,
  },
  {
    version: 7,
    name: 'orders: drop the two indexes no query uses, each paid by every order taken',
    // listOrders filters with `@x IS NULL OR ...`, which SQLite plans as a scan whatever the
    // indexes; nothing looks orders up by (channel, external_id) or by fulfilment alone.
    sql: `
      DROP INDEX orders_fulfilment;
      DROP INDEX orders_external;
    `,
  },
  {
    version: 8,
    name: 'intake writes fewer random index pages: journal by aggregate only for aggregates without an order; ship-to key stored',
    // Ten of an order's thirteen journal rows are order and line events, each of which landed on
    // a random page of events_aggregate. Those aggregates are found through events_order instead
    // (they always name their order), so the index keeps tasks, devices, stock and shipments.
    // The ship-to key was a generated column: every order insert ran json_extract over its body
    // three times for the index. Intake computes the same key (domain/risk.ts shipToKey) and
    // stores it; the virtual column stays for existing readers and costs nothing unindexed.
    sql: `
      DROP INDEX events_aggregate;
      CREATE INDEX events_aggregate ON events(aggregate_type, aggregate_id, seq) WHERE aggregate_type NOT IN ('order', 'line');
      ALTER TABLE orders ADD COLUMN ship_to TEXT;
      UPDATE orders SET ship_to = ship_to_key;
      DROP INDEX orders_ship_to;
      CREATE INDEX orders_ship_to ON orders(ship_to, created_at);
    `,
  },
  {
    version: 9,
    name: 'outbox: the resend and prune queries read indexes instead of scanning every kept command',
    // The outbox keeps an hour of confirmed commands (order payloads of several KiB each). The
    // resend pass (every few seconds) and the prune (every minute) scanned all of them, paging
    // through each row's payload to reach the columns after it; these partial indexes hold only
    // the commands awaiting an echo, resp. the confirmed ones, so each reads just its own rows.
    sql: `
      CREATE INDEX outbox_awaiting_echo ON outbox(seq, sent_at) WHERE confirmed_at IS NULL AND correlation IS NOT NULL;
      CREATE INDEX outbox_confirmed ON outbox(confirmed_at) WHERE confirmed_at IS NOT NULL;
    `,
  },
  {
    version: 10,
    name: 'outbox: payloads in their own table, so a status change rewrites a small row',
    // Sent, confirmed and the attempts counter change a command two or three times; each change
    // turned a NULL into a number, which resized the record, so SQLite rebuilt the whole row and
    // wrote a new overflow chain for a payload of several KiB that never changes. The mutable
    // part (outbox_entries, with the old table's seq sequence and indexes) is now a small row;
    // the payload is written once, keyed by the same seq, and leaves with its entry (trigger).
    // `outbox` becomes a read-only view with the old columns in their old order, for readers
    // of the file (tests, operators' queries).
    sql: `
      ALTER TABLE outbox RENAME TO outbox_entries;
      CREATE TABLE outbox_payloads (
        seq INTEGER PRIMARY KEY,
        payload BLOB NOT NULL
      );
      INSERT INTO outbox_payloads(seq, payload) SELECT seq, payload FROM outbox_entries;
      ALTER TABLE outbox_entries DROP COLUMN payload;
      CREATE TRIGGER outbox_payload_with_entry AFTER DELETE ON outbox_entries
      BEGIN
        DELETE FROM outbox_payloads WHERE seq = old.seq;
      END;
      CREATE VIEW outbox AS
        SELECT e.seq, e.topic, p.payload, e.qos, e.retain, e.expiry_seconds, e.correlation, e.created_at, e.sent_at, e.attempts, e.confirmed_at
        FROM outbox_entries e JOIN outbox_payloads p ON p.seq = e.seq;
    `,
  },
  {
    version: 11,
    name: "order lines carry their order's release key, so the release queue is read in index order",
    // The release queue (most urgent first: order priority, promise, age) was sorted from every
    // SOURCED line joined with its order on each read; with a backlog of tens of thousands of
    // lines the ETA service's once-a-second ranking held the event loop 100-170 ms. The order's
    // key is copied onto its lines when they are inserted (orders never change it afterwards;
    // the trigger keeps them in step should that change), and a partial index holds the queue.
    sql: `
      ALTER TABLE order_lines ADD COLUMN release_priority INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE order_lines ADD COLUMN release_promised INTEGER NOT NULL DEFAULT 9007199254740991;
      ALTER TABLE order_lines ADD COLUMN release_created INTEGER NOT NULL DEFAULT 0;
      UPDATE order_lines SET (release_priority, release_promised, release_created) =
        (SELECT o.priority, coalesce(o.promised_by, 9007199254740991), o.created_at FROM orders o WHERE o.id = order_lines.order_id);
      CREATE TRIGGER orders_release_key AFTER UPDATE OF priority, promised_by, created_at ON orders
      BEGIN
        UPDATE order_lines SET release_priority = new.priority, release_promised = coalesce(new.promised_by, 9007199254740991), release_created = new.created_at
        WHERE order_id = new.id;
      END;
      CREATE INDEX lines_release_queue ON order_lines(site, release_priority DESC, release_promised, release_created, order_id, line_no) WHERE state = 'SOURCED';
    `,
  },
  {
    version: 12,
    name: 'AMR trips waiting for a vehicle have their own index',
    // Every dispatch pass asks for the oldest of them. Through tasks_state the query read every
    // CREATED task, looked up its device class and sorted them all for ORDER BY created_at, id,
    // even for LIMIT 1: ~0.5 ms a pass with 200 trips queued (the intake benchmark, which has no
    // vehicles), and more with fixed-equipment steps waiting too. This index holds only waiting
    // AMR trips, in that order; a trip leaves it as a vehicle gets it.
    sql: `
      CREATE INDEX tasks_amr_waiting ON tasks(created_at, id) WHERE state = 'CREATED' AND device_class = 'amr';
    `,
  },
  {
    version: 13,
    name: 'order, exception and shipment lists read a page through an index in list order',
    // The lists of the API and the dashboard (newest orders first, a status, a customer, an
    // external id; exceptions and shipments) sorted every matching row to return one page: the
    // whole history for an unfiltered list or a status such as CLOSED. At 200k orders the first
    // page of GET /orders took 330 ms on the event loop, and a lookup by external id 37 ms.
    // Each list now has an index in its own order, ending in id as its cursor does, so a page
    // reads its rows and stops.
    sql: `
      CREATE INDEX orders_created ON orders(created_at, id);
      DROP INDEX orders_status;
      CREATE INDEX orders_status ON orders(status, created_at, id);
      CREATE INDEX orders_fulfilment ON orders(fulfilment, created_at, id);
      DROP INDEX orders_customer;
      CREATE INDEX orders_customer ON orders(customer_id, created_at, id);
      CREATE INDEX orders_external_id ON orders(external_id, created_at, id) WHERE external_id IS NOT NULL;
      CREATE INDEX exceptions_created ON exceptions(created_at, id);
      DROP INDEX exceptions_status;
      CREATE INDEX exceptions_status ON exceptions(status, created_at, id);
      DROP INDEX exceptions_order;
      CREATE INDEX exceptions_order ON exceptions(order_id, created_at, id);
      CREATE INDEX shipments_created ON shipments(created_at, id);
      DROP INDEX shipments_status;
      CREATE INDEX shipments_status ON shipments(status, created_at, id);
      DROP INDEX shipments_order;
      CREATE INDEX shipments_order ON shipments(order_id, created_at, id);
    `,
  },
];

/** Applies every migration newer than the file's `user_version`; returns the versions applied. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
