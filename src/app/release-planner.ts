/**
 * Release to the floor (DESIGN §3: SOURCED -> RELEASED, tasks planned) as its own step after
 * intake, the way a warehouse execution system releases work: only as many lines as the floor is
 * working on at once (the release window), most urgent first. Planning tasks for ten thousand
 * lines the floor will not reach for hours would fix their equipment choices too early and put
 * the planning cost on the order's acknowledgement; a bounded window does neither.
 *
 * Lines sourced to other sites of the network are handed over to those sites as soon as they are
 * free of holds: the window is this floor's, not theirs.
 */
import type { AppContext } from './context.js';
import type { LineService } from './line-service.js';
import { runInTransaction } from './unit-of-work.js';
import { dispatchLatencyOf, type DispatchLatency } from './dispatch-latency.js';

export interface ReleaseOptions {
  /** Lines this site's floor may have RELEASED or PICKING at once. */
  window: number;
}

/** Hand-overs to other sites per pass: bounded so one pass never holds the event loop long. */
const HANDOVER_BATCH = 500;
/**
 * Lines read past the limit: to finish the last order begun (an order's lines share trips; a
 * longer order's rest goes first in the next run), and to see whether a queue is building.
 */
const ORDER_LINES_BEYOND_LIMIT = 16;

/**
 * The first `limit` lines, and the rest of the last order among them: lines of one order are
 * released together so that they can share a trip (the dispatcher batches only lines waiting
 * at once). `lines` come in release order, an order's lines next to each other.
 */
function wholeOrders<L extends { orderId: string }>(lines: readonly L[], limit: number): L[] {
  if (lines.length <= limit) return [...lines];
  const last = (lines[limit - 1] as L).orderId;
  let end = limit;
  while (end < lines.length && (lines[end] as L).orderId === last) end++;
  return lines.slice(0, end);
}

export class ReleasePlanner {
  /** Other sites of the network; without any, there is nothing to hand over and no query for it. */
  private readonly otherSites: readonly string[];
  private readonly latency: DispatchLatency;

  constructor(
    private readonly ctx: AppContext,
    private readonly lines: LineService,
    private readonly opts: ReleaseOptions,
  ) {
    this.otherSites = (ctx.layout.network?.sites ?? []).map((s) => s.id).filter((id) => id !== ctx.siteId);
    this.latency = dispatchLatencyOf(ctx.metrics);
  }

  /**
   * Lines of this site left waiting by the last run, as far as it read (up to
   * ORDER_LINES_BEYOND_LIMIT past its limit): how deep the queue is, for the dispatcher's choice
   * of how many to release per pass.
   */
  waiting = 0;

  /**
   * Releases what fits in the window, at most `limit` lines of this site (more only to finish
   * the last order begun, within the window), and hands over other sites' lines; returns how
   * many moved. The dispatcher passes a small limit: a line's dispatch
   * latency runs from its release to its first command, so a pass that releases a few lines and
   * commands them at once beats one that releases a backlog and commands it all at its end.
   * The ids of this site's lines released are added to `releasedHere` when given.
   */
  runOnce(limit = Number.POSITIVE_INFINITY, releasedHere?: Set<string>): number {
    const { store, siteId } = this.ctx;
    const window = this.opts.window - store.countActiveLines(siteId);
    const read = window > 0 && limit > 0 ? store.releasableLines({ site: siteId, limit: Math.min(window, limit + ORDER_LINES_BEYOND_LIMIT) }) : [];
    const here = wholeOrders(read, limit);
    this.waiting = read.length - here.length;
    const elsewhere = this.otherSites.flatMap((site) => store.releasableLines({ site, limit: HANDOVER_BATCH }));
    if (here.length === 0 && elsewhere.length === 0) return 0;
    let released = 0;
    const startedAt = performance.now();
    runInTransaction(store, (after) =>
      this.lines.batch(after, () => {
        for (const line of [...here, ...elsewhere]) {
          const next = this.lines.release(line, after);
          if (next.state === line.state) continue;
          released++;
          // Dispatch latency starts here; lines handed to other sites get no device command from us.
          if (next.state === 'RELEASED' && next.site === siteId) {
            releasedHere?.add(line.id);
            after(() => this.latency.lineReleased(line.id, startedAt));
          }
        }
      }),
    );
    return released;
  }
}
