/**
 * The outbox publisher over the real SQLite store and the in-memory bus (the core's transport of
 * fast runs): commands the dispatcher has just committed go on the wire without being read back
 * from the outbox, but only when they are the next rows after everything already issued — rows
 * of other writers in between, or an unknown start, take the ordinary read, and the wire keeps
 * the outbox order either way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryBus } from '../adapters/memory/memory-bus.js';
import { MemoryTransport } from '../adapters/memory/memory-transport.js';
import { SqliteStore } from '../adapters/sqlite/sqlite-store.js';
import type { OutboxMessage } from '../domain/records.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { OutboxPublisher } from './outbox-publisher.js';
import { ManualClock } from './testing/app-context.js';

interface Rig {
  store: SqliteStore;
  clock: ManualClock;
  publisher: OutboxPublisher;
  /** Topics as a device-side subscriber received them, in order. */
  wire: string[];
  /** Commits one outbox row per topic, as a writer's transaction would; returns the rows. */
  commit(...topics: string[]): OutboxMessage[];
}

describe('OutboxPublisher.sendCommitted', () => {
  const dirs: string[] = [];
  const stores: SqliteStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function rig(): Rig {
    const dir = mkdtempSync(join(tmpdir(), 'pw-outbox-'));
    dirs.push(dir);
    const clock = new ManualClock(1_000_000);
    const store = new SqliteStore({ dataDir: dir, clock });
    stores.push(store);
    const bus = new MemoryBus({ clock, latencyMs: 1 });
    const transport = new MemoryTransport({ bus, clientId: 'core' });
    const device = bus.connect('device');
    const wire: string[] = [];
    device.onMessage((topic) => wire.push(topic));
    void device.subscribe(['cmd/#']);
    const publisher = new OutboxPublisher(store, transport, clock, createLogger({ level: 'silent' }), createMetrics({ processMetrics: false }), { resendAfterMs: 3000, batchSize: 200 });
    const commit = (...topics: string[]): OutboxMessage[] =>
      store.tx(() =>
        topics.map((topic) => {
          const row = { topic, payload: Buffer.from(topic), qos: 1 as const, retain: false, expirySeconds: undefined, correlation: `vda:x:${topic}:0` };
          return { ...row, seq: store.enqueue(row), createdAt: clock.now(), sentAt: undefined, attempts: 0, confirmedAt: undefined };
        }),
      );
    return { store, clock, publisher, wire, commit };
  }

  it('puts the next committed commands on the wire without reading the outbox back', async () => {
    const r = rig();
    r.publisher.start();
    const reads = vi.spyOn(r.store, 'unsent');
    r.publisher.sendCommitted(r.commit('cmd/a', 'cmd/b'));
    r.publisher.sendCommitted(r.commit('cmd/c'));
    expect(reads).not.toHaveBeenCalled();
    r.clock.advance(50);
    expect(r.wire).toEqual(['cmd/a', 'cmd/b', 'cmd/c']);
    // Recorded as sent once the bus took them (its acceptances settle as promises): nothing is left to send.
    await new Promise((resolve) => setImmediate(resolve));
    r.clock.advance(50);
    expect(r.store.unsent(10)).toEqual([]);
    r.publisher.stop();
  });

  it('reads the outbox when another writer committed in between, and keeps the outbox order on the wire', () => {
    const r = rig();
    r.publisher.start();
    r.publisher.sendCommitted(r.commit('cmd/a'));
    // Someone else's command, committed without a kick (the resend timer would find it late).
    r.commit('cmd/other');
    const reads = vi.spyOn(r.store, 'unsent');
    r.publisher.sendCommitted(r.commit('cmd/b'));
    expect(reads).toHaveBeenCalled();
    r.clock.advance(50);
    expect(r.wire).toEqual(['cmd/a', 'cmd/other', 'cmd/b']);
    // Caught up again: the next one goes straight.
    reads.mockClear();
    r.publisher.sendCommitted(r.commit('cmd/c'));
    expect(reads).not.toHaveBeenCalled();
    r.clock.advance(50);
    expect(r.wire).toEqual(['cmd/a', 'cmd/other', 'cmd/b', 'cmd/c']);
    r.publisher.stop();
  });

  it('reads the outbox first when it has not yet seen it (rows from before a restart)', () => {
    const r = rig();
    const before = r.commit('cmd/left-over');
    expect(before).toHaveLength(1);
    r.publisher.start();
    r.clock.advance(50);
    const reads = vi.spyOn(r.store, 'unsent');
    r.publisher.sendCommitted(r.commit('cmd/new'));
    expect(reads).not.toHaveBeenCalled();
    r.clock.advance(50);
    expect(r.wire).toEqual(['cmd/left-over', 'cmd/new']);
    r.publisher.stop();
  });

  it('sends nothing while stopped; what is committed stays unsent for the next start', () => {
    const r = rig();
    r.publisher.start();
    r.publisher.stop();
    r.publisher.sendCommitted(r.commit('cmd/a'));
    r.clock.advance(50);
    expect(r.wire).toEqual([]);
    expect(r.store.unsent(10).map((m) => m.topic)).toEqual(['cmd/a']);
  });
});
