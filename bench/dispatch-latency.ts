/**
 * Issue 4's execution benchmark against a real core with 500 connected VDA vehicles
 * (bench/vda-fleet.ts, its own process):
 *
 * - Dispatch latency: one-line orders posted over HTTP at a steady 200/s (bench/load-client.ts,
 *   its own process); each line's time from release to the floor to its first command published
 *   to MQTT, taken from the core's own DispatchLatency samples (src/app/dispatch-latency.ts).
 *   The vehicles chatter their state at 1 Hz meanwhile. Target p99 <= 10 ms.
 *   The vehicles accept orders but never drive, so the run is as long as the fleet has free
 *   vehicles for: every measured line finds one, and no line waits for the floor.
 * - Ingest: every vehicle publishes states back to back; the rate the core decodes and applies
 *   them against the rate a bare subscriber (bench/raw-counter.ts, its own process) receives
 *   them from the same broker in the same run. Target ratio >= 0.5.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { dispatchLatencyOf } from '../src/app/dispatch-latency.js';
import { createCore, createLogger, loadConfig, type Core } from '../src/index.js';
import { fleetLayout } from './fleet-layout.js';
import type { BenchResult } from './result.js';

const TOKEN = 'bench-admin-token-0123456789';

export interface DispatchBenchOptions {
  vehicles?: number;
  linesPerSecond?: number;
  /** Lines measured; must stay below the fleet size (vehicles never free up). */
  lines?: number;
  warmupLines?: number;
  floodMs?: number;
}

/** A child process speaking JSON lines on stdout and plain commands on stdin. */
class Child {
  private readonly lines: string[] = [];
  private waiter: (() => void) | undefined;
  private exited = false;

  constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
    proc.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    proc.on('exit', () => {
      this.exited = true;
      this.waiter?.();
    });
  }

  static start(script: string, args: string[]): Child {
    const path = fileURLToPath(new URL(script, import.meta.url));
    return new Child(spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  send(cmd: string): void {
    this.proc.stdin.write(`${cmd}\n`);
  }

  async next<T>(timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.exited) throw new Error('bench child exited early');
      if (Date.now() > deadline) throw new Error('bench child did not answer in time');
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 200);
      });
      this.waiter = undefined;
    }
    return JSON.parse(this.lines.shift()!) as T;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.send('stop');
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await new Promise((r) => (this.exited ? r(undefined) : this.proc.on('exit', r)));
    clearTimeout(killer);
  }
}

async function runLoadClient(baseUrl: string, options: Record<string, unknown>): Promise<{ ordersPerSecond: number; failures: number }> {
  const child = Child.start('./load-client.ts', [baseUrl, TOKEN, JSON.stringify(options)]);
  return child.next(120_000);
}

