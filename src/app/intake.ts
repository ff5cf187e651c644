/**
 * Order intake (DESIGN §4): idempotent, validated, and acknowledged only once durable. Requests
 * that arrive within one turn of the event loop share one fsynced transaction (group commit),
 * each in its own savepoint so one bad order cannot undo its neighbours.
 */
import { orderMachine } from '../domain/order-machine.js';
import { lineMachine } from '../domain/line-machine.js';
import { applyEvent, startMachine } from '../domain/machine-runner.js';
import { mergeLines } from '../domain/order-input.js';

type MergedLine = ReturnType<typeof mergeLines>[number];
import type { HoldRecord, LineRecord, OrderInput, OrderRecord, StockPosition } from '../domain/records.js';
import { DEFAULT_RISK_CONFIG, assessRisk, orderValue, type RiskAssessment, type RiskConfig } from '../domain/risk.js';
import { PickwireError, type ErrorDetail } from '../errors.js';
import type { AppContext } from './context.js';
import type { AfterCommit, LineService } from './line-service.js';
import { orderView } from './queries.js';
import { requestHash } from './request-hash.js';
import { RiskHistory } from './risk-history.js';
import type { SourcingService } from './sourcing-service.js';
import { deriveFulfilment } from '../domain/fulfilment.js';
import type { LineState } from '../domain/line-machine.js';
import type { LineOutcome } from '../domain/sourcing.js';

/** The line state each sourcing verdict leads to. */
const OUTCOME_STATE: Record<LineOutcome['outcome'], LineState> = { sourced: 'SOURCED', backordered: 'BACKORDERED', unroutable: 'UNROUTABLE' };

export interface IntakeResult {
  statusCode: number;
  body: unknown;
  /** `body` as JSON text, serialised once: what was stored for replays is what HTTP sends. */
  json: string;
  /** True when an earlier response was replayed for the same Idempotency-Key and body. */
  replayed: boolean;
}

export interface IntakeOptions {
  /** Upper bound on the units of one SKU in one order, after merging duplicate lines. */
  maxLineQuantity: number;
  /** Risk rules, weights and the fraud-hold threshold; DEFAULT_RISK_CONFIG when left out. */
  risk?: RiskConfig;
  /**
   * Commits each group without holding the event loop while the disk syncs (SqliteStore): the
   * replies wait for the fsync, the next group is taken meanwhile. Without it, each group commits
   * with `store.tx`, fsynced before it returns.
   */
  syncLater?: SyncLaterStore;
}

/** A store that commits now and reports when the commit is on disk (SqliteStore.txSyncLater). */
export interface SyncLaterStore {
  txSyncLater<T>(fn: () => T): { result: T; durable: Promise<void> };
}

/**
 * Orders per group commit, at most. A larger backlog (after a GC pause or a slow sweep) is taken
 * over several turns of the event loop, so one commit never holds it for long and replies, new
 * requests and timers get their turn in between.
 */
const MAX_GROUP = 64;

/** How many of the customer's previous orders the risk score looks at (their average value, past addresses). */
const RISK_HISTORY = 20;
const HOUR_MS = 3600_000;

interface Pending {
  input: OrderInput;
  /** The order's lines with duplicate SKUs merged, as validated. */
  merged: MergedLine[];
  key: string;
  hash: string;
  actor: string | undefined;
  resolve: (r: IntakeResult) => void;
  reject: (e: unknown) => void;
}

export class OrderIntake {
  private queue: Pending[] = [];
  private readonly inFlightKeys = new Set<string>();
  private flushScheduled = false;
  /**
   * Groups committed whose fsync is not back yet. While one is in flight the next group waits
   * for it (unless a full group or more is queued): the orders that arrive meanwhile commit
   * together once it returns. Their replies waited for an fsync started after their commit
   * before too, but each small commit rewrote the same hot index pages into the WAL (and so
   * brought the next checkpoint sooner): holding back halved the commits per order taken over
   * HTTP and cut the core's CPU per order by 6-10% at a steady 1,000 orders/s.
   */
  private syncing = 0;
  private readonly risk: RiskConfig;
  private readonly unitPrices: ReadonlyMap<string, number | undefined>;
  private readonly history: RiskHistory;

