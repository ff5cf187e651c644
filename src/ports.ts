/**
 * The seams between the core's logic and the world. Live runs plug in the system clock, MQTT and
 * SQLite; discrete-event simulation plugs in a virtual clock and an in-memory transport. Logic
 * never reaches past these interfaces.
 */
import type { ExceptionRecord, ExceptionStatus, HoldRecord, HoldStatus, JournalEntry, LineRecord, OrderInput, OrderRecord, OutboxMessage, StockPosition, TaskRecord } from './domain/records.js';

/** Time source. Everything that needs "now" asks this, never `Date.now()`. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` after `ms` of this clock's time; returns a cancel function. */
  setTimer(ms: number, fn: () => void): () => void;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
  /** MQTT 5 message expiry: the broker drops the message if it is not delivered in time. */
  expirySeconds?: number;
}

export type MessageHandler = (topic: string, payload: Buffer) => void;

/** MQTT as the core sees it: publish, subscribe, and know when the link (re)connects. */
export interface Transport {
  readonly connected: boolean;
  publish(topic: string, payload: Uint8Array | string, opts: PublishOptions): Promise<void>;
  /** Subscriptions are remembered and renewed after every reconnect. */
  subscribe(patterns: string[], qos: 0 | 1): Promise<void>;
  onMessage(handler: MessageHandler): void;
  /** Called after the first connect and after every reconnect (resubscribed by then). */
  onConnect(handler: () => void): void;
  close(): Promise<void>;
}

/** A change worth showing live: pushed to the WebSocket stream and to subscribers. */
export interface LiveEvent {
  type: string;
  at: number;
  data: Record<string, unknown>;
}

/** Fan-out of live events to the dashboard stream. Never blocks the control path. */
export interface Notifier {
  publish(event: LiveEvent): void;
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

export interface TelemetryPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number>;
  at: number;
}

/** Device metrics and KPIs. Buffered and bounded: a slow sink drops, it never blocks. */
export interface TelemetrySink {
  write(point: TelemetryPoint): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The durable store (DESIGN §4). Synchronous by design: better-sqlite3 commits on the calling
 * thread, and `tx` makes every call inside it one atomic, fsynced transaction — the journal,
 * current-state tables and the outbox change together or not at all.
 */
export interface Store {
  /** Runs `fn` in one immediate transaction; nested calls become savepoints. */
  tx<T>(fn: () => T): T;
  /**
   * Like `tx`, atomic, but its commit does not wait for the disk: for records whose loss in a
   * power cut is harmless because they are repeated or rebuilt (e.g. that a command was handed
   * to the broker: unrecorded, it is sent again and devices ignore repeats; what a device
   * reported: it reports it again). The next `tx` makes it durable along with its own commit.
   * A commit that queued outbox messages is made durable before this returns, since nothing is
   * sent that is not durable. Inside another transaction it is a savepoint of that one.
   */
  txUnsynced<T>(fn: () => T): T;
  nextId(sequence: string): number;

  appendEvent(e: Omit<JournalEntry, 'seq' | 'at'> & { at?: number }): void;
  orderEvents(orderId: string): JournalEntry[];
  /** The journal of one aggregate (e.g. a stock position `site/location/sku`), oldest first. */
  aggregateEvents(aggregateType: JournalEntry['aggregateType'], aggregateId: string): JournalEntry[];

  getIdempotency(key: string): IdempotencyRecord | undefined;
  putIdempotency(r: IdempotencyRecord): void;
  /** Forgets keys first used before `createdBefore`; returns how many. */
  pruneIdempotency(createdBefore: number): number;

  upsertSku(sku: { sku: string; name: string; unitPrice?: number }): void;
  skuExists(sku: string): boolean;
  countSkus(): number;

  insertStock(p: StockPosition): void;
  /** Units reserved per site: what each site still has to ship, for sourcing's capacity arithmetic. */
  reservedBySite(): Map<string, number>;
  stockOf(sku: string): StockPosition[];
  stockAt(site: string, location: string, sku: string): StockPosition | undefined;
  listStock(q: { sku?: string; site?: string; limit: number; after?: string }): StockPosition[];
  /** Moves `quantity` between buckets; throws when a CHECK constraint (reserved <= onHand) would break. */
  adjustStock(site: string, location: string, sku: string, delta: { onHand?: number; reserved?: number }): void;

  insertOrder(o: OrderRecord): void;
  updateOrder(id: string, patch: Pick<OrderRecord, 'status' | 'fulfilment' | 'snapshot' | 'updatedAt'>): void;
  getOrder(id: string): OrderRecord | undefined;
  listOrders(q: OrderQuery): OrderRecord[];
  /** The customer's most recent orders, newest first (for the risk score). */
  recentOrdersOfCustomer(customerId: string, limit: number): { id: string; body: OrderInput; createdAt: number }[];
  /** Creation times of the latest orders to the same ship-to address (country, postal code, first line; case-insensitive), newest first. */
  recentShipToOrderTimes(shipTo: Pick<OrderInput['shipTo'], 'country' | 'postalCode' | 'line1'>, limit: number): number[];