const progress = (msg: string): void => void process.stderr.write(`[dispatch bench] ${msg}\n`);

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function waitUntil(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

async function stateMessagesDecoded(core: Core): Promise<number> {
  return (await core.metrics.mqttMessagesReceived.get()).values.filter((v) => v.labels.topic === 'state' && v.labels.family === 'vda5050').reduce((s, v) => s + v.value, 0);
}

/** Lines by state, AMR tasks waiting, commands not yet handed to the broker or not yet echoed. */
function whereLinesWait(core: Core): string {
  const byState = Object.entries(core.store.countLinesByState()).map(([state, n]) => `${n} ${state}`).join(', ');
  const waiting = core.store.tasksInStates(['CREATED'], { devices: 'amr', limit: 100_000 }).length;
  const holds = core.store.listHolds({ status: 'open', limit: 100_000 }).length;
  return `lines: ${byState}; ${holds} open holds; ${waiting} trips waiting; outbox: ${core.store.unsent(100_000).length} unsent, ${core.store.outboxPending()} unconfirmed`;
}

/** `kind` of a PerformanceEntry of type gc: 1 minor (scavenge), 2 major, 4 incremental, 8 weak callbacks. */
function gcNote(pauses: readonly { kind: number; ms: number }[]): string {
  const minor = pauses.filter((p) => p.kind === 1).map((p) => p.ms).sort((a, b) => a - b);
  const other = pauses.filter((p) => p.kind !== 1).map((p) => p.ms).sort((a, b) => a - b);
  const ms = (sorted: number[]): string => (sorted.length === 0 ? '' : ` (median ${pct(sorted, 50).toFixed(1)} ms, max ${(sorted.at(-1) as number).toFixed(1)} ms)`);
  return `GC on the core's thread meanwhile: ${minor.length} scavenges${ms(minor)}, ${other.length} other pauses${ms(other)}`;
}

export async function benchDispatch(opts: DispatchBenchOptions = {}): Promise<BenchResult[]> {
  const vehicles = opts.vehicles ?? 500;
  const rate = opts.linesPerSecond ?? 200;
  const warmupLines = opts.warmupLines ?? 40;
  const lines = opts.lines ?? Math.min(440, vehicles - warmupLines - 10);
  const floodMs = opts.floodMs ?? 5000;
  const layout = fleetLayout(vehicles);
  const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-bench-dispatch-'));
  const config = loadConfig({
    argv: ['--http-port', '0', '--mqtt-port', '0', '--http-host', '127.0.0.1', '--mqtt-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'error', '--release-window', '100000'],
    env: { PICKWIRE_TOKENS: `bench:admin:${TOKEN}` },
  });
  const core = await createCore(config, { logger: createLogger({ level: 'error' }), layout });
  const children: Child[] = [];
  try {
    const baseUrl = await core.listen();
    const fleet = Child.start('./vda-fleet.ts', [core.mqttUrl, config.mqttInterface, String(vehicles)]);
    children.push(fleet);
    const raw = Child.start('./raw-counter.ts', [core.mqttUrl, config.mqttInterface]);
    children.push(raw);
    await fleet.next<{ ready: number }>(180_000);
    await raw.next<{ ready: boolean }>();
    if (!(await waitUntil(() => core.registry.freeVehicles(Date.now()).length === vehicles, 60_000))) {
      throw new Error(`only ${core.registry.freeVehicles(Date.now()).length} of ${vehicles} vehicles became free`);
    }

    // -- ingest: the core's decode-and-apply rate against a bare subscriber's, same broker, same run
    raw.send('start');
    const before = await stateMessagesDecoded(core);
    let coreFirst = 0;
    let coreLast = 0;
    let seen = before;
    const poll = setInterval(() => {
      void stateMessagesDecoded(core).then((n) => {
        if (n === seen) return;
        const t = performance.now();
        if (coreFirst === 0) coreFirst = t;
        coreLast = t;
        seen = n;
      });
    }, 10);
    progress(`fleet of ${vehicles} ready; flooding for ${floodMs} ms`);
    fleet.send(`flood ${floodMs}`);
    const flood = await fleet.next<{ flooded: number; ms: number }>(floodMs + 60_000);
    // Let the core drain what the broker still holds for it.
    let settled = 0;
    await waitUntil(() => {
      if (seen - before >= flood.flooded) return true;
      settled = performance.now() - coreLast > 1000 && coreLast > 0 ? settled + 1 : 0;
      return settled > 2;
    }, 60_000);
    clearInterval(poll);
    raw.send('report');
    const rawReport = await raw.next<{ count: number; firstMs: number; lastMs: number }>();
    const decoded = seen - before;
    const coreRate = decoded / Math.max(1e-3, (coreLast - coreFirst) / 1000);
    const rawRate = rawReport.count / Math.max(1e-3, (rawReport.lastMs - rawReport.firstMs) / 1000);

    // -- dispatch latency at a steady release rate, vehicles chattering at 1 Hz
    progress(`ingest: core ${Math.round(coreRate)} msg/s, raw ${Math.round(rawRate)} msg/s; dispatching`);
    fleet.send('chatter 1');
    const samples: number[] = [];
    const tracker = dispatchLatencyOf(core.metrics);
    const skus = layout.stock.map((s) => s.sku);
    const warm = await runLoadClient(baseUrl, { orders: warmupLines, linesPerOrder: 1, skus, ratePerSecond: 50, keyPrefix: 'dispatch-warm' });
    await waitUntil(() => core.registry.freeVehicles(Date.now()).length <= vehicles - warmupLines, 20_000);
    progress(`warm-up done (${warm.ordersPerSecond.toFixed(0)} orders/s); steady run`);
    // Garbage-collection pauses of the core's thread during the measured run: the usual cause
    // of the slowest samples (a pass that a pause lands in is that much longer).
    const pauses: { kind: number; ms: number }[] = [];
    const gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) pauses.push({ kind: e.detail?.kind ?? 0, ms: e.duration });
    });
    gc.observe({ entryTypes: ['gc'] });
    const stop = tracker.onSample((_line, ms) => samples.push(ms));
    const steady = await runLoadClient(baseUrl, { orders: lines, linesPerOrder: 1, skus, ratePerSecond: rate, keyPrefix: 'dispatch-steady' });
    await waitUntil(() => samples.length >= lines, 20_000);
    stop();
    gc.disconnect();
    fleet.send('chatter 0');
    samples.sort((a, b) => a - b);
    const missing = lines - samples.length;
    // Where the unmeasured lines are stuck, so a short count explains itself.
    const where = missing > 0 ? whereLinesWait(core) : '';
    const note = [
      `${samples.length}/${lines} lines measured; orders taken at ${steady.ordersPerSecond.toFixed(0)} lines/s of ${rate} offered (1-line orders over HTTP, open loop)`,
      `${vehicles} vehicles connected, reporting state at 1 Hz; ${steady.failures + warm.failures} failed orders; max ${samples.at(-1)?.toFixed(2) ?? '-'} ms`,
      gcNote(pauses),
      ...(missing > 0 ? [`${missing} lines had no command 20 s after the last order and are not in the percentiles, which therefore understate (${where})`] : []),
    ].join('; ');
    return [
      { name: `dispatch latency (line released -> first command published), ${vehicles} vehicles, ${rate} lines/s: p50`, value: pct(samples, 50), unit: 'ms', note },
      { name: `dispatch latency (line released -> first command published), ${vehicles} vehicles, ${rate} lines/s: p99`, value: pct(samples, 99), unit: 'ms', note: 'target <= 10 ms' },
      {
        name: `VDA state ingest (decoded and applied) / raw broker rate, ${vehicles} vehicles flooding`,
        value: coreRate / rawRate,
        unit: 'ratio',
        note: `target >= 0.5; core ${Math.round(coreRate).toLocaleString('en-US')} msg/s (${decoded}/${flood.flooded}), bare subscriber ${Math.round(rawRate).toLocaleString('en-US')} msg/s (${rawReport.count}) in the same run`,
      },
    ];
  } finally {
    for (const c of children) await c.stop();
    await core.stop('bench done');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
