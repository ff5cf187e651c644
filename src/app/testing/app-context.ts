/**
 * Test support for the use-case tests under src/app: a clock the test moves by hand and the
 * AppContext the core would build, over a real SqliteStore. Only tests import this.
 */
import { MemorySink } from '../../adapters/telemetry/memory-sink.js';
import { RouteGraph } from '../../domain/route-graph.js';
import type { SiteLayout } from '../../domain/site-layout.js';
import { createLogger } from '../../logger.js';
import { createMetrics } from '../../metrics.js';
import type { Clock, Notifier, Store } from '../../ports.js';
import type { AppContext } from '../context.js';
import { TelemetryRecorder } from '../telemetry-recorder.js';

/** A clock the test moves; timers fire, in deadline order, when it passes them. */
export class ManualClock implements Clock {
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  constructor(public t: number) {}
  now = (): number => this.t;
  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return () => void (timer.live = false);
  }
  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }
  advanceTo(at: number): void {
    // Bounded: a timer that re-arms itself at a past time would otherwise spin here forever.
    for (let fired = 0; ; fired++) {
      if (fired > 10_000) throw new Error('timers keep firing: a deadline is re-armed in the past');
      const due = this.timers.filter((x) => x.live && x.at <= at).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = at;
  }
}

/** A notifier that drops every event (use cases publish; these tests read the store). */
export const silentNotifier: Notifier = { publish: () => undefined, subscribe: () => () => undefined };

/** The context the core builds, for one site of `layout`, with silent logs and a small telemetry ring. */
export function testAppContext(store: Store, clock: Clock, layout: SiteLayout, over: Partial<AppContext> = {}): AppContext {
  return {
    store,
    clock,
    layout,
    locations: new Map(layout.locations.map((l) => [l.id, l])),
    graph: new RouteGraph(layout),
    notifier: silentNotifier,
    logger: createLogger({ level: 'silent' }),
    metrics: createMetrics({ processMetrics: false }),
    siteId: layout.site.id,
    telemetry: new TelemetryRecorder({ sink: new MemorySink({ capacity: 10 }), site: layout.site.id, now: () => clock.now() }),
    maxLineAttempts: 3,
    ...over,
  };
}