  constructor(
    private readonly ctx: AppContext,
    private readonly lines: LineService,
    private readonly sourcing: SourcingService,
    private readonly opts: IntakeOptions,
  ) {
    this.risk = opts.risk ?? DEFAULT_RISK_CONFIG;
    this.unitPrices = new Map(ctx.layout.skus.map((s) => [s.sku, s.unitPrice]));
    this.history = new RiskHistory(ctx.store, { depth: RISK_HISTORY, velocityCap: this.risk.velocityLimit, valueOf: (lines) => orderValue(this.priced(lines)) });
  }

  get pending(): number {
    return this.queue.length;
  }

  submit(input: OrderInput, idempotencyKey: string | undefined, actor?: string): Promise<IntakeResult> {
    const merged = mergeLines(input.lines);
    this.validate(merged);
    // Without a header, the channel's own order id is the natural key (DESIGN §4).
    const key = idempotencyKey ?? (input.externalId ? `${input.channel}:${input.externalId}` : undefined);
    const hash = requestHash(input);
    if (key !== undefined) {
      // In flight first: a key stays in flight until its commit is on disk, and a committed
      // response is not replayed before then.
      if (this.inFlightKeys.has(key)) {
        return Promise.reject(new PickwireError('PW_ERR_IDEMPOTENCY_IN_FLIGHT', `a request with Idempotency-Key ${key} is still being processed`));
      }
      const replay = this.replay(key, hash);
      if (replay) return Promise.resolve(replay);
      this.inFlightKeys.add(key);
    }
    return new Promise<IntakeResult>((resolve, reject) => {
      this.queue.push({ input, merged, key: key ?? '', hash, actor, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || (this.syncing > 0 && this.queue.length < MAX_GROUP)) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private validate(merged: readonly MergedLine[]): void {
    const details: ErrorDetail[] = [];
    for (const line of merged) {
      const path = `/lines/${line.paths[0] ?? 0}`;
      if (!this.ctx.store.skuExists(line.sku)) details.push({ path: `${path}/sku`, problem: `unknown SKU ${line.sku}` });
      if (line.quantity > this.opts.maxLineQuantity) {
        details.push({ path: `${path}/quantity`, problem: `${line.quantity} units of ${line.sku} exceed the maximum of ${this.opts.maxLineQuantity}` });
      }
    }
    const unknown = details.filter((d) => d.problem.startsWith('unknown SKU'));
    if (unknown.length > 0) {
      throw new PickwireError('PW_ERR_UNKNOWN_SKU', `the order names ${unknown.length} unknown SKU(s): ${unknown.map((d) => d.problem.slice(12)).join(', ')}`, { details });
    }
    if (details.length > 0) throw new PickwireError('PW_ERR_VALIDATION', details.map((d) => d.problem).join('; '), { details });
  }

  private replay(key: string, hash: string): IntakeResult | undefined {
    const prior = this.ctx.store.getIdempotency(key);
    if (!prior) return undefined;
    if (prior.requestHash !== hash) {
      throw new PickwireError('PW_ERR_IDEMPOTENCY_MISMATCH', `Idempotency-Key ${key} was first used with a different request body`);
    }
    return { statusCode: prior.statusCode, body: prior.response, json: prior.responseJson ?? JSON.stringify(prior.response), replayed: true };
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue.length > MAX_GROUP ? this.queue.splice(0, MAX_GROUP) : this.queue;
    if (batch === this.queue) this.queue = [];
    else this.scheduleFlush();
    const outcomes: (() => void)[] = [];
    const effects: (() => void)[] = [];
    let durable: Promise<void>;
    try {
      durable = this.commit(() => {
        for (const p of batch) {
          try {
            // A savepoint per order: a failure rolls back this order only, and drops the live
            // events it had lined up with it.
            const mine: (() => void)[] = [];
            const { result, createdAt } = this.ctx.store.tx(() => this.createOrder(p, (effect) => mine.push(effect)));
            effects.push(...mine);
            // Stored (savepoint released): the risk score of every later order counts it, in
            // this group and after. Forgotten below if the group fails.
            if (createdAt !== undefined) this.history.record(p.input, createdAt);
            outcomes.push(() => p.resolve(result));
          } catch (err) {
            // A store that refuses writes (disk full, I/O error) may have rolled back the whole
            // transaction, not just this savepoint: abort the group, so no neighbour commits
            // half of itself or outside the transaction; every order in it gets the 503.
            if (err instanceof PickwireError && err.code === 'PW_ERR_STORE_UNAVAILABLE') throw err;
            outcomes.push(() => p.reject(err));
          }
        }
      });
    } catch (err) {
      this.history.forget();
      this.refuse(batch, err);
      return;
    }
    if (batch.length > 1) this.ctx.logger.debug({ batch: batch.length }, 'group commit');
    // Only a real fsync in flight holds the next group back: without syncLater the group is
    // already on disk, and the deterministic simulation keeps its flush timing.
    const held = this.opts.syncLater !== undefined;
    if (held) this.syncing++;
    // Replies, live events and kicks only once the group is on disk (DESIGN §4).
    durable.then(
      () => {
        if (held) this.synced();
        for (const effect of effects) effect();
        for (const p of batch) if (p.key) this.inFlightKeys.delete(p.key);
        for (const settle of outcomes) settle();
      },
      // Committed but not known to be on disk: no order of the group is acknowledged. A retry
      // with the same key is answered from the stored record; it is on disk once any later
      // commit's fsync succeeds (a failed fsync on Linux is rare and usually means a dying disk).
      (err: unknown) => {
        if (held) this.synced();
        this.refuse(batch, err);
      },
    );
  }

  /** A group's fsync is back: once none is in flight, the orders queued meanwhile form the next group. */
  private synced(): void {
    this.syncing--;
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /** One transaction for the group; resolves when it is on disk. */
  private commit(fn: () => void): Promise<void> {
    if (this.opts.syncLater) return this.opts.syncLater.txSyncLater(fn).durable;
    this.ctx.store.tx(fn);
    return Promise.resolve();
  }

  private refuse(batch: readonly Pending[], err: unknown): void {
    const failure =
      err instanceof PickwireError ? err : new PickwireError('PW_ERR_STORE_UNAVAILABLE', 'the order could not be stored; nothing was changed', { cause: err });
    for (const p of batch) if (p.key) this.inFlightKeys.delete(p.key);
    for (const p of batch) p.reject(failure);
  }

  /**
   * `createdAt` is set when a new order was stored. The key is not looked up again: submit()
   * found no record for it, and it stayed in flight since, so nothing else could store one (the
   * table's primary key would refuse a duplicate, failing this order alone).
   */
  private createOrder(p: Pending, after: AfterCommit): { result: IntakeResult; createdAt: number | undefined } {
    const { store, clock } = this.ctx;
    const now = clock.now();
    // Scored before the order is stored, so its history is the orders before it (including those
    // earlier in this group commit).
    const risk = this.assessRisk(p.input, p.merged, now);
    const id = `O-${String(store.nextId('order')).padStart(8, '0')}`;
    // The header's transitions are computed first and the order written once, OPEN: every step
    // is journaled, but the row is not rewritten for each.
    const started = startMachine(orderMachine, { orderId: id });
    const validated = applyEvent(orderMachine, started, { type: 'order.validate' });
    const opened = applyEvent(orderMachine, validated.next, { type: 'order.open' });
    const created: LineRecord[] = p.merged.map((l, i) => {
      const lineId = `${id}-L${i + 1}`;
      return {
        id: lineId,
        orderId: id,
        lineNo: i + 1,
        sku: l.sku,
        quantity: l.quantity,
        state: 'CREATED',
        site: undefined,
        location: undefined,
        zone: undefined,
        snapshot: startMachine(lineMachine, { lineId, orderId: id, sku: l.sku, quantity: l.quantity }),
        updatedAt: now,
      };
    });
    const positions = new Map<string, StockPosition[]>();
    const decision = this.sourcing.decide(p.input.shipTo, created, undefined, positions);
    const order: OrderRecord = {
      id,
      externalId: p.input.externalId,
      channel: p.input.channel,
      customerId: p.input.customer.id,
      status: 'OPEN',
      fulfilment: deriveFulfilment(decision.lines.map((o) => OUTCOME_STATE[o.outcome])),
      snapshot: opened.next,
      body: p.input,
      priority: p.input.priority ?? 0,
      promisedBy: p.input.promisedBy ? Date.parse(p.input.promisedBy) : undefined,
      createdAt: now,
      updatedAt: now,
    };
    store.insertOrder(order);
    const journal = (type: string, data: Record<string, unknown>): void =>
      store.appendEvent({ type, aggregateType: 'order', aggregateId: id, orderId: id, actor: p.actor, at: now, data });
    journal('order.received', { channel: order.channel, externalId: order.externalId ?? null, idempotencyKey: p.key || null });
    journal('order.validated', { from: validated.from, to: validated.to });
    journal('order.opened', { from: opened.from, to: opened.to });
    this.sourcing.record(id, decision, 'intake', p.actor);

    // A held order keeps its reservation but is not released to the floor (DESIGN §3); the
    // release pass skips it until the hold is released.
    const hold = risk.hold ? this.placeFraudHold(id, risk, p.actor, now, after) : undefined;
    const outcomes = new Map(decision.lines.map((o) => [o.lineId, o]));
    const lines = created.map((line) => {
      store.appendEvent({ type: 'line.created', aggregateType: 'line', aggregateId: line.id, orderId: id, actor: p.actor, at: now, data: { sku: line.sku, quantity: line.quantity } });
      const outcome = outcomes.get(line.id);
      if (!outcome) throw new PickwireError('PW_ERR_INTERNAL', `sourcing gave no verdict for line ${line.id}`);
      // Lines name distinct SKUs (merged above), so the positions sourcing read are still current.
      return this.lines.applyOutcome(line, outcome, after, { fresh: true, actor: p.actor, positions: positions.get(line.sku) });
    });
    // Stock can differ from what sourcing saw only if a position vanished in between; then the
    // line was backordered instead and the derived fulfilment is written again.
    const fulfilment = deriveFulfilment(lines.map((l) => l.state));
    if (fulfilment !== order.fulfilment) {
      order.fulfilment = fulfilment;
      store.updateOrder(id, { status: order.status, fulfilment, snapshot: order.snapshot, updatedAt: now });
    }

    const body = orderView(order, lines, hold ? [hold] : []);
    const json = JSON.stringify(body);
    if (p.key) store.putIdempotency({ key: p.key, requestHash: p.hash, statusCode: 201, response: body, responseJson: json, createdAt: now });
    after(() => {
      this.ctx.metrics.ordersAccepted.inc({ channel: order.channel });
      this.ctx.telemetry.recordOrderAccepted(order.channel);
      this.ctx.notifier.publish({ type: 'order.created', at: now, data: { id, status: order.status, fulfilment: order.fulfilment, lines: body.lines } });
    });
    return { result: { statusCode: 201, body, json, replayed: false }, createdAt: now };
  }

  /** The rule-based risk score (src/domain/risk.ts) over the in-memory history (risk-history.ts). */
  private assessRisk(input: OrderInput, merged: readonly MergedLine[], now: number): RiskAssessment {
    const previous = this.history.previousOrders(input.customer.id);
    const since = now - HOUR_MS;
    return assessRisk(
      {
        lines: this.priced(merged),
        shipTo: input.shipTo,
        previousOrderValues: previous.map((o) => o.value),
        customerOrdersLastHour: this.history.customerOrdersSince(input.customer.id, since),
        addressOrdersLastHour: this.history.addressOrdersSince(input.shipTo, since),
        pastShipTo: previous.flatMap((o) => (o.point ? [o.point] : [])),
      },
      this.risk,
    );
  }

  private priced(lines: readonly { sku: string; quantity: number }[]): { sku: string; quantity: number; unitPrice: number | undefined }[] {
    return lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: this.unitPrices.get(l.sku) }));
  }

  private placeFraudHold(orderId: string, risk: RiskAssessment, actor: string | undefined, now: number, after: AfterCommit): HoldRecord {
    const hold: HoldRecord = {
      id: `H-${String(this.ctx.store.nextId('hold')).padStart(8, '0')}`,
      orderId,
      type: 'fraud',
      status: 'open',
      reason: `risk score ${risk.score} >= ${this.risk.threshold}: ${risk.findings.map((f) => f.reason).join('; ')}`,
      source: 'risk',
      score: risk.score,
      createdAt: now,
      resolvedAt: undefined,
      resolvedBy: undefined,
      note: undefined,
    };
    this.ctx.store.insertHold(hold);
    this.ctx.store.appendEvent({
      type: 'hold.placed',
      aggregateType: 'order',
      aggregateId: orderId,
      orderId,
      actor,
      at: now,
      data: { holdId: hold.id, type: hold.type, source: hold.source, score: risk.score, threshold: this.risk.threshold, value: risk.value, findings: risk.findings },
    });
    after(() => this.ctx.notifier.publish({ type: 'hold.placed', at: now, data: { id: hold.id, orderId, type: hold.type, score: risk.score } }));
    return hold;
  }
}
