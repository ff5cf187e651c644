/**
 * Intake's group commit with the fsync off the event loop (SqliteStore.txSyncLater): an order is
 * answered only once its group is on disk, its key stays in flight until then, a failed sync
 * refuses the whole group, and a backlog is taken in bounded groups.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadSiteLayout } from '../adapters/site-loader.js';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import type { OrderInput } from '../domain/records.js';
import { PickwireError } from '../errors.js';
import type { Clock } from '../ports.js';
import { ExceptionService } from './exception-service.js';
import { OrderIntake, type IntakeResult, type SyncLaterStore } from './intake.js';
import { LineService } from './line-service.js';
import { seedFromLayout } from './site-seed.js';
import { SourcingService } from './sourcing-service.js';
import { testAppContext } from './testing/app-context.js';

const layout = loadSiteLayout('demo');
const clock: Clock = { now: () => Date.UTC(2026, 0, 5, 9), setTimer: () => () => undefined };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The real store's txSyncLater, with each group's "fsync" held until the test lets it go. */
class HeldSync implements SyncLaterStore {
  readonly groups: { release: () => void; fail: (err: unknown) => void }[] = [];
  constructor(private readonly store: SqliteStore) {}
  txSyncLater<T>(fn: () => T): { result: T; durable: Promise<void> } {
    const { result, durable } = this.store.txSyncLater(fn);
    let release!: () => void;
    let fail!: (err: unknown) => void;
    const held = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    // Marked handled here: it is awaited only once the real sync is done.
    held.catch(() => undefined);
    this.groups.push({ release, fail });
    return { result, durable: durable.then(() => held) };
  }
}

function rig(): { store: SqliteStore; intake: OrderIntake; sync: HeldSync } {
  const dir = mkdtempSync(join(tmpdir(), 'pw-intake-'));
  dirs.push(dir);
  const store = new SqliteStore({ dataDir: dir, clock });
  seedFromLayout(store, layout);
  const ctx = testAppContext(store, clock, layout);
  const sourcing = new SourcingService(ctx, { weights: { cost: 1, distance: 1, time: 1, co2: 0.5 }, minShipmentValue: 0 });
  const lines = new LineService(ctx, sourcing, new ExceptionService(ctx), () => undefined);
  const sync = new HeldSync(store);
  return { store, intake: new OrderIntake(ctx, lines, sourcing, { maxLineQuantity: 100, syncLater: sync }), sync };
}

const sku = layout.stock.find((s) => s.onHand >= 100)?.sku ?? '';
const order = (n: number): OrderInput => ({
  channel: 'web',
  customer: { id: `c-${n}` },
  shipTo: { name: 'Ada', line1: `${n} Loop Rd`, city: 'Dortmund', postalCode: '44135', country: 'DE' },
  lines: [{ sku, quantity: 1 }],
});

/** Settles pending setImmediate callbacks (the group-commit flush) and promise reactions. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('intake group commit, synced off the event loop', () => {
  it('answers only once the group is on disk, keeps the key in flight until then, and replays afterwards', async () => {
    const { store, intake, sync } = rig();
    let answer: IntakeResult | undefined;
    const first = intake.submit(order(1), 'key-1').then((r) => (answer = r));
    await turn();
    expect(sync.groups).toHaveLength(1);
    // Committed (a reader sees the key) but not on disk yet: no reply, and a retry is 409, not a replay.
    expect(store.getIdempotency('key-1')?.statusCode).toBe(201);
    await turn();
    expect(answer).toBeUndefined();
    await expect(intake.submit(order(1), 'key-1')).rejects.toMatchObject({ code: 'PW_ERR_IDEMPOTENCY_IN_FLIGHT' });
    sync.groups[0]!.release();
    await first;
    expect(answer?.statusCode).toBe(201);
    const replay = await intake.submit(order(1), 'key-1');
    expect(replay).toMatchObject({ statusCode: 201, replayed: true, json: answer?.json });
    store.close();
  });

  it('refuses every order of a group whose sync fails, and frees their keys', async () => {
    const { store, intake, sync } = rig();
    const results = [1, 2, 3].map((n) => intake.submit(order(n), `fail-${n}`).then(() => 'ok', (err: unknown) => err));
    await turn();
    expect(sync.groups).toHaveLength(1);
    sync.groups[0]!.fail(new PickwireError('PW_ERR_STORE_UNAVAILABLE', 'the write-ahead log could not be synced'));
    for (const r of await Promise.all(results)) expect(r).toMatchObject({ code: 'PW_ERR_STORE_UNAVAILABLE' });
    // Not in flight any more: a retry is answered from the stored record once it is synced.
    const retry = intake.submit(order(1), 'fail-1');
    await turn();
    await expect(retry).resolves.toMatchObject({ statusCode: 201, replayed: true });
    store.close();
  });

  it('commits the orders that arrive while a group syncs as one group once that sync is back', async () => {
    const { store, intake, sync } = rig();
    const answered: number[] = [];
    const first = intake.submit(order(0), 'wait-0').then(() => answered.push(0));
    await turn();
    expect(sync.groups).toHaveLength(1);
    const later = [1, 2, 3].map((n) => intake.submit(order(n), `wait-${n}`).then(() => answered.push(n)));
    await turn();
    await turn();
    // Queued, not committed: nothing of them is in the store yet, and no new group was started.
    expect(sync.groups).toHaveLength(1);
    expect(store.getIdempotency('wait-1')).toBeUndefined();
    sync.groups[0]!.release();
    await first;
    await vi.waitFor(() => expect(sync.groups).toHaveLength(2));
    for (const n of [1, 2, 3]) expect(store.getIdempotency(`wait-${n}`)?.statusCode).toBe(201);
    // Committed together, answered only once their own group is on disk.
    expect(answered).toEqual([0]);
    sync.groups[1]!.release();
    await Promise.all(later);
    expect(answered.sort()).toEqual([0, 1, 2, 3]);
    store.close();
  });

  it('takes a backlog in groups of at most 64 orders, each answered when its own group is on disk', async () => {
    const { store, intake, sync } = rig();
    const answered: number[] = [];
    const all = Array.from({ length: 100 }, (_, n) => intake.submit(order(n), `burst-${n}`).then(() => answered.push(n)));
    await turn();
    await turn();
    expect(sync.groups).toHaveLength(2);
    sync.groups[1]!.release();
    // The real fsyncs run on the thread pool: wait for the second group's answers.
    await vi.waitFor(() => expect(answered).toHaveLength(36));
    expect(Math.min(...answered)).toBe(64);
    sync.groups[0]!.release();
    await Promise.all(all);
    expect(answered).toHaveLength(100);
    store.close();
  });
});
