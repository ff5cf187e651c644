/**
 * The dashboard under load (issue 6): frames per second of the floor map in headless chromium
 * with 500 AMRs moving at 10 Hz, and WebSocket bytes per second per client at that load.
 *
 * The feed is synthetic, the rest is the real thing: the core's own HTTP app (`buildApp`) with its
 * live stream (coalescing, 10 Hz flushes, snapshots) and the built dashboard, fed by a notifier
 * publishing a full device resource for each of 500 AMRs every 100 ms on a generated 60 x 40 node
 * grid; the read routes the page calls answer from the same generator. A core with 500 simulated
 * AMRs would measure the simulators and MQTT ingest on this 2-core machine, not the dashboard.
 *
 *   tsx bench/dashboard-fps.ts   runs only this and updates its rows in BENCHMARKS.md
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import type { Browser } from 'playwright-core';
import { buildApp } from '../src/api/app.js';
import { createLocalNotifier } from '../src/api/stream.js';
import { createLogger, loadConfig } from '../src/index.js';
import { createMetrics } from '../src/metrics.js';
import { parseTokens } from '../src/tokens.js';
import { chromiumMissing, ensureDashboardBuilt, launchChromium } from '../test/dashboard/browser.js';
import type { BenchResult } from './result.js';

const TOKEN = 'bench-viewer-token-0123456789';
const ROBOTS = 500;
const RATE_HZ = 10;
const COLS = 60;
const ROWS = 40;
const SPACING = 2;
const WARMUP_MS = 3000;
const MEASURE_MS = 10_000;
/** The laptop the issue names, then full-HD and QHD wall screens. */
const VIEWPORTS = [
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
  { width: 2560, height: 1440 },
] as const;

interface Robot {
  id: string;
  x: number;
  y: number;
  theta: number;
  /** Direction along its row or column: robots shuttle across the grid. */
  dir: 1 | -1;
  horizontal: boolean;
  speed: number;
  battery: number;
}

function generatedLayout(): Record<string, unknown> {
  const nodes: { id: string; x: number; y: number; zone?: string }[] = [];
  const edges: { id: string; from: string; to: string }[] = [];
  const id = (c: number, r: number): string => `n-${c}-${r}`;
  for (let c = 0; c < COLS; c++) {
    for (let r = 0; r < ROWS; r++) {
      nodes.push({ id: id(c, r), x: c * SPACING, y: r * SPACING, ...(r % 4 === 1 ? { zone: 'amr' } : {}) });
      if (c > 0) edges.push({ id: `${id(c - 1, r)}_${id(c, r)}`, from: id(c - 1, r), to: id(c, r) });
      if (r > 0) edges.push({ id: `${id(c, r - 1)}_${id(c, r)}`, from: id(c, r - 1), to: id(c, r) });
    }
  }
  return {
    name: 'bench-500',
    description: 'generated',
    site: { id: 'bench', name: 'Bench site, 500 AMRs', lat: 0, lon: 0, mapId: 'bench' },
    graph: { nodes, edges },
    locations: [],
    skus: [],
    stock: [],
    stations: [{ id: 'pack-1', kind: 'pack', nodeId: id(COLS - 1, ROWS - 1) }],
    chargers: Array.from({ length: 10 }, (_, i) => ({ id: `charger-${i + 1}`, nodeId: id(i, 0) })),
    devices: { amrs: [], asrs: [], conveyors: [], arms: [] },
  };
}

function robots(): Robot[] {
  return Array.from({ length: ROBOTS }, (_, i) => {
    const horizontal = i % 2 === 0;
    return {
      id: `amr-${String(i + 1).padStart(3, '0')}`,
      x: horizontal ? (i * 7) % (COLS * SPACING) : (i % COLS) * SPACING,
      y: horizontal ? (i % ROWS) * SPACING : (i * 3) % (ROWS * SPACING),
      theta: 0,
      dir: i % 3 === 0 ? -1 : 1,
      horizontal,
      speed: 1 + (i % 5) * 0.1,
      battery: 20 + ((i * 13) % 80),
    };
  });
}

