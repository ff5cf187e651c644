import { describe, expect, it } from 'vitest';
import type { TelemetryPoint } from '../../ports.js';
import { MemorySink } from './memory-sink.js';

const dev = (device: string, at: number, battery: number): TelemetryPoint => ({
  measurement: 'device',
  tags: { site: 'demo', device, class: 'amr' },
  fields: { battery },
  at,
});

describe('MemorySink', () => {
  it('returns matching points oldest first, filtered by measurement, time and tags', async () => {
    const s = new MemorySink({ capacity: 100 });
    s.write(dev('a', 1000, 90));
    s.write({ measurement: 'orders', tags: { site: 'demo', channel: 'web' }, fields: { accepted: 2 }, at: 1500 });
    s.write(dev('b', 2000, 80));
    s.write(dev('a', 3000, 85));
    s.write({ measurement: 'orders', tags: { site: 'demo', channel: 'shop' }, fields: { accepted: 5 }, at: 3500 });

    expect(s.query({ measurement: 'device' }).map((p) => p.at)).toEqual([1000, 2000, 3000]);
    expect(s.query({ measurement: 'device', tags: { device: 'a' } }).map((p) => p.fields.battery)).toEqual([90, 85]);
    expect(s.query({ measurement: 'device', since: 2000 }).map((p) => p.at)).toEqual([2000, 3000]);
    expect(s.query({ measurement: 'device', since: 1000, until: 3000 }).map((p) => p.at)).toEqual([1000, 2000]);
    expect(s.query({ measurement: 'device', limit: 1 }).map((p) => p.at)).toEqual([3000]);
    expect(s.query({ measurement: 'device', tags: { device: 'a', class: 'arm' } })).toEqual([]);
    expect(s.query({ measurement: 'nothing' })).toEqual([]);
    expect(s.sum('accepted', { measurement: 'orders', since: 0 })).toBe(7);
    expect([...s.latestBy('device', { measurement: 'device' })].map(([d, p]) => [d, p.fields.battery])).toEqual([
      ['a', 85],
      ['b', 80],
    ]);
    await expect(s.flush()).resolves.toBeUndefined();
    await expect(s.close()).resolves.toBeUndefined();
  });

  it('wraps around: keeps the newest `capacity` points in order and counts the overwritten', () => {
    const s = new MemorySink({ capacity: 5 });
    for (let i = 0; i < 3; i++) s.write(dev('a', i, i));
    expect(s.size).toBe(3);
    expect(s.query({ measurement: 'device' }).map((p) => p.at)).toEqual([0, 1, 2]);
    for (let i = 3; i < 12; i++) s.write(dev('a', i, i));
    expect(s.size).toBe(5);
    expect(s.query({ measurement: 'device' }).map((p) => p.at)).toEqual([7, 8, 9, 10, 11]);
    expect(s.query({ measurement: 'device', since: 9, limit: 2 }).map((p) => p.at)).toEqual([10, 11]);
    expect(s.stats).toEqual({ written: 12, dropped: 7, buffered: 5 });
    // Exactly at a multiple of the capacity the order is still oldest first.
    for (let i = 12; i < 15; i++) s.write(dev('a', i, i));
    expect(s.query({ measurement: 'device' }).map((p) => p.at)).toEqual([10, 11, 12, 13, 14]);
  });

  it('defaults to 10k points and rejects a nonsensical capacity', () => {
    expect(new MemorySink().capacity).toBe(10_000);
    expect(() => new MemorySink({ capacity: 0 })).toThrow(RangeError);
  });
});
