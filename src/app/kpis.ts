/**
 * The operator dashboard's headline figures (`GET /kpis`, issue 6).
 *
 * Rates over the last hour come from counters this service keeps in one-minute buckets, fed by
 * the live events the core already publishes (no journal scan per request; the journal has no
 * time index). After a restart the counters start empty, and `window.since` says from when they
 * count. What the counters see:
 *
 *  - orders received: `order.created`;
 *  - orders completed: the first `order.updated` whose derived fulfilment is PICKED or later
 *    (every live line picked), or whose header closed;
 *  - lines picked: once per line, the first time it is seen PICKED or later: in an
 *    `order.updated` (which lists the lines when the order's fulfilment moves), or when a task
 *    of the line finishes (an AMR's trip ends at the drop, after the pick);
 *  - dispatch latency: for each `task.updated` DISPATCHED, the time since the task became
 *    dispatchable: its creation, or for a later step of a plan, the end of the line's previous
 *    step, whichever is later.
 *
 * States (open orders by derived fulfilment, late and at-risk orders, devices, open exceptions)
 * are read when asked, at most once per `cacheMs`.
 */
import type { LineRecord, TaskRecord } from '../domain/records.js';
import type { Clock, LiveEvent, Notifier } from '../ports.js';
import type { DeviceRegistry } from './device-registry.js';

export interface KpiReads {
  getTask(id: string): TaskRecord | undefined;
  getLine(id: string): LineRecord | undefined;
  countOpenExceptionsByType(): Record<string, number>;
}

export interface KpiAggregates {
  openOrdersByFulfilment(): Record<string, number>;
  ordersByPromise(lateBefore: number, riskBefore: number): { late: number; atRisk: number };
}

export interface KpiDeps {
  store: KpiReads;
  queries: KpiAggregates;
  registry: DeviceRegistry;
  notifier: Notifier;
  clock: Clock;
}

export interface KpiOptions {
  /** Width of one chart bucket. Default one minute. */
  bucketMs?: number;
  /** How far back rates and charts reach. Default one hour. */
  windowMs?: number;
  /** An order whose earliest open promise falls within this much of now is at risk. Default one hour. */
  atRiskMs?: number;
  /** State reads are reused for this long, so many dashboards cost the store one query. Default 2 s. */
  cacheMs?: number;
  /** Dispatch latencies kept per bucket for its percentiles (a uniform sample beyond that). */
  samplesPerBucket?: number;
}

export interface KpiBucket {
  /** Start of the bucket, ISO 8601. */
  at: string;
  ordersReceived: number;
  ordersCompleted: number;
  linesPicked: number;
  unitsPicked: number;
  dispatches: number;
  dispatchLatencyP50Ms: number | null;
  dispatchLatencyP95Ms: number | null;
  dispatchLatencyMaxMs: number | null;
}

export interface Kpis {
  at: string;
  window: { minutes: number; since: string };
  throughput: { ordersPerHour: number; ordersReceivedPerHour: number; linesPerHour: number; unitsPerHour: number };
  dispatchLatency: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  orders: { open: number; byState: Record<string, number>; late: number; atRisk: number; atRiskWithinMinutes: number };
  devices: { total: number; byState: Record<string, number>; byClass: Record<string, Record<string, number>> };
  exceptions: { open: number; byType: Record<string, number> };
  series: { bucketMs: number; buckets: KpiBucket[] };
}

type KpiStates = Pick<Kpis, 'orders' | 'devices' | 'exceptions'>;

interface Bucket {
  start: number;
  ordersReceived: number;
  ordersCompleted: number;
  linesPicked: number;
  unitsPicked: number;
  dispatches: number;
  latencies: number[];
  maxLatency: number | null;
}

const COMPLETED = new Set(['PICKED', 'PACKED', 'SHIPPED', 'DELIVERED']);
const CLOSED_HEADERS = new Set(['CLOSED']);

export class KpiService {
  private readonly bucketMs: number;
  private readonly windowMs: number;
  private readonly atRiskMs: number;
  private readonly cacheMs: number;
  private readonly samplesPerBucket: number;
  private readonly buckets: Bucket[] = [];
  private readonly startedAt: number;
  /** Orders and lines already counted, with when; forgotten once out of the window. */
  private readonly completedOrders = new Map<string, number>();
  private readonly pickedLines = new Map<string, number>();
  /** When each line's last step finished: the start of the next step's dispatch latency. */
  private readonly stepDone = new Map<string, number>();
  private cached: { at: number; value: KpiStates } | undefined;
  private readonly unsubscribe: () => void;
  private seen = 0;

