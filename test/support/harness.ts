/**
 * Starts a real core for integration tests: a temporary data dir, a real SQLite file, real MQTT
 * (the embedded aedes broker on a free port, or an external broker by URL), real HTTP on a free
 * port, and optionally the simulated demo site at a chosen speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, createLogger, loadConfig, type Core } from '../../src/index.js';
import type { SiteLayout } from '../../src/domain/site-layout.js';
import { startSimulatedSite, type SimClock, type SimulatedSite } from '../../simulators/index.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const CHANNEL_TOKEN = 'test-channel-token-0123456789';
export const VIEWER_TOKEN = 'test-viewer-token-0123456789';

export interface Harness {
  core: Core;
  site: SimulatedSite | undefined;
  baseUrl: string;
  dataDir: string;
  api(path: string, init?: RequestInit & { token?: string }): Promise<Response>;
  stop(): Promise<void>;
}

/** Simulated devices run faster than real time so end-to-end tests stay short. */
export function scaledClock(speed: number): SimClock {
  const start = Date.now();
  return {
    now: () => start + (Date.now() - start) * speed,
    setTimer: (fn, ms) => {
      const t = setTimeout(fn, Math.max(0, ms / speed));
      return () => clearTimeout(t);
    },
  };
}

/**
 * `mqttPort` fixes the embedded broker's port (default 0: a free one), so a restarted core can
 * come back where already-running devices keep reconnecting to.
 */
/**
 * Most tests are about picking, not packing: by default a parcel packs a day after its last tote
 * arrived, so lines stay PICKED however long a test runs. test/packing.test.ts sets its own times.
 */
const PACKING_HELD_BACK: Record<string, string> = { PICKWIRE_PACK_BASE_SECONDS: '86400' };

export async function startHarness(
  opts: { mqttUrl?: string; mqttPort?: number; simulate?: boolean; speed?: number; dataDir?: string; env?: Record<string, string>; layout?: SiteLayout; beforeListen?: (core: Core) => void } = {},
): Promise<Harness> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'pickwire-test-'));
  const argv = ['--http-port', '0', '--mqtt-port', String(opts.mqttPort ?? 0), '--mqtt-host', '127.0.0.1', '--http-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'];
  if (opts.mqttUrl) argv.push('--mqtt-url', opts.mqttUrl);
  const config = loadConfig({
    argv,
    env: { PICKWIRE_TOKENS: `admin:admin:${ADMIN_TOKEN},shop:channel:${CHANNEL_TOKEN},watcher:viewer:${VIEWER_TOKEN}`, ...PACKING_HELD_BACK, ...opts.env },
  });
  const core = await createCore(config, { logger: createLogger({ level: 'warn' }), ...(opts.layout ? { layout: opts.layout } : {}) });
  // Before listen, while the app's plugins are not loaded yet: e.g. an onRoute hook sees every route.
  opts.beforeListen?.(core);
  const baseUrl = await core.listen();
  let site: SimulatedSite | undefined;
  if (opts.simulate !== false) {
    site = await startSimulatedSite({ layout: core.layout, mqttUrl: core.mqttUrl, interfaceName: config.mqttInterface, clock: scaledClock(opts.speed ?? 5) });
  }
  return {
    core,
    site,
    baseUrl,
    dataDir,
    api: (path, init = {}) => {
      const { token = ADMIN_TOKEN, headers, ...rest } = init;
      return fetch(`${baseUrl}${path}`, {
        ...rest,
        headers: { authorization: `Bearer ${token}`, ...(rest.body ? { 'content-type': 'application/json' } : {}), ...(headers as Record<string, string> | undefined) },
      });
    },
    async stop() {
      await site?.stop();
      await core.stop('test done');
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

export function orderBody(lines: { sku: string; quantity: number }[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    channel: 'web',
    customer: { id: 'cust-1', email: 'buyer@example.com' },
    shipTo: { name: 'Ada Buyer', line1: '1 Dock Road', city: 'Dortmund', postalCode: '44135', country: 'DE' },
    lines,
    ...extra,
  };
}
