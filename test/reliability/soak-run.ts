/**
 * Soak (issue 7, item 5): the demo site runs with its order feed for a while, and the process's
 * heap and active handles are sampled after a warm-up. A leak shows as sustained growth from the
 * first third of the samples to the last; the bounds are generous, so only a real leak fails.
 *
 * `npm run soak` runs it at full length (30 min by default; `--minutes N` or PICKWIRE_SOAK_MINUTES)
 * with `--expose-gc`, so every heap sample follows a full collection. test/reliability/soak.test.ts
 * runs a shortened version in CI. Prints one JSON line of figures at the end.
 */
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startOrderFeed, type OrderFeedStats } from '../../simulators/index.js';
import { CHANNEL_TOKEN, startHarness } from '../support/harness.js';
import { checkInvariants } from '../support/invariants.js';

export interface SoakOptions {
  durationMs: number;
  warmupMs: number;
  sampleEveryMs: number;
  ordersPerMinute: number;
  /** Simulated devices' speed-up over real time. */
  speed: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  atMs: number;
  heapUsedMb: number;
  rssMb: number;
  handles: number;
  byType: Record<string, number>;
  /** Lines in the system not picked yet (created, sourced, released, picking): the work the heap carries. */
  backlog: number;
}

export interface SoakResult {
  durationMs: number;
  gcForced: boolean;
  feed: OrderFeedStats;
  ordersInStore: number;
  linesPicked: number;
  linesOpen: number;
  ordersLost: number;
  duplicateOrders: number;
  invariantProblems: string[];
  samples: SoakSample[];
  heap: { firstMb: number; lastMb: number; growthMb: number; boundMb: number };
  handles: { first: number; last: number; growth: number; bound: number };
  /** Open lines, median of the first and last third of the samples: steady when the feed matches the floor. */
  backlog: { first: number; last: number; growth: number };
  /** Lines the floor picked per minute over the whole run. */
  linesPickedPerMinute: number;
  leaks: string[];
}

const MB = 1024 * 1024;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * A full collection before each sample makes heap figures comparable. `--expose-gc` (npm run
 * soak) provides it; under vitest the flag is switched on at run time and the function fetched
 * from a fresh context, which V8 supports for exactly this kind of diagnostics.
 */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const gc = findGc();

/** Line states of work still in the system (not yet picked, not parked as backordered or unroutable). */
const IN_WORK = ['CREATED', 'SOURCED', 'RELEASED', 'PICKING'];
const PICKED_OR_LATER = ['PICKED', 'PACKED', 'SHIPPED', 'DELIVERED'];