  constructor(
    private readonly deps: KpiDeps,
    opts: KpiOptions = {},
  ) {
    this.bucketMs = opts.bucketMs ?? 60_000;
    this.windowMs = opts.windowMs ?? 3600_000;
    this.atRiskMs = opts.atRiskMs ?? 3600_000;
    this.cacheMs = opts.cacheMs ?? 2000;
    this.samplesPerBucket = opts.samplesPerBucket ?? 2000;
    this.startedAt = deps.clock.now();
    this.unsubscribe = deps.notifier.subscribe((e) => this.onEvent(e));
  }

  stop(): void {
    this.unsubscribe();
  }

  /** For tests and the bench: feed one event as the notifier would. */
  onEvent(e: LiveEvent): void {
    const id = typeof e.data.id === 'string' ? e.data.id : undefined;
    switch (e.type) {
      case 'order.created':
        this.bucket(e.at).ordersReceived++;
        if (id && this.isCompleted(e.data)) this.countOrder(id, e.at);
        break;
      case 'order.updated':
        if (id && this.isCompleted(e.data)) this.countOrder(id, e.at);
        if (Array.isArray(e.data.lines)) {
          for (const l of e.data.lines as { id?: unknown; state?: unknown; quantity?: unknown }[]) {
            if (typeof l.id === 'string' && COMPLETED.has(String(l.state))) this.countLine(l.id, typeof l.quantity === 'number' ? l.quantity : 0, e.at);
          }
        }
        break;
      case 'task.updated':
        if (id) this.onTask(id, e);
        break;
      default:
        break;
    }
  }

  kpis(): Kpis {
    const now = this.deps.clock.now();
    this.prune(now);
    const states = this.states(now);
    const from = now - this.windowMs;
    const inWindow = this.buckets.filter((b) => b.start + this.bucketMs > from);
    const sum = (k: 'ordersReceived' | 'ordersCompleted' | 'linesPicked' | 'unitsPicked') => inWindow.reduce((n, b) => n + b[k], 0);
    const all = inWindow.flatMap((b) => b.latencies).sort((a, b) => a - b);
    const max = inWindow.reduce<number | null>((m, b) => (b.maxLatency === null ? m : Math.max(m ?? 0, b.maxLatency)), null);
    return {
      at: new Date(now).toISOString(),
      window: { minutes: Math.round(this.windowMs / 60_000), since: new Date(Math.max(from, this.startedAt)).toISOString() },
      throughput: {
        ordersPerHour: sum('ordersCompleted'),
        ordersReceivedPerHour: sum('ordersReceived'),
        linesPerHour: sum('linesPicked'),
        unitsPerHour: sum('unitsPicked'),
      },
      dispatchLatency: { count: inWindow.reduce((n, b) => n + b.dispatches, 0), p50Ms: quantile(all, 0.5), p95Ms: quantile(all, 0.95), maxMs: max },
      ...states,
      series: { bucketMs: this.bucketMs, buckets: this.series(now) },
    };
  }

  private states(now: number): KpiStates {
    if (this.cached && now - this.cached.at < this.cacheMs && now >= this.cached.at) return this.cached.value;
    const byState = this.deps.queries.openOrdersByFulfilment();
    const promise = this.deps.queries.ordersByPromise(now, now + this.atRiskMs);
    const devicesByState: Record<string, number> = {};
    const byClass: Record<string, Record<string, number>> = {};
    const devices = this.deps.registry.list();
    for (const d of devices) {
      const s = this.deps.registry.status(d, now);
      devicesByState[s] = (devicesByState[s] ?? 0) + 1;
      const c = (byClass[d.class] ??= {});
      c[s] = (c[s] ?? 0) + 1;
    }
    const byType = this.deps.store.countOpenExceptionsByType();
    const value = {
      orders: {
        open: Object.values(byState).reduce((n, v) => n + v, 0),
        byState,
        late: promise.late,
        atRisk: promise.atRisk,
        atRiskWithinMinutes: Math.round(this.atRiskMs / 60_000),
      },
      devices: { total: devices.length, byState: devicesByState, byClass },
      exceptions: { open: Object.values(byType).reduce((n, v) => n + v, 0), byType },
    };
    this.cached = { at: now, value };
    return value;
  }

