import { describe, expect, it } from 'vitest';
import type { Clock } from '../../ports.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryTransport } from './memory-transport.js';
import { topicMatches, validFilter } from './topic-match.js';

/** A minimal virtual clock: timers fire when `run` is called, in due order, then set order. */
function testClock(): Clock & { run(untilMs?: number): void } {
  let now = 1000;
  let seq = 0;
  const timers: { at: number; seq: number; fn: () => void; dead: boolean }[] = [];
  return {
    now: () => now,
    setTimer(ms, fn) {
      const t = { at: now + ms, seq: seq++, fn, dead: false };
      timers.push(t);
      return () => {
        t.dead = true;
      };
    },
    run(untilMs = Infinity) {
      for (;;) {
        const live = timers.filter((t) => !t.dead && t.at <= untilMs).sort((a, b) => a.at - b.at || a.seq - b.seq);
        const t = live[0];
        if (t === undefined) return;
        t.dead = true;
        now = Math.max(now, t.at);
        t.fn();
      }
    },
  };
}

describe('topic filters', () => {
  it('matches + as one level and # as the rest', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/d')).toBe(false);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('#', 'x/y')).toBe(true);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });

  it('rejects malformed filters', () => {
    expect(validFilter('a/#/b')).toBe(false);
    expect(validFilter('a/b+')).toBe(false);
    expect(validFilter('')).toBe(false);
    expect(validFilter('a/+/#')).toBe(true);
  });
});

describe('MemoryBus', () => {
  it('delivers a copy of the encoded bytes after the latency, in publish order', () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock, latencyMs: 5 });
    const a = bus.connect('a');
    const b = bus.connect('b');
    const got: [string, string, number][] = [];
    b.onMessage((t, p) => got.push([t, p.toString(), clock.now()]));
    void b.subscribe(['site/+/state']);
    const payload = Buffer.from('one');
    void a.publish('site/x/state', payload, { qos: 1 });
    void a.publish('site/y/state', 'two', { qos: 0 });
    void a.publish('site/y/other', 'ignored', { qos: 0 });
    payload.write('ONE');
    expect(got).toEqual([]);
    clock.run();
    expect(got).toEqual([
      ['site/x/state', 'one', 1005],
      ['site/y/state', 'two', 1005],
    ]);
  });

  it('keeps what one subscriber does to its bytes from every other copy, retained ones included', () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock });
    const pub = bus.connect('pub');
    const first = bus.connect('first');
    const second = bus.connect('second');
    const seen: string[] = [];
    first.onMessage((_t, p) => p.write('XX'));
    second.onMessage((_t, p) => seen.push(`second ${p.toString()}`));
    void first.subscribe(['a/#']);
    void second.subscribe(['a/shared']);
    void pub.publish('a/shared', 'ok', { qos: 1 });
    void pub.publish('a/kept', 'ok', { qos: 1, retain: true });
    clock.run();
    const late = bus.connect('late');
    late.onMessage((t, p) => seen.push(`late ${t}=${p.toString()}`));
    void late.subscribe(['a/kept']);
    clock.run();
    expect(seen).toEqual(['second ok', 'late a/kept=ok']);
  });

  it('keeps retained messages for later subscribers and clears them with an empty payload', () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock });
    const pub = bus.connect('pub');
    void pub.publish('core/state', 'online', { qos: 1, retain: true });
    void pub.publish('gone/state', 'x', { qos: 1, retain: true });
    void pub.publish('gone/state', '', { qos: 1, retain: true });
    clock.run();
    const late = bus.connect('late');
    const got: string[] = [];
    late.onMessage((t, p) => got.push(`${t}=${p.toString()}`));
    void late.subscribe(['#']);
    clock.run();
    expect(got).toEqual(['core/state=online']);
  });

  it('publishes the last will on an abrupt close only', () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock });
    const watcher = bus.connect('watcher');
    const got: string[] = [];
    watcher.onMessage((_t, p) => got.push(p.toString()));
    void watcher.subscribe(['dev/+/connection']);
    bus.connect('d1', { topic: 'dev/d1/connection', payload: 'BROKEN', qos: 1, retain: true }).end(false);
    bus.connect('d2', { topic: 'dev/d2/connection', payload: 'BROKEN', qos: 1, retain: true }).end(true);
    clock.run();
    expect(got).toEqual(['BROKEN']);
    expect(bus.retainedOf('dev/d2/connection')?.toString()).toBe('BROKEN');
  });

  it('drops deliveries to a client that disconnected before they fell due (clean session)', async () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock });
    const sub = bus.connect('sub');
    const got: string[] = [];
    sub.onMessage((_t, p) => got.push(p.toString()));
    await sub.subscribe(['t']);
    await bus.connect('pub').publish('t', 'x', { qos: 1 });
    sub.end(false);
    clock.run();
    expect(got).toEqual([]);
    expect(bus.stats.dropped).toBe(1);
    await expect(sub.publish('t', 'y', { qos: 1 })).rejects.toThrow(/disconnected/);
  });

  it('expires messages not delivered within their expiry', () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock, latencyMs: 2000 });
    const sub = bus.connect('sub');
    const got: string[] = [];
    sub.onMessage((_t, p) => got.push(p.toString()));
    void sub.subscribe(['t']);
    void bus.connect('pub').publish('t', 'stale', { qos: 1, expirySeconds: 1 });
    void bus.connect('pub2').publish('t', 'fresh', { qos: 1, expirySeconds: 5 });
    clock.run();
    expect(got).toEqual(['fresh']);
  });

  it('counts a throwing handler and keeps delivering to the others', () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock });
    const errors: string[] = [];
    bus.onHandlerError = (_err, id, topic) => errors.push(`${id}:${topic}`);
    const bad = bus.connect('bad');
    bad.onMessage(() => {
      throw new Error('boom');
    });
    void bad.subscribe(['t']);
    const good = bus.connect('good');
    const got: string[] = [];
    good.onMessage((_t, p) => got.push(p.toString()));
    void good.subscribe(['t']);
    void good.publish('t', 'x', { qos: 0 });
    clock.run();
    expect(got).toEqual(['x']);
    expect(errors).toEqual(['bad:t']);
    expect(bus.stats.handlerErrors).toBe(1);
  });

  it('rejects wildcard topics on publish and bad filters on subscribe', async () => {
    const bus = new MemoryBus({ clock: testClock() });
    const c = bus.connect('c');
    await expect(c.publish('a/+', 'x', { qos: 0 })).rejects.toThrow(/invalid MQTT topic/);
    await expect(c.subscribe(['a/#/b'])).rejects.toThrow(/invalid MQTT topic filter/);
  });
});

describe('MemoryTransport', () => {
  it('is the core side of the bus and says goodbye before it disconnects', async () => {
    const clock = testClock();
    const bus = new MemoryBus({ clock });
    const core = new MemoryTransport({ bus, clientId: 'core' });
    const device = bus.connect('device');
    const atDevice: string[] = [];
    device.onMessage((t, p) => atDevice.push(`${t}=${p.toString()}`));
    await device.subscribe(['core/#']);
    const atCore: string[] = [];
    core.onMessage((t, p) => atCore.push(`${t}=${p.toString()}`));
    await core.subscribe(['dev/+/state'], 1);
    await device.publish('dev/d1/state', '{"ok":true}', { qos: 1 });
    expect(core.connected).toBe(true);
    await core.close({ beforeDisconnect: () => core.publish('core/state', 'offline', { qos: 1, retain: true }) });
    expect(core.connected).toBe(false);
    clock.run();
    expect(atCore).toEqual([]);
    expect(atDevice).toEqual(['core/state=offline']);
  });
});