function sample(atMs: number, lineStates: Record<string, number>): SoakSample {
  gc?.();
  const mem = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  const byType: Record<string, number> = {};
  for (const r of resources) byType[r] = (byType[r] ?? 0) + 1;
  const backlog = IN_WORK.reduce((n, state) => n + (lineStates[state] ?? 0), 0);
  return { atMs, heapUsedMb: mem.heapUsed / MB, rssMb: mem.rss / MB, handles: resources.length, byType, backlog };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.log ?? (() => undefined);
  const h = await startHarness({ speed: opts.speed });
  const layout = h.core.layout;
  const spec = layout.orderFeed ?? { maxLinesPerOrder: 3, maxUnitsPerLine: 3, seed: 1 };
  const feed = startOrderFeed({
    baseUrl: h.baseUrl,
    token: CHANNEL_TOKEN,
    layout,
    ordersPerMinute: opts.ordersPerMinute,
    maxLinesPerOrder: spec.maxLinesPerOrder,
    maxUnitsPerLine: spec.maxUnitsPerLine,
    seed: spec.seed,
  });
  const started = Date.now();
  const samples: SoakSample[] = [];
  try {
    await sleep(opts.warmupMs);
    while (Date.now() - started < opts.durationMs) {
      const s = sample(Date.now() - started, h.core.store.countLinesByState());
      samples.push(s);
      log(`[soak] t=${Math.round(s.atMs / 1000)}s heap=${s.heapUsedMb.toFixed(1)}MB rss=${s.rssMb.toFixed(0)}MB handles=${s.handles} orders accepted=${feed.stats.accepted} backlog=${s.backlog} lines`);
      await sleep(opts.sampleEveryMs);
    }
  } finally {
    await feed.stop();
  }

  // Every order the feed got a 2xx for is in the store, once.
  await sleep(1000);
  const report = await checkInvariants((p) => h.api(p));
  const feedOrders = report.orders.filter((o) => o.externalId?.startsWith('SIM-'));
  const externalIds = new Set(feedOrders.map((o) => o.externalId));
  const lines = report.orders.flatMap((o) => o.lines);
  await h.stop();

  const third = Math.max(1, Math.floor(samples.length / 3));
  const first = samples.slice(0, third);
  const last = samples.slice(-third);
  const heapFirst = median(first.map((s) => s.heapUsedMb));
  const heapLast = median(last.map((s) => s.heapUsedMb));
  const handlesFirst = median(first.map((s) => s.handles));
  const handlesLast = median(last.map((s) => s.handles));
  const backlogFirst = median(first.map((s) => s.backlog));
  const backlogLast = median(last.map((s) => s.backlog));
  // Generous: a working set that settles stays far inside; a leak of one object per message does not.
  const heapBound = Math.max(48, heapFirst * 0.5);
  const handleBound = Math.max(25, handlesFirst * 0.5);
  const leaks: string[] = [];
  if (samples.length < 6) leaks.push(`only ${samples.length} samples: run longer`);
  if (heapLast - heapFirst > heapBound) leaks.push(`heap grew ${(heapLast - heapFirst).toFixed(1)} MB (bound ${heapBound.toFixed(0)} MB)`);
  if (handlesLast - handlesFirst > handleBound) leaks.push(`active handles grew by ${handlesLast - handlesFirst} (bound ${handleBound})`);

  return {
    durationMs: Date.now() - started,
    gcForced: gc !== undefined,
    feed: { ...feed.stats },
    ordersInStore: feedOrders.length,
    linesPicked: lines.filter((l) => PICKED_OR_LATER.includes(l.state)).length,
    linesOpen: lines.filter((l) => !PICKED_OR_LATER.includes(l.state) && l.state !== 'CANCELED').length,
    ordersLost: Math.max(0, feed.stats.accepted - feedOrders.length),
    duplicateOrders: feedOrders.length - externalIds.size,
    invariantProblems: report.problems,
    samples,
    heap: { firstMb: round(heapFirst), lastMb: round(heapLast), growthMb: round(heapLast - heapFirst), boundMb: round(heapBound) },
    handles: { first: handlesFirst, last: handlesLast, growth: handlesLast - handlesFirst, bound: handleBound },
    backlog: { first: backlogFirst, last: backlogLast, growth: backlogLast - backlogFirst },
    linesPickedPerMinute: round(lines.filter((l) => PICKED_OR_LATER.includes(l.state)).length / ((Date.now() - started) / 60_000)),
    leaks,
  };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The figures without the per-sample detail, for logs and RELIABILITY.md. */
export function summary(r: SoakResult): Record<string, unknown> {
  const { samples, ...rest } = r;
  const lastTypes = samples.at(-1)?.byType ?? {};
  return { ...rest, samples: samples.length, handleTypesAtEnd: lastTypes };
}

/**
 * What the demo floor finishes at 5x: the full 30-minute run at 30 orders/min picked 284 lines
 * (9.5 a minute, about 2 lines an order; every AMR trip ends at the one drop node of the pack
 * station), so it offered six times that and the backlog grew to 1365 open lines. A feed at the
 * floor's pace keeps the backlog steady, so heap growth is not confused with work piling up.
 */
const FLOOR_ORDERS_PER_MINUTE = 5;

async function main(): Promise<void> {
  const flag = process.argv.indexOf('--minutes');
  const minutes = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.PICKWIRE_SOAK_MINUTES ?? 30));
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  const durationMs = minutes * 60_000;
  const result = await runSoak({
    durationMs,
    warmupMs: Math.min(120_000, durationMs / 5),
    sampleEveryMs: Math.max(2000, Math.min(15_000, durationMs / 120)),
    ordersPerMinute: Number(process.env.PICKWIRE_SOAK_ORDERS_PER_MINUTE ?? FLOOR_ORDERS_PER_MINUTE),
    speed: Number(process.env.PICKWIRE_SOAK_SPEED ?? 5),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ soak: summary(result) })}\n`);
  const failed = result.leaks.length > 0 || result.ordersLost > 0 || result.duplicateOrders > 0 || result.invariantProblems.length > 0;
  if (failed) process.stderr.write(`soak failed: ${[...result.leaks, ...result.invariantProblems].join('; ') || 'orders lost or duplicated'}\n`);
  process.exit(failed ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
