/**
 * Crash safety (issue 3, "How it is checked"; DESIGN §4): the real process (`node --import tsx
 * src/main.ts`, no simulator) takes a burst of orders from 16 concurrent clients and is killed
 * with SIGKILL (its whole process group) mid-burst. After a restart on the same data dir:
 *
 * - every order that got a 2xx is there, once, with the lines it was acknowledged with;
 * - no Idempotency-Key made two orders (each order carries its key as externalId);
 * - re-posting every request that did not get an answer, with the same key, replays the order
 *   the core had committed (same id, `idempotent-replayed: true`) or creates it now, never both:
 *   afterwards there is exactly one order per key sent;
 * - what the stock positions hold reserved equals what the open lines hold, SKU by SKU;
 * - and the open lines go on: started again with the simulated site, pre-crash orders get picked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { orderBody, waitFor } from './support/harness.js';
import { listAllOrders, listStock, prng, reservationMismatches, sumOf, type OrderView } from './support/orders.js';
import { type Banner, killAllStarted, pickwireEnv, type PickwireProcess, startPickwire } from './support/process.js';

const TOKEN = 'crash-test-admin-token-0123456789';
const ORDERS = 400;
const CLIENTS = 16;
/** SIGKILL once this many orders have been acknowledged. */
const KILL_AFTER = 150;
/** Past PICKED on the way to the customer: counts as "picked" when polling for progress. */
const PICKED_OR_LATER = new Set(['PICKED', 'PACKED', 'SHIPPED', 'DELIVERED']);

function envFor(dataDir: string, simulate: boolean): Record<string, string> {
  return pickwireEnv({ dataDir, adminToken: TOKEN, simulate });
}

function call(b: Banner, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${b.httpUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) },
    signal: init.signal ?? AbortSignal.timeout(10_000),
  });
}

async function boot(dataDir: string, simulate: boolean): Promise<{ proc: PickwireProcess; banner: Banner }> {
  const proc = startPickwire({ env: envFor(dataDir, simulate), args: [simulate ? '--simulate' : '--no-simulate'] });
  const banner = await proc.banner(30_000);
  await waitFor('/readyz 200', async () => (await fetch(`${banner.httpUrl}/readyz`)).status === 200, 15_000);
  return { proc, banner };
}

interface Request {
  key: string;
  body: Record<string, unknown>;
}

type Outcome =
  | { kind: 'ok'; status: number; order: OrderView }
  | { kind: 'http-error'; status: number; text: string }
  /** Sent (or being sent) when the process died: the order may or may not have been committed. */
  | { kind: 'failed'; error: string }
  /** Never sent: the kill came first. */
  | { kind: 'unsent' };

const errorText = (err: unknown): string => {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return `${e.message ?? String(err)}${e.cause ? ` (${e.cause.code ?? e.cause.message ?? ''})` : ''}`;
};

const lineShape = (o: OrderView) => o.lines.map((l) => ({ id: l.id, sku: l.sku, quantity: l.quantity, location: l.location }));

