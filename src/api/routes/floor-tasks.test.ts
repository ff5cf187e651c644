/**
 * GET /tasks pages through one state, oldest first, with a cursor: FINISHED alone holds every
 * task ever done, so the list must never come back whole. Real store, real app, `inject`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../adapters/sqlite/sqlite-store.js';
import { loadSiteLayout } from '../../adapters/site-loader.js';
import { DeviceRegistry } from '../../app/device-registry.js';
import { loadConfig } from '../../config.js';
import type { TaskRecord } from '../../domain/records.js';
import { createLogger } from '../../logger.js';
import { createMetrics } from '../../metrics.js';
import type { Clock } from '../../ports.js';
import { parseTokens } from '../../tokens.js';
import { buildApp, type PickwireApp } from '../app.js';
import { createLocalNotifier } from '../stream.js';
import { floorRoutes } from './floor.js';

const clock: Clock = { now: () => 5_000, setTimer: () => () => undefined };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup(): { app: PickwireApp; store: SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), 'pw-floor-tasks-'));
  const store = new SqliteStore({ dataDir: dir, clock });
  const app = buildApp({
    config: loadConfig({ argv: [], env: {}, cwd: dir }),
    logger: createLogger({ level: 'silent' }),
    tokens: parseTokens('eye:viewer:viewer-token'),
    metrics: createMetrics({ processMetrics: false }),
    readiness: () => ({ ready: true, reasons: [] }),
    notifier: createLocalNotifier(),
    snapshot: () => ({ devices: [] }),
    routes: [floorRoutes({ store, registry: new DeviceRegistry({ watchdogMs: 15_000, lowBatteryPercent: 15 }), layout: loadSiteLayout('demo'), clock })],
    isAcceptingWork: () => true,
  });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close(), () => app.close());
  return { app, store };
}

describe('GET /tasks', () => {
  it('pages through one state oldest first with nextCursor, each task once, and refuses a cursor it did not hand out', async () => {
    const { app, store } = setup();
    store.insertOrder({ id: 'O-1', externalId: undefined, channel: 'web', customerId: 'c', status: 'OPEN', fulfilment: 'SOURCED', snapshot: {} as never, body: {} as never, priority: 0, promisedBy: undefined, createdAt: 1, updatedAt: 1 });
    store.insertLine({ id: 'O-1-1', orderId: 'O-1', lineNo: 1, sku: 'S', quantity: 1, state: 'RELEASED', site: 'A', location: undefined, zone: undefined, snapshot: {} as never, updatedAt: 1 });
    const task = (id: string, state: TaskRecord['state'], createdAt: number): void =>
      store.insertTask({ id, lineId: 'O-1-1', orderId: 'O-1', step: 0, kind: 'amr.pickTrip', deviceClass: 'amr', deviceId: undefined, state, loadId: undefined, plan: { sku: 'S', quantity: 1, location: 'L' }, progress: { applied: [] }, attempts: 0, createdAt, updatedAt: createdAt });
    // Ties on createdAt and ids out of creation order; tasks of another state in between.
    for (let i = 0; i < 23; i++) task(`T-${String(97 - i).padStart(3, '0')}`, 'FINISHED', 100 + Math.floor(i / 4));
    for (let i = 0; i < 5; i++) task(`T-run-${i}`, 'RUNNING', 100 + i);
    const get = async (query: string): Promise<{ statusCode: number; body: { items: TaskRecord[]; nextCursor: string | null } }> => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/tasks${query}`, headers: { authorization: 'Bearer viewer-token' } });
      return { statusCode: res.statusCode, body: res.json() };
    };
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`?state=FINISHED&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(5);
      seen.push(...res.body.items.map((t) => t.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(5);
    const expected = store.tasksInStates(['FINISHED']).map((t) => t.id);
    expect(expected).toHaveLength(23);
    expect(seen).toEqual(expected);
    // The default page holds a whole small state, with no next page.
    const running = await get('?state=RUNNING');
    expect(running.body.items.map((t) => t.id)).toEqual(['T-run-0', 'T-run-1', 'T-run-2', 'T-run-3', 'T-run-4']);
    expect(running.body.nextCursor).toBeNull();
    const forged = await app.inject({ method: 'GET', url: '/api/v1/tasks?state=FINISHED&cursor=not-ours', headers: { authorization: 'Bearer viewer-token' } });
    expect(forged.statusCode).toBe(400);
    expect(forged.json<{ error: { code: string } }>().error.code).toBe('PW_ERR_VALIDATION');
    const tooMany = await app.inject({ method: 'GET', url: '/api/v1/tasks?state=FINISHED&limit=5001', headers: { authorization: 'Bearer viewer-token' } });
    expect(tooMany.statusCode).toBe(400);
  });
});