  private isCompleted(data: Record<string, unknown>): boolean {
    return COMPLETED.has(String(data.fulfilment)) || CLOSED_HEADERS.has(String(data.status));
  }

  private countOrder(id: string, at: number): void {
    if (this.completedOrders.has(id)) return;
    this.completedOrders.set(id, at);
    this.bucket(at).ordersCompleted++;
  }

  private countLine(lineId: string, quantity: number, at: number): void {
    if (this.pickedLines.has(lineId)) return;
    this.pickedLines.set(lineId, at);
    const b = this.bucket(at);
    b.linesPicked++;
    b.unitsPicked += quantity;
  }

  private onTask(id: string, e: LiveEvent): void {
    const lineId = typeof e.data.lineId === 'string' ? e.data.lineId : undefined;
    if (e.data.state === 'FINISHED' && lineId) {
      this.stepDone.set(lineId, e.at);
      if (this.pickedLines.has(lineId)) return;
      const line = this.deps.store.getLine(lineId);
      if (line && COMPLETED.has(line.state)) this.countLine(lineId, line.quantity, e.at);
    } else if (e.data.state === 'DISPATCHED') {
      const task = this.deps.store.getTask(id);
      if (!task) return;
      const ready = Math.max(task.createdAt, (lineId && this.stepDone.get(lineId)) || 0);
      this.recordLatency(e.at, Math.max(0, e.at - ready));
    }
  }

  private recordLatency(at: number, ms: number): void {
    const b = this.bucket(at);
    b.dispatches++;
    b.maxLatency = Math.max(b.maxLatency ?? 0, ms);
    // Reservoir sampling keeps the percentiles honest without keeping every dispatch.
    if (b.latencies.length < this.samplesPerBucket) {
      b.latencies.push(ms);
    } else {
      this.seen = (this.seen * 1103515245 + 12345) % 2 ** 31;
      const slot = this.seen % b.dispatches;
      if (slot < this.samplesPerBucket) b.latencies[slot] = ms;
    }
  }

  private bucket(at: number): Bucket {
    const start = Math.floor(at / this.bucketMs) * this.bucketMs;
    const last = this.buckets.at(-1);
    if (last && last.start === start) return last;
    // Events are published in clock order; one that is late by a bucket goes where it belongs.
    const existing = this.buckets.find((b) => b.start === start);
    if (existing) return existing;
    const b: Bucket = { start, ordersReceived: 0, ordersCompleted: 0, linesPicked: 0, unitsPicked: 0, dispatches: 0, latencies: [], maxLatency: null };
    this.buckets.push(b);
    this.buckets.sort((x, y) => x.start - y.start);
    if (this.buckets.length > 2 * Math.ceil(this.windowMs / this.bucketMs) + 2) this.prune(at);
    return b;
  }

  private prune(now: number): void {
    const from = now - this.windowMs - this.bucketMs;
    while (this.buckets.length > 0 && (this.buckets[0]?.start ?? 0) < from) this.buckets.shift();
    for (const map of [this.completedOrders, this.pickedLines, this.stepDone]) {
      for (const [k, at] of map) if (at < from) map.delete(k);
    }
  }

  /** Every bucket of the window, oldest first, zeros where nothing happened. */
  private series(now: number): KpiBucket[] {
    const out: KpiBucket[] = [];
    const n = Math.ceil(this.windowMs / this.bucketMs);
    const current = Math.floor(now / this.bucketMs) * this.bucketMs;
    const byStart = new Map(this.buckets.map((b) => [b.start, b]));
    for (let i = n - 1; i >= 0; i--) {
      const start = current - i * this.bucketMs;
      const b = byStart.get(start);
      const sorted = b ? [...b.latencies].sort((x, y) => x - y) : [];
      out.push({
        at: new Date(start).toISOString(),
        ordersReceived: b?.ordersReceived ?? 0,
        ordersCompleted: b?.ordersCompleted ?? 0,
        linesPicked: b?.linesPicked ?? 0,
        unitsPicked: b?.unitsPicked ?? 0,
        dispatches: b?.dispatches ?? 0,
        dispatchLatencyP50Ms: quantile(sorted, 0.5),
        dispatchLatencyP95Ms: quantile(sorted, 0.95),
        dispatchLatencyMaxMs: b?.maxLatency ?? null,
      });
    }
    return out;
  }
}

/** Nearest-rank quantile of ascending values; null when there are none. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? null;
}
