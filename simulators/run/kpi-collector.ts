/**
 * Measures one simulation run from the outside: the core's live events (orders, lines, tasks,
 * exceptions — what the dashboard stream sees), the core's device registry and the site's
 * occupancy map. Everything before the end of the warm-up is left out of the KPIs but kept in
 * the throughput series, so the report can show the ramp-up.
 */
import type { Core, LiveEvent } from '../../src/index.js';
import type { MeasuredOccupancy } from '../fast/measured-occupancy.js';
import type { ResourceUtilization, RunKpis, ThroughputSample } from '../report/types.js';

/** Fulfilment states that mean every live line is picked (as the core's own KPI service counts). */
const COMPLETED = new Set(['PICKED', 'PACKED', 'SHIPPED', 'DELIVERED']);

export interface KpiCollectorOptions {
  core: Pick<Core, 'notifier' | 'store' | 'registry' | 'layout' | 'traffic'>;
  occupancy: MeasuredOccupancy;
  now: () => number;
  startAt: number;
  warmupEndAt: number;
  /** Width of one throughput bucket, ms. */
  bucketMs: number;
  /** Whether a robot is running an action (a lift, a pick): standing still then is work, not waiting. */
  isActing?: (serialNumber: string) => boolean;
}

type UtilState = 'busy' | 'idle' | 'charging' | 'blocked';

interface Resource {
  id: string;
  kind: ResourceUtilization['kind'];
  /** Which state the resource is in now. */
  state: () => UtilState;
  ms: Record<UtilState, number>;
}

