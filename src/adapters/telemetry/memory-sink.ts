/**
 * The telemetry sink when no InfluxDB is configured (DESIGN §6): a fixed-capacity ring of the
 * most recent points that the dashboard and KPIs can query. Writing is O(1) and never allocates
 * beyond the ring; the oldest point is overwritten (and counted) once the ring is full.
 */
import type { TelemetryPoint, TelemetrySink } from '../../ports.js';

export interface MemorySinkOptions {
  /** Points kept. Default 10_000. */
  capacity?: number;
}

export interface TelemetryQuery {
  measurement: string;
  /** Inclusive lower bound on `at`. */
  since?: number;
  /** Exclusive upper bound on `at`. */
  until?: number;
  /** Every tag given must match exactly. */
  tags?: Record<string, string>;
  /** At most this many points: the most recent ones. */
  limit?: number;
}

export class MemorySink implements TelemetrySink {
  readonly capacity: number;
  private readonly ring: (TelemetryPoint | undefined)[];
  /** Index the next point goes to. */
  private next = 0;
  private count = 0;
  private counts = { written: 0, overwritten: 0 };

  constructor(opts: MemorySinkOptions = {}) {
    this.capacity = opts.capacity ?? 10_000;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) throw new RangeError('MemorySink: capacity must be a positive integer');
    this.ring = new Array<TelemetryPoint | undefined>(this.capacity);
  }

  get size(): number {
    return this.count;
  }

  /** `dropped` is the points overwritten by newer ones, so `TelemetrySink` users can compare sinks. */
  get stats(): { written: number; dropped: number; buffered: number } {
    return { written: this.counts.written, dropped: this.counts.overwritten, buffered: this.count };
  }

  /** Keeps a reference: callers hand over fresh point objects (the recorder does). */
  write(point: TelemetryPoint): void {
    if (this.count === this.capacity) this.counts.overwritten++;
    else this.count++;
    this.ring[this.next] = point;
    this.next = (this.next + 1) % this.capacity;
    this.counts.written++;
  }

  /** Matching points, oldest first (in write order). */
  query(q: TelemetryQuery): TelemetryPoint[] {
    const out: TelemetryPoint[] = [];
    const tagFilter = q.tags ? Object.entries(q.tags) : [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const p = this.ring[(start + i) % this.capacity];
      if (!p || p.measurement !== q.measurement) continue;
      if (q.since !== undefined && p.at < q.since) continue;
      if (q.until !== undefined && p.at >= q.until) continue;
      if (!tagFilter.every(([k, v]) => p.tags[k] === v)) continue;
      out.push(p);
    }
    return q.limit !== undefined && out.length > q.limit ? out.slice(out.length - q.limit) : out;
  }

  /** The most recent matching point per value of `tag` (e.g. the latest sample of each device). */
  latestBy(tag: string, q: TelemetryQuery): Map<string, TelemetryPoint> {
    const latest = new Map<string, TelemetryPoint>();
    for (const p of this.query({ ...q, limit: undefined })) {
      const key = p.tags[tag];
      if (key !== undefined) latest.set(key, p);
    }
    return latest;
  }

  /** Sum of one field over matching points (e.g. orders accepted in the last hour). */
  sum(field: string, q: TelemetryQuery): number {
    let total = 0;
    for (const p of this.query({ ...q, limit: undefined })) total += p.fields[field] ?? 0;
    return total;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