  insertException(e: ExceptionRecord): void;
  /** Writes status, actions and resolution; false when there is no such exception. */
  updateException(e: ExceptionRecord): boolean;
  getException(id: string): ExceptionRecord | undefined;
  /** Oldest first. */
  listExceptions(q: { status?: ExceptionStatus; limit: number }): ExceptionRecord[];
  exceptionsOf(orderId: string): ExceptionRecord[];
  countOpenExceptionsByType(): Record<string, number>;

  insertHold(h: HoldRecord): void;
  getHold(id: string): HoldRecord | undefined;
  holdsOf(orderId: string): HoldRecord[];
  /** Oldest first. */
  listHolds(q: { status?: HoldStatus; limit: number }): HoldRecord[];
  resolveHold(id: string, patch: Pick<HoldRecord, 'status' | 'resolvedAt' | 'resolvedBy' | 'note'>): void;

  insertLine(l: LineRecord): void;
  updateLine(id: string, patch: Pick<LineRecord, 'state' | 'site' | 'location' | 'zone' | 'snapshot' | 'updatedAt'>): void;
  getLine(id: string): LineRecord | undefined;
  linesOf(orderId: string): LineRecord[];
  linesOfOrders(orderIds: string[]): LineRecord[];
  linesInState(state: string, limit: number): LineRecord[];
  countLinesByState(): Record<string, number>;
  /** BACKORDERED lines of one SKU, earliest promise date first, then oldest order, then line number. */
  backorderedLines(sku: string): LineRecord[];
  /** Lines of `site` the floor is working on (RELEASED or PICKING): the release window's fill. */
  countActiveLines(site: string): number;
  /** SOURCED lines at `site` of orders without an open hold: highest priority first, then earliest promised, then oldest. */
  releasableLines(q: { site: string; limit: number }): LineRecord[];
  /** The same queue as `releasableLines`, only each line's id and zone: cheap enough to rank thousands. */
  releaseQueue(q: { site: string; limit: number }): { id: string; zone: string | undefined }[];

  insertTask(t: TaskRecord): void;
  updateTask(id: string, patch: Partial<Pick<TaskRecord, 'state' | 'deviceId' | 'progress' | 'attempts' | 'updatedAt' | 'plan'>>): void;
  getTask(id: string): TaskRecord | undefined;
  tasksOfLine(lineId: string): TaskRecord[];
  /** Oldest first; `amr` or `fixed` (AS/RS, conveyor, arm) narrows by device class. */
  tasksInStates(states: readonly string[], opts?: { devices?: 'amr' | 'fixed'; limit?: number }): TaskRecord[];
  /**
   * A page of the tasks in one state, oldest first, from just after `after` (createdAt, id):
   * read in index order and stopped after `limit`, however many finished tasks history holds.
   */
  tasksInStatePage(state: string, limit: number, after?: { createdAt: number; id: string }): TaskRecord[];
  /** AMR trips not yet given to a vehicle, oldest first: what every dispatch pass asks. */
  amrTripsWaiting(limit: number): TaskRecord[];
  /**
   * Fixed-equipment steps that may go now as far as their line is concerned: CREATED, and no
   * earlier step of the line still open. Only for the given devices; oldest first.
   */
  readySteps(deviceIds: readonly string[], limit: number): TaskRecord[];

  enqueue(m: Pick<OutboxMessage, 'topic' | 'payload' | 'qos' | 'retain' | 'expirySeconds' | 'correlation'>): number;
  unsent(limit: number): OutboxMessage[];
  /** Sent but not yet echoed by the device, sent before `sentBefore`. */
  unconfirmed(sentBefore: number, limit: number): OutboxMessage[];
  markSent(seq: number, at: number): void;
  confirm(correlation: string, at: number): number;
  outboxPending(): number;
  /** Deletes confirmed outbox rows older than `confirmedBefore`; the journal keeps the history. */
  pruneOutbox(confirmedBefore: number): number;

  saveDevice(d: { id: string; class: string; data: unknown; updatedAt: number }): void;
  loadDevices(): { id: string; class: string; data: unknown; updatedAt: number }[];

  close(): void;
}

export interface IdempotencyRecord {
  key: string;
  requestHash: string;
  statusCode: number;
  response: unknown;
  /** `response` as JSON text: stored as given (serialised once for both the store and the reply), returned as stored. */
  responseJson?: string;
  createdAt: number;
}

export interface OrderQuery {
  status?: string;
  externalId?: string;
  customer?: string;
  limit: number;
  /** Keyset cursor: orders created strictly before this (createdAt, id). */
  before?: { createdAt: number; id: string };
}
