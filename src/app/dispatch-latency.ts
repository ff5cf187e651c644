/**
 * Dispatch latency (issue 4, item 9): the time from a line's release to the floor to the first
 * device command for it being handed to the broker. The release pass notes when each line went
 * out; the outbox publisher reports each first publish of a command, whose id is the task id
 * (the VDA orderId or the wcs jobId, see src/domain/commands.ts), so the line is found through
 * its task. The sample goes to the `pickwire_dispatch_latency_seconds` histogram and to any
 * listener (the benchmark keeps the raw samples for exact percentiles).
 *
 * Measured with `performance.now()`, not the Clock port, on purpose: this is the core's own
 * processing time. Under a virtual or scaled clock the domain time between release and publish
 * is meaningless (often zero), while the work the event loop did in between is what an operator
 * wants to see.
 *
 * Nothing here is durable: after a restart, lines released before it are simply not measured.
 * The map is bounded, so lines that never produce a command (unroutable, cancelled before
 * dispatch) cannot grow it without limit.
 */
import type { Metrics } from '../metrics.js';

/** Lines released and not yet commanded that are remembered; the oldest go first. */
const MAX_PENDING = 50_000;

export type DispatchLatencyListener = (lineId: string, ms: number) => void;

export class DispatchLatency {
  /** lineId -> performance.now() at release. Insertion order is release order. */
  private readonly releasedAt = new Map<string, number>();
  private readonly listeners: DispatchLatencyListener[] = [];

  constructor(private readonly metrics: Metrics) {}

  /** How many released lines wait for their first command to go out. */
  get pending(): number {
    return this.releasedAt.size;
  }

  lineReleased(lineId: string, at = performance.now()): void {
    if (this.releasedAt.size >= MAX_PENDING) {
      const oldest = this.releasedAt.keys().next().value;
      if (oldest !== undefined) this.releasedAt.delete(oldest);
    }
    this.releasedAt.set(lineId, at);
  }

  /**
   * A command was handed to the broker for the first time. `correlation` is the outbox row's
   * (`vda:<serial>:<orderId>:<updateId>` or `wcs:<device>:<jobId>:<updateId>`); `lineOfTask`
   * finds the task's line. Only the first command of a released line is measured.
   */
  commandPublished(correlation: string | undefined, lineOfTask: (taskId: string) => string | undefined, at = performance.now()): void {
    if (correlation === undefined || this.releasedAt.size === 0) return;
    const taskId = commandIdOf(correlation);
    if (taskId === undefined) return;
    const lineId = lineOfTask(taskId);
    if (lineId === undefined) return;
    const released = this.releasedAt.get(lineId);
    // Issued before this release: a command of the line's earlier attempt (taken back and
    // released again meanwhile). The new attempt's first command is still to come.
    if (released === undefined || at < released) return;
    this.releasedAt.delete(lineId);
    const ms = at - released;
    this.metrics.dispatchLatencySeconds.observe(ms / 1000);
    for (const l of this.listeners) l(lineId, ms);
  }

  /** Every measured sample, in ms; returns a function that stops listening. */
  onSample(listener: DispatchLatencyListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}

/** The command id inside a correlation key: the segment before the trailing update id. */
function commandIdOf(correlation: string): string | undefined {
  const end = correlation.lastIndexOf(':');
  if (end <= 0) return undefined;
  const start = correlation.lastIndexOf(':', end - 1);
  if (start < 0) return undefined;
  return correlation.slice(start + 1, end) || undefined;
}

// One tracker per core. The release planner and the outbox publisher both hold the core's Metrics,
// so keying on it ties them together without threading a new dependency through createCore.
const trackers = new WeakMap<Metrics, DispatchLatency>();

export function dispatchLatencyOf(metrics: Metrics): DispatchLatency {
  let t = trackers.get(metrics);
  if (!t) {
    t = new DispatchLatency(metrics);
    trackers.set(metrics, t);
  }
  return t;
}