describe('crash safety of intake (SIGKILL mid-burst, restart on the same data dir)', () => {
  const dirs: string[] = [];

  afterEach(() => {
    killAllStarted();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it(
    'keeps every acknowledged order exactly once, replays or creates the unanswered ones once, keeps reservations equal to lines, and picks afterwards',
    async () => {
      const t0 = Date.now();
      const phase = (what: string): void => console.info(`crash test +${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
      const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-crash-'));
      dirs.push(dataDir);

      // --- first life: no devices, a burst of orders, SIGKILL mid-burst ---
      const first = await boot(dataDir, false);
      const b1 = first.banner;
      phase('first process up');

      // SKUs: AMR ones (picked quickly by the simulated site later) and AS/RS ones, topped up so
      // nothing is backordered for lack of stock.
      const stock = await listStock((p) => call(b1, p));
      const bySku = (zone: string) => [...new Set(stock.filter((p) => p.zone === zone).map((p) => p.sku))].sort();
      const skus = [...bySku('amr').slice(0, 12), ...bySku('asrs').slice(0, 8)];
      expect(skus).toHaveLength(20);
      for (const sku of skus) {
        const p = stock.find((s) => s.sku === sku)!;
        const res = await call(b1, '/api/v1/inventory/adjustments', {
          method: 'POST',
          body: JSON.stringify({ location: p.location, sku, delta: 1000, reason: 'found', note: 'crash test top-up' }),
        });
        expect(res.status, await res.clone().text()).toBe(201);
      }

      const rnd = prng(0xc0ffee);
      const run = `crash-${Date.now()}`;
      const requests: Request[] = Array.from({ length: ORDERS }, (_, i) => {
        const n = 1 + Math.floor(rnd() * 3);
        const picked = new Set<string>();
        while (picked.size < n) picked.add(skus[Math.floor(rnd() * skus.length)]!);
        const key = `${run}-${String(i).padStart(4, '0')}`;
        return { key, body: orderBody([...picked].map((sku) => ({ sku, quantity: 1 + Math.floor(rnd() * 3) })), { externalId: key, customer: { id: `cust-${i % 37}` } }) };
      });

      const outcomes: Outcome[] = Array.from({ length: ORDERS }, () => ({ kind: 'unsent' }));
      let acknowledged = 0;
      let killed = false;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (!killed && next < ORDERS) {
          const i = next++;
          const r = requests[i]!;
          outcomes[i] = { kind: 'failed', error: 'in flight' };
          try {
            const res = await call(b1, '/api/v1/orders', { method: 'POST', headers: { 'idempotency-key': r.key }, body: JSON.stringify(r.body) });
            if (res.status >= 200 && res.status < 300) {
              // The status line is in: the order is durable whether or not the body makes it.
              const text = await res.text();
              outcomes[i] = { kind: 'ok', status: res.status, order: JSON.parse(text) as OrderView };
              if (++acknowledged === KILL_AFTER) {
                killed = true;
                first.proc.kill();
              }
            } else {
              outcomes[i] = { kind: 'http-error', status: res.status, text: await res.text() };
            }
          } catch (err) {
            outcomes[i] = { kind: 'failed', error: errorText(err) };
          }
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, worker));
      const exit = await first.proc.waitForExit(10_000);
      expect(exit.signal, 'the first process died of SIGKILL').toBe('SIGKILL');

      const ok = outcomes.flatMap((o, i) => (o.kind === 'ok' ? [{ i, order: o.order }] : []));
      const failed = outcomes.flatMap((o, i) => (o.kind === 'failed' ? [{ i, error: o.error }] : []));
      const unsent = outcomes.flatMap((o, i) => (o.kind === 'unsent' ? [i] : []));
      phase(`burst: ${ok.length} acknowledged, ${failed.length} failed in flight, ${unsent.length} never sent`);
      expect(outcomes.filter((o) => o.kind === 'http-error'), 'no HTTP error answers before the kill').toEqual([]);
      expect(killed, 'the kill came mid-burst').toBe(true);
      expect(ok.length).toBeGreaterThanOrEqual(KILL_AFTER);
      expect(ok.length + failed.length).toBeLessThan(ORDERS);
      expect(ok.every((o) => o.order.externalId === requests[o.i]!.key)).toBe(true);

      // --- second life: same data dir, still no devices ---
      const second = await boot(dataDir, false);
      const b2 = second.banner;
      const get2 = (p: string): Promise<Response> => call(b2, p);
      phase('restarted');

      // Every acknowledged order is there with the lines it was acknowledged with.
      for (const { i, order } of ok) {
        const res = await get2(`/api/v1/orders/${order.id}`);
        expect(res.status, `acknowledged order ${order.id} (${requests[i]!.key})`).toBe(200);
        const again = (await res.json()) as OrderView;
        expect(again.externalId).toBe(requests[i]!.key);
        expect(lineShape(again)).toEqual(lineShape(order));
        // Acknowledged SOURCED, a line may have been released to the floor since (the release pass runs after intake).
        expect(again.lines.map((l) => (l.state === 'RELEASED' ? 'SOURCED' : l.state))).toEqual(order.lines.map((l) => l.state));
      }

      // No key made two orders; every order is one the test sent.
      const keys = new Set(requests.map((r) => r.key));
      const afterCrash = await listAllOrders(get2);
      const externalIds = afterCrash.map((o) => o.externalId ?? '');
      expect(new Set(externalIds).size, 'one order per Idempotency-Key').toBe(afterCrash.length);
      expect(new Set(afterCrash.map((o) => o.id)).size).toBe(afterCrash.length);
      expect(externalIds.filter((k) => !keys.has(k))).toEqual([]);
      const okKeys = new Set(ok.map((o) => requests[o.i]!.key));
      const committedUnanswered = afterCrash.filter((o) => !okKeys.has(o.externalId ?? ''));
      expect(committedUnanswered.every((o) => failed.some((f) => requests[f.i]!.key === o.externalId)), 'only in-flight requests can have committed unanswered').toBe(true);
      phase(`${afterCrash.length} orders after restart (${committedUnanswered.length} committed but unanswered)`);

      // Re-post everything that got no answer, with the same key: a replay of what the core
      // committed before it died, or a fresh order; never a second one.
      const byKey = new Map(afterCrash.map((o) => [o.externalId ?? '', o]));
      let replays = 0;
      const retry = [...failed.map((f) => f.i), ...unsent];
      for (let from = 0; from < retry.length; from += CLIENTS) {
        await Promise.all(
          retry.slice(from, from + CLIENTS).map(async (i) => {
            const r = requests[i]!;
            const res = await call(b2, '/api/v1/orders', { method: 'POST', headers: { 'idempotency-key': r.key }, body: JSON.stringify(r.body) });
            const text = await res.text();
            expect([200, 201], `re-post of ${r.key}: ${text}`).toContain(res.status);
            const order = JSON.parse(text) as OrderView;
            const existing = byKey.get(r.key);
            if (existing) {
              replays++;
              expect(res.headers.get('idempotent-replayed'), `re-post of committed ${r.key}`).toBe('true');
              expect(order.id).toBe(existing.id);
              expect(lineShape(order)).toEqual(lineShape(existing));
            } else {
              expect(res.headers.get('idempotent-replayed'), `re-post of uncommitted ${r.key}`).toBeNull();
              expect(order.externalId).toBe(r.key);
            }
          }),
        );
      }
      expect(replays).toBe(committedUnanswered.length);
      const all = await listAllOrders(get2);
      expect(all, 'one order per distinct key sent').toHaveLength(keys.size);
      expect(new Set(all.map((o) => o.externalId)).size).toBe(keys.size);
      phase(`re-posted ${retry.length} (${replays} replays); ${all.length} orders`);

      // Reservations match lines, SKU by SKU, over everything the burst touched.
      const stockNow = await listStock(get2);
      const check = reservationMismatches(stockNow, all, new Set(skus));
      expect(check.problems).toEqual([]);
      expect(check.reservedInStock).toBeGreaterThan(0);
      for (const p of stockNow) expect(p.reserved, `${p.sku}@${p.location}`).toBeLessThanOrEqual(p.onHand);
      const orderedUnits = sumOf(all, (o) => sumOf(o.lines, (l) => l.quantity));
      expect(check.reservedByLines, 'with ample stock every unit ordered is reserved').toBe(orderedUnits);

      process.kill(second.proc.pid, 'SIGTERM');
      expect((await second.proc.waitForExit(15_000)).code).toBe(0);

      // --- third life: the simulated site attached; open lines carry on ---
      const third = await boot(dataDir, true);
      const b3 = third.banner;
      const get3 = (p: string): Promise<Response> => call(b3, p);
      phase('restarted with the simulated site');
      const okIds = new Set(ok.map((o) => o.order.id));
      const pickedOrder = await waitFor(
        'a pre-crash order picked',
        async () => (await listAllOrders(get3)).find((o) => okIds.has(o.id) && PICKED_OR_LATER.has(o.fulfilment)),
        120_000,
        500,
      );
      phase(`pre-crash order ${pickedOrder.id} reached ${pickedOrder.fulfilment}`);
      expect(pickedOrder.lines.every((l) => l.picked === l.quantity)).toBe(true);

      process.kill(third.proc.pid, 'SIGTERM');
      expect((await third.proc.waitForExit(15_000)).code).toBe(0);
    },
    240_000,
  );
});