export class KpiCollector {
  private readonly createdAt = new Map<string, number>();
  private readonly completed = new Set<string>();
  private readonly linesSeen = new Set<string>();
  private readonly cycleTimes: number[] = [];
  private onTime = 0;
  private withPromise = 0;
  private orders = 0;
  private lines = 0;
  private units = 0;
  private readonly latencies: number[] = [];
  private readonly exceptionIds = new Set<string>();
  private readonly exceptions: Record<string, number> = {};
  private readonly buckets = new Map<number, { orders: number; lines: number; units: number }>();
  private readonly resources: Resource[];
  private lastSampleAt: number;
  private blockedAtWarmup: number | undefined;
  /** Sampled time robots stood at the end of their released path, waiting for traffic control. */
  private trafficWaitMs = 0;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: KpiCollectorOptions) {
    this.lastSampleAt = opts.startAt;
    this.resources = this.resourcesOf();
    this.unsubscribe = opts.core.notifier.subscribe((e) => this.onEvent(e));
  }

  get ordersCompleted(): number {
    return this.completed.size;
  }

  /** Orders completed in the last `windowMs` (for the progress line), per hour. */
  recentOrdersPerHour(now: number, windowMs: number): number {
    let n = 0;
    for (const [start, b] of this.buckets) if (start + this.opts.bucketMs > now - windowMs) n += b.orders;
    const span = Math.min(windowMs, Math.max(1, now - this.opts.startAt));
    return (n * 3600_000) / span;
  }

  /** Adds the time since the last sample to each resource's current state; call it regularly. */
  sample(now: number): void {
    if (this.blockedAtWarmup === undefined && now >= this.opts.warmupEndAt) this.blockedAtWarmup = this.opts.occupancy.totalBlockedTime();
    const from = Math.max(this.lastSampleAt, this.opts.warmupEndAt);
    const dt = now - from;
    this.lastSampleAt = now;
    if (dt <= 0) return;
    for (const r of this.resources) {
      const state = r.state();
      r.ms[state] += dt;
      if (r.kind === 'amr' && state === 'blocked' && !this.opts.occupancy.isBlocked(r.id)) this.trafficWaitMs += dt;
    }
  }

  /**
   * A robot waits for traffic control when it stands, not driving, on the last node released
   * to it while its drive has more nodes to go.
   */
  private waitsForTraffic(id: string): boolean {
    const v = this.opts.core.registry.get(id);
    if (v === undefined || v.driving || v.lastNodeId === undefined || this.opts.isActing?.(id) === true) return false;
    const drive = this.opts.core.traffic.driveOf(id);
    if (drive === undefined || drive.releasedUpTo >= drive.nodes.length - 1) return false;
    return drive.nodes[drive.releasedUpTo] === v.lastNodeId;
  }

  finish(endAt: number, meta: { seed: number; robots: number; wallSeconds: number }): RunKpis {
    this.sample(endAt);
    this.unsubscribe();
    const measuredMs = Math.max(1, endAt - this.opts.warmupEndAt);
    const perHour = (n: number): number => (n * 3600_000) / measuredMs;
    const cycles = [...this.cycleTimes].sort((a, b) => a - b);
    const lat = [...this.latencies].sort((a, b) => a - b);
    const runSeconds = (endAt - this.opts.startAt) / 1000;
    // Every bucket of the run, empty ones too (a chart needs the zeros); a completion at the very
    // end counts in the last bucket.
    const throughput: ThroughputSample[] = [];
    const count = Math.max(1, Math.ceil((endAt - this.opts.startAt) / this.opts.bucketMs));
    for (let i = 0; i < count; i++) {
      const start = this.opts.startAt + i * this.opts.bucketMs;
      const b = { orders: 0, lines: 0, units: 0 };
      for (const [at, x] of this.buckets) {
        const slot = Math.min(count - 1, Math.floor((at - this.opts.startAt) / this.opts.bucketMs));
        if (slot !== i) continue;
        b.orders += x.orders;
        b.lines += x.lines;
        b.units += x.units;
      }
      const width = Math.min(this.opts.bucketMs, endAt - start);
      const scale = width > 0 ? 3600_000 / width : 0;
      throughput.push({ t: (start - this.opts.startAt) / 1000, ordersPerHour: b.orders * scale, linesPerHour: b.lines * scale, unitsPerHour: b.units * scale });
    }
    return {
      seed: meta.seed,
      robots: meta.robots,
      measuredSeconds: measuredMs / 1000,
      warmupSeconds: (this.opts.warmupEndAt - this.opts.startAt) / 1000,
      ordersCompleted: this.orders,
      linesCompleted: this.lines,
      unitsPicked: this.units,
      ordersPerHour: perHour(this.orders),
      linesPerHour: perHour(this.lines),
      unitsPerHour: perHour(this.units),
      cycleTimeSeconds: { p50: quantile(cycles, 0.5), p95: quantile(cycles, 0.95), p99: quantile(cycles, 0.99) },
      cycleTimes: cycles,
      onTimeRate: this.withPromise === 0 ? 1 : this.onTime / this.withPromise,
      utilization: this.resources.map((r) => ({ id: r.id, kind: r.kind, busy: r.ms.busy / 1000, idle: r.ms.idle / 1000, charging: r.ms.charging / 1000, blocked: r.ms.blocked / 1000 })),
      congestionSeconds: (this.opts.occupancy.totalBlockedTime() - (this.blockedAtWarmup ?? 0) + this.trafficWaitMs) / 1000,
      dispatchLatencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99) },
      exceptionsByType: { ...this.exceptions },
      throughput,
      wallSeconds: meta.wallSeconds,
      speedup: meta.wallSeconds > 0 ? runSeconds / meta.wallSeconds : 0,
    };
  }

  private measuring(at: number): boolean {
    return at >= this.opts.warmupEndAt;
  }

  private onEvent(e: LiveEvent): void {
    const id = typeof e.data.id === 'string' ? e.data.id : undefined;
    if (id === undefined) return;
    switch (e.type) {
      case 'order.created':
        this.createdAt.set(id, e.at);
        break;
      case 'order.updated':
        this.onOrder(id, e);
        break;
      case 'task.updated':
        if (e.data.state === 'DISPATCHED' && this.measuring(e.at)) {
          const task = this.opts.core.store.getTask(id);
          if (task !== undefined) this.latencies.push(e.at - task.createdAt);
        }
        break;
      case 'exception.updated': {
        if (this.exceptionIds.has(id) || !this.measuring(e.at)) break;
        this.exceptionIds.add(id);
        const type = String(e.data.type);
        this.exceptions[type] = (this.exceptions[type] ?? 0) + 1;
        break;
      }
      default:
        break;
    }
  }

  private onOrder(id: string, e: LiveEvent): void {
    const bucket = this.bucket(e.at);
    if (Array.isArray(e.data.lines)) {
      for (const l of e.data.lines as { id?: unknown; state?: unknown; quantity?: unknown }[]) {
        if (typeof l.id !== 'string' || !COMPLETED.has(String(l.state)) || this.linesSeen.has(l.id)) continue;
        this.linesSeen.add(l.id);
        const qty = typeof l.quantity === 'number' ? l.quantity : 0;
        bucket.lines++;
        bucket.units += qty;
        if (this.measuring(e.at)) {
          this.lines++;
          this.units += qty;
        }
      }
    }
    if (this.completed.has(id) || !(COMPLETED.has(String(e.data.fulfilment)) || e.data.status === 'CLOSED')) return;
    this.completed.add(id);
    bucket.orders++;
    if (!this.measuring(e.at)) return;
    this.orders++;
    const created = this.createdAt.get(id) ?? this.opts.core.store.getOrder(id)?.createdAt;
    if (created !== undefined) this.cycleTimes.push((e.at - created) / 1000);
    this.createdAt.delete(id);
    const promised = this.opts.core.store.getOrder(id)?.promisedBy;
    if (promised !== undefined) {
      this.withPromise++;
      if (e.at <= promised) this.onTime++;
    }
  }

  private bucket(at: number): { orders: number; lines: number; units: number } {
    const start = this.opts.startAt + Math.floor((at - this.opts.startAt) / this.opts.bucketMs) * this.opts.bucketMs;
    let b = this.buckets.get(start);
    if (b === undefined) {
      b = { orders: 0, lines: 0, units: 0 };
      this.buckets.set(start, b);
    }
    return b;
  }

  private resourcesOf(): Resource[] {
    const { registry, layout } = this.opts.core;
    const occupancy = this.opts.occupancy;
    const now = this.opts.now;
    const zero = (): Record<UtilState, number> => ({ busy: 0, idle: 0, charging: 0, blocked: 0 });
    const deviceBusy = (id: string): UtilState => {
      const v = registry.get(id);
      return v !== undefined && registry.status(v, now()) === 'busy' ? 'busy' : 'idle';
    };
    const out: Resource[] = [];
    for (const a of layout.devices.amrs) {
      out.push({
        id: a.serialNumber,
        kind: 'amr',
        ms: zero(),
        state: () => {
          if (occupancy.isBlocked(a.serialNumber) || this.waitsForTraffic(a.serialNumber)) return 'blocked';
          const v = registry.get(a.serialNumber);
          if (v?.charging === true) return 'charging';
          return deviceBusy(a.serialNumber);
        },
      });
    }
    for (const s of layout.stations) {
      // A pack station works while a robot stands at it; an arm station while its arm does.
      const nodeId = s.nodeId;
      const armId = s.armId;
      if (nodeId !== undefined) out.push({ id: s.id, kind: 'station', ms: zero(), state: () => (occupancy.occupantOf(nodeId) !== undefined ? 'busy' : 'idle') });
      else if (armId !== undefined) out.push({ id: s.id, kind: 'station', ms: zero(), state: () => deviceBusy(armId) });
    }
    for (const a of layout.devices.asrs) {
      out.push({ id: a.id, kind: 'asrs', ms: zero(), state: () => deviceBusy(a.id) });
      for (const p of a.ports) out.push({ id: p.id, kind: 'port', ms: zero(), state: () => deviceBusy(p.conveyorId) });
    }
    for (const c of layout.devices.conveyors) out.push({ id: c.id, kind: 'conveyor', ms: zero(), state: () => deviceBusy(c.id) });
    return out;
  }
}

/** Nearest-rank quantile of sorted values; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}
