/**
 * The real process entry, as `npm start` runs it: `node --import tsx src/main.ts --simulate` with
 * ports 0 on loopback and a temporary data dir. The start banner is the only way the test learns
 * the HTTP and MQTT addresses, exactly as an operator would. Covered: health and readiness, an
 * order picked by the simulated site (a child process, real time), the retained core presence,
 * graceful SIGTERM (exit 0, simulator child gone, `online:false` said before the broker dies),
 * durability of the order across a restart on the same data dir, and a config error's exit code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { orderBody, waitFor } from './support/harness.js';
import { floorDump } from './support/reliability.js';
import { type Banner, childrenOf, isAlive, killAllStarted, pickwireEnv, type PickwireProcess, startPickwire } from './support/process.js';

const TOKEN = 'process-test-admin-token-0123456789';
const SITE = 'demo';
const PRESENCE_TOPIC = `wcs/v1/${SITE}/core/state`;
/** Near the stations in the demo layout, with plenty of stock: picked in ~15-20 s at 1x. */
const AMR_SKU = 'SKU-0001';

interface Presence {
  online: boolean;
  coreId: string;
  timestamp: string;
  version: string;
}

interface OrderView {
  id: string;
  status: string;
  fulfilment: string;
  lines: { id: string; sku: string; quantity: number; state: string; location: string; zone: string }[];
}

function envFor(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return pickwireEnv({ dataDir, adminToken: TOKEN, simulate: true, extra });
}

function api(b: Banner, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${b.httpUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) },
    signal: AbortSignal.timeout(5000),
  });
}