/** The device resource the core publishes (src/api/routes/floor.ts deviceResource), so frames are the real size. */
function resource(r: Robot, now: number): Record<string, unknown> {
  return {
    id: r.id,
    class: 'amr',
    state: 'busy',
    connection: 'ONLINE',
    manufacturer: 'pickwire-sim',
    serialNumber: r.id,
    battery: Math.round(r.battery * 10) / 10,
    charging: false,
    position: { x: Math.round(r.x * 1000) / 1000, y: Math.round(r.y * 1000) / 1000, theta: Math.round(r.theta * 1000) / 1000, mapId: 'bench' },
    lastNodeId: `n-${Math.round(r.x / SPACING)}-${Math.round(r.y / SPACING)}`,
    driving: true,
    task: `T-${r.id}`,
    errors: [],
    supportedActions: ['pick', 'drop', 'startCharging', 'stopCharging', 'startPause', 'stopPause', 'cancelOrder', 'stateRequest'],
    lastSeenAt: new Date(now).toISOString(),
  };
}

function step(r: Robot, dt: number): void {
  const max = (r.horizontal ? COLS - 1 : ROWS - 1) * SPACING;
  const d = r.speed * dt * r.dir;
  if (r.horizontal) r.x += d;
  else r.y += d;
  const pos = r.horizontal ? r.x : r.y;
  if (pos < 0 || pos > max) {
    r.dir = r.dir === 1 ? -1 : 1;
    if (r.horizontal) r.x = Math.max(0, Math.min(max, r.x));
    else r.y = Math.max(0, Math.min(max, r.y));
  }
  r.theta = r.horizontal ? (r.dir === 1 ? 0 : Math.PI) : r.dir === 1 ? Math.PI / 2 : -Math.PI / 2;
  r.battery = Math.max(5, r.battery - 0.001);
}

const emptyKpis = (now: number) => ({
  at: new Date(now).toISOString(),
  window: { minutes: 60, since: new Date(now - 3600_000).toISOString() },
  throughput: { ordersPerHour: 0, ordersReceivedPerHour: 0, linesPerHour: 0, unitsPerHour: 0 },
  dispatchLatency: { count: 0, p50Ms: null, p95Ms: null, maxMs: null },
  orders: { open: 0, byState: {}, late: 0, atRisk: 0, atRiskWithinMinutes: 60 },
  devices: { total: ROBOTS, byState: { busy: ROBOTS }, byClass: { amr: { busy: ROBOTS } } },
  exceptions: { open: 0, byType: {} },
  series: { bucketMs: 60_000, buckets: [] },
});

export async function benchDashboard(): Promise<BenchResult[]> {
  if (chromiumMissing) {
    console.warn(`dashboard fps benchmark skipped: ${chromiumMissing}`);
    return [];
  }
  await ensureDashboardBuilt();
  const fleet = robots();
  const layout = generatedLayout();
  const notifier = createLocalNotifier();
  const logger = createLogger({ level: 'error' });
  const config = loadConfig({ argv: ['--http-port', '0', '--http-host', '127.0.0.1', '--log-level', 'error'], env: { PICKWIRE_TOKENS: `bench:viewer:${TOKEN}` } });
  const reads: FastifyPluginAsync = async (app) => {
    const any = { config: { roles: ['viewer' as const] } };
    app.get('/me', any, async () => ({ name: 'bench', role: 'viewer' }));
    app.get('/sites', any, async () => ({ items: [{ id: 'bench', name: 'Bench site, 500 AMRs', layout }] }));
    app.get('/devices', any, async () => ({ items: fleet.map((r) => resource(r, Date.now())) }));
    app.get('/kpis', any, async () => emptyKpis(Date.now()));
    for (const path of ['/orders', '/exceptions', '/holds', '/tasks']) app.get(path, any, async () => ({ items: [], nextCursor: null }));
  };
  const app = buildApp({
    config,
    logger,
    tokens: parseTokens(`bench:viewer:${TOKEN}`),
    metrics: createMetrics({ processMetrics: false }),
    readiness: () => ({ ready: true, reasons: [] }),
    notifier,
    snapshot: () => ({ site: { id: 'bench', name: 'Bench site, 500 AMRs' }, devices: fleet.map((r) => resource(r, Date.now())) }),
    routes: [reads],
  });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  let last = Date.now();
  const feed = setInterval(() => {
    const now = Date.now();
    const dt = (now - last) / 1000;
    last = now;
    for (const r of fleet) {
      step(r, dt);
      notifier.publish({ type: 'device.updated', at: now, data: resource(r, now) });
    }
  }, 1000 / RATE_HZ);
  const browser = await launchChromium();
  try {
    const results: BenchResult[] = [];
    for (const viewport of VIEWPORTS) {
      const m = await measure(browser, baseUrl, viewport);
      results.push({
        name: `dashboard floor map, ${ROBOTS} AMRs moving at ${RATE_HZ} Hz (headless chromium, software compositing, ${viewport.width}x${viewport.height})`,
        value: m.fps,
        unit: 'fps',
        note: `target >= 30; browser rAF ${m.rafFps.toFixed(1)} fps, ${m.longFrames} frames over 50 ms in ${Math.round(m.seconds)} s, map script ${m.drawMs.toFixed(2)} ms/frame; synthetic feed through the real stream`,
      });
      if (viewport === VIEWPORTS[0]) {
        results.push({
          name: `dashboard live stream per client at ${ROBOTS} AMRs x ${RATE_HZ} Hz`,
          value: m.bytesPerSecond,
          unit: 'bytes/s',
          note: `${m.wsFramesPerSecond.toFixed(1)} frames/s, ${Math.round(m.bytesPerSecond / Math.max(m.wsFramesPerSecond, 1) / 1024)} KiB per frame (JSON payload, WebSocket framing excluded), ${m.resyncs} resyncs`,
        });
      }
    }
    return results;
  } finally {
    clearInterval(feed);
    await browser.close();
    await app.close();
  }
}

interface Measurement {
  seconds: number;
  fps: number;
  rafFps: number;
  longFrames: number;
  drawMs: number;
  bytesPerSecond: number;
  wsFramesPerSecond: number;
  resyncs: number;
}

/** One page at one size: warm up, then count the map's redraws, the browser's frames and the stream's bytes. */
async function measure(browser: Browser, baseUrl: string, viewport: { width: number; height: number }): Promise<Measurement> {
  const page = await browser.newPage({ viewport });
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${baseUrl}/#token=${TOKEN}`);
    await page.waitForFunction((n) => (window.pickwire?.map as { stats: { drawn: { amr: number } } } | undefined)?.stats.drawn.amr === n, ROBOTS, { timeout: 30_000 });
    await page.waitForTimeout(WARMUP_MS);
    const sample = () =>
      page.evaluate(() => {
        const map = window.pickwire?.map as { stats: { frames: number; drawMsTotal: number } };
        const stream = (window.pickwire?.streamStats as () => { bytes: number; frames: number; snapshots: number })();
        return { t: performance.now(), frames: map.stats.frames, drawMs: map.stats.drawMsTotal, bytes: stream.bytes, wsFrames: stream.frames, snapshots: stream.snapshots };
      });
    // The browser's own frame clock alongside the map's redraws: long frames show jank the average hides.
    // A string, not a function: tsx's name-keeping helper does not exist inside the page.
    await page.evaluate('window.__frames = []; (function tick(t) { window.__frames.push(t); requestAnimationFrame(tick); })(performance.now());');
    const a = await sample();
    await page.waitForTimeout(MEASURE_MS);
    const b = await sample();
    const rafTimes = await page.evaluate(() => (window as unknown as { __frames: number[] }).__frames);
    const seconds = (b.t - a.t) / 1000;
    const gaps = rafTimes.slice(1).map((t, i) => t - (rafTimes[i] ?? t));
    if (errors.length > 0) console.warn(`page errors during the benchmark: ${errors.join('; ')}`);
    return {
      seconds,
      fps: (b.frames - a.frames) / seconds,
      rafFps: (gaps.length / ((rafTimes.at(-1) ?? 0) - (rafTimes[0] ?? 0))) * 1000,
      longFrames: gaps.filter((g) => g > 50).length,
      drawMs: (b.drawMs - a.drawMs) / Math.max(1, b.frames - a.frames),
      bytesPerSecond: (b.bytes - a.bytes) / seconds,
      wsFramesPerSecond: (b.wsFrames - a.wsFrames) / seconds,
      resyncs: b.snapshots - a.snapshots,
    };
  } finally {
    await page.close();
  }
}

/** Run alone: print the figures and replace (or add) this benchmark's rows in BENCHMARKS.md. */
async function main(): Promise<void> {
  const results = await benchDashboard();
  for (const r of results) console.log(JSON.stringify({ bench: r.name, value: Number(r.value.toFixed(2)), unit: r.unit, ...(r.note ? { note: r.note } : {}) }));
  if (results.length === 0) return;
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  const fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const r of results) {
    const row = `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.note ?? ''} |`;
    const i = lines.findIndex((l) => l.startsWith(`| ${r.name} |`));
    if (i >= 0) lines[i] = row;
    else {
      let end = lines.length;
      while (end > 0 && (lines[end - 1] ?? '').trim() === '') end--;
      lines.splice(end, 0, row);
    }
  }
  writeFileSync(file, lines.join('\n'));
  console.log('updated the dashboard rows of BENCHMARKS.md');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