async function getOrder(b: Banner, id: string): Promise<OrderView> {
  const res = await api(b, `/api/v1/orders/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as OrderView;
}

async function onHand(b: Banner, sku: string, location: string): Promise<number> {
  const res = await api(b, `/api/v1/inventory?sku=${encodeURIComponent(sku)}`);
  expect(res.status).toBe(200);
  const items = ((await res.json()) as { items: { location: string; onHand: number }[] }).items;
  const p = items.find((i) => i.location === location);
  expect(p, `stock position ${sku}@${location}`).toBeDefined();
  return p!.onHand;
}

/** A plain MQTT 3.1.1 client that records every presence message it receives. */
async function presenceWatcher(url: string, clientId: string): Promise<{ client: MqttClient; seen: Presence[]; closed: Promise<void> }> {
  const client = await mqtt.connectAsync(url, { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
  client.on('error', () => undefined);
  const seen: Presence[] = [];
  client.on('message', (topic, payload) => {
    if (topic === PRESENCE_TOPIC) seen.push(JSON.parse(payload.toString('utf8')) as Presence);
  });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  await client.subscribeAsync(PRESENCE_TOPIC, { qos: 1 });
  return { client, seen, closed };
}

async function boot(dataDir: string): Promise<{ proc: PickwireProcess; banner: Banner }> {
  const proc = startPickwire({ env: envFor(dataDir), args: ['--simulate'] });
  const banner = await proc.banner(30_000);
  expect(banner.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
  expect(banner.mqttUrl).not.toMatch(/:0$/);
  expect(banner.httpUrl).not.toMatch(/:0$/);
  return { proc, banner };
}

describe('the pickwire process (node --import tsx src/main.ts)', () => {
  const dirs: string[] = [];
  const clients: MqttClient[] = [];

  afterEach(async () => {
    await Promise.allSettled(clients.splice(0).map((c) => c.endAsync(true)));
    killAllStarted();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it(
    'serves, picks with the simulated site, stops gracefully on SIGTERM, and keeps the order across a restart',
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-process-'));
      dirs.push(dataDir);

      // --- first start ---
      const first = await boot(dataDir);
      const b1 = first.banner;
      expect((await fetch(`${b1.httpUrl}/healthz`)).status).toBe(200);
      await waitFor('/readyz 200', async () => (await fetch(`${b1.httpUrl}/readyz`)).status === 200, 10_000);

      const sims = childrenOf(first.proc.pid).filter((c) => c.cmdline.includes('simulators/live.ts'));
      expect(sims, 'one simulated-site child process').toHaveLength(1);
      const simPid = sims[0]!.pid;
      expect(isAlive(simPid)).toBe(true);

      const watcher = await presenceWatcher(b1.mqttUrl, `process-test-watch-${process.pid}`);
      clients.push(watcher.client);
      const online = await waitFor('retained presence online:true', () => watcher.seen.find((p) => p.online), 5000, 20);
      expect(online.coreId).toMatch(/^pickwire-core-demo-/);

      const stockBefore = await onHand(b1, AMR_SKU, 'A-03-01-1');
      const posted = await api(b1, '/api/v1/orders', {
        method: 'POST',
        headers: { 'idempotency-key': `process-${Date.now()}` },
        body: JSON.stringify(orderBody([{ sku: AMR_SKU, quantity: 2 }])),
      });
      expect(posted.status).toBe(201);
      const order = (await posted.json()) as OrderView;
      expect(order.lines).toHaveLength(1);
      expect(order.lines[0]!.zone).toBe('amr');
      const location = order.lines[0]!.location;
      expect(location).toBe('A-03-01-1');

      // The simulated site runs at 1x in its own process: ~15-20 s for an AMR pick, allow 60 s.
      const picked = await waitFor(
        'order PICKED',
        async () => {
          const o = await getOrder(b1, order.id);
          return o.fulfilment === 'PICKED' ? o : undefined;
        },
        120_000,
        250,
      ).catch(async (err: unknown) => {
        // What the floor and the process were doing, for the diagnosis of a run that stalls.
        const floor = await floorDump((path) => api(b1, path)).catch((e: unknown) => `floor not readable: ${String(e)}`);
        throw new Error(`${String(err)}\n${floor}\n--- process stdout (tail) ---\n${first.proc.stdout().slice(-12_000)}\n--- stderr (tail) ---\n${first.proc.stderr().slice(-4000)}`);
      });
      expect(picked.lines[0]!.state).toBe('PICKED');
      expect(await onHand(b1, AMR_SKU, location)).toBe(stockBefore - 2);

      // --- graceful stop ---
      const sigtermAt = Date.now();
      process.kill(first.proc.pid, 'SIGTERM');
      const exit = await first.proc.waitForExit(15_000);
      expect(exit, `stderr: ${first.proc.stderr()}`).toEqual({ code: 0, signal: null });
      expect(Date.now() - sigtermAt).toBeLessThan(15_000);
      // main.ts waits for the simulator child's exit before stopping the core.
      await waitFor('simulator child gone', () => !isAlive(simPid), 2000, 20);
      // The embedded broker dies with the core, so nobody can read the retained presence
      // afterwards. What devices see is what a subscriber got before its socket closed: the
      // core's explicit `online:false` (a graceful stop does not rely on the last will).
      await Promise.race([watcher.closed, new Promise((r) => setTimeout(r, 5000))]);
      const last = watcher.seen.at(-1);
      expect(last?.online).toBe(false);
      expect(last?.coreId).toBe(online.coreId);
      expect(first.proc.stderr()).not.toMatch(/failed to start|simulated site exited/);

      // --- second start on the same data dir ---
      const second = await boot(dataDir);
      const b2 = second.banner;
      await waitFor('/readyz 200 after restart', async () => (await fetch(`${b2.httpUrl}/readyz`)).status === 200, 10_000);
      const again = await getOrder(b2, order.id);
      expect(again.status).toBe(picked.status);
      expect(again.fulfilment).toBe('PICKED');
      expect(again.lines.map((l) => ({ id: l.id, sku: l.sku, quantity: l.quantity, state: l.state }))).toEqual(
        picked.lines.map((l) => ({ id: l.id, sku: l.sku, quantity: l.quantity, state: l.state })),
      );
      // Stock moved on and stays moved: the layout is not re-seeded over it.
      expect(await onHand(b2, AMR_SKU, location)).toBe(stockBefore - 2);
      // The new core announces itself under a new identity.
      const watcher2 = await presenceWatcher(b2.mqttUrl, `process-test-watch2-${process.pid}`);
      clients.push(watcher2.client);
      const online2 = await waitFor('presence online:true after restart', () => watcher2.seen.find((p) => p.online), 5000, 20);
      expect(online2.coreId).not.toBe(online.coreId);

      process.kill(second.proc.pid, 'SIGTERM');
      expect((await second.proc.waitForExit(15_000)).code).toBe(0);
    },
    240_000,
  );

  it('exits with code 2 and names the setting when PICKWIRE_HTTP_PORT is not a number', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-process-'));
    dirs.push(dataDir);
    const proc = startPickwire({ env: envFor(dataDir, { PICKWIRE_HTTP_PORT: 'abc' }), args: ['--simulate'] });
    const exit = await proc.waitForExit(20_000);
    expect(exit.code).toBe(2);
    expect(proc.stderr()).toMatch(/PICKWIRE_HTTP_PORT/);
    expect(proc.stderr()).toMatch(/httpPort must be an integer/);
    expect(proc.stdout()).not.toMatch(/Pickwire is running/);
  }, 30_000);
});
