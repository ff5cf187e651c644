import { describe, expect, it } from 'vitest';
import { MemorySink } from '../adapters/telemetry/memory-sink.js';
import { DeviceRegistry, type DeviceView } from './device-registry.js';
import { TelemetryRecorder } from './telemetry-recorder.js';

/** A device as the registry would hold it after hearing from it. */
function view(over: Partial<DeviceView> = {}): DeviceView {
  const base = new DeviceRegistry({ watchdogMs: 15_000 }).declare('amr-1', 'amr', { manufacturer: 'acme', serialNumber: 'amr-1' });
  return {
    ...base,
    connection: 'ONLINE',
    lastSeenAt: 0,
    stateSeenAt: 0,
    battery: 80,
    position: { x: 0, y: 0, theta: 0, mapId: 'floor' },
    lastNodeId: 'n1',
    ...over,
  };
}

function setup(opts: { deviceIntervalMs?: number; counterIntervalMs?: number; maxTagValues?: number } = {}) {
  let t = 1_000_000;
  const sink = new MemorySink();
  const rec = new TelemetryRecorder({ sink, site: 'demo', now: () => t, ...opts });
  return { sink, rec, advance: (ms: number) => (t += ms), now: () => t };
}

describe('TelemetryRecorder — devices', () => {
  it('writes a `device` point with the tags and fields the dashboard reads', () => {
    const { sink, rec, now } = setup();
    expect(rec.recordDevice(view({ battery: 77.5, position: { x: 3, y: 4, theta: 0, mapId: 'floor' }, errors: ['e'] }), 'busy', { queue: 2 })).toBe(true);
    expect(sink.query({ measurement: 'device' })).toEqual([
      {
        measurement: 'device',
        tags: { site: 'demo', device: 'amr-1', class: 'amr', state: 'busy' },
        fields: { battery: 77.5, x: 3, y: 4, busy: 1, charging: 0, errors: 1, queue: 2 },
        at: now(),
      },
    ]);
  });

  it('throttles to one point per device per interval unless the status changes', () => {
    const { sink, rec, advance } = setup({ deviceIntervalMs: 1000 });
    const a = view();
    const b = view({ id: 'asrs-1', class: 'asrs', position: undefined, battery: undefined });
    expect(rec.recordDevice(a, 'idle')).toBe(true);
    expect(rec.recordDevice(b, 'idle')).toBe(true); // other devices are throttled separately
    for (let i = 0; i < 9; i++) {
      advance(100);
      expect(rec.recordDevice(a, 'idle')).toBe(false);
    }
    advance(50);
    expect(rec.recordDevice(a, 'busy')).toBe(true); // status change goes through at once
    expect(rec.recordDevice(a, 'busy')).toBe(false);
    advance(999);
    expect(rec.recordDevice(a, 'busy')).toBe(false);
    advance(1);
    expect(rec.recordDevice(a, 'busy')).toBe(true);
    const states = sink.query({ measurement: 'device', tags: { device: 'amr-1' } }).map((p) => [p.at - 1_000_000, p.tags.state, p.fields.busy]);
    expect(states).toEqual([
      [0, 'idle', 0],
      [950, 'busy', 1],
      [1950, 'busy', 1],
    ]);
    expect(rec.stats).toEqual({ devicePoints: 4, deviceThrottled: 11, counterPoints: 0 });
  });

  it('derives speed from successive positions, and leaves out values that are not current', () => {
    const { sink, rec, advance } = setup();
    rec.recordDevice(view({ position: { x: 0, y: 0, theta: 0, mapId: 'floor' } }), 'busy');
    advance(2000);
    rec.recordDevice(view({ position: { x: 3, y: 0, theta: 0, mapId: 'floor' } }), 'busy');
    advance(1000);
    rec.recordDevice(view({ position: { x: 3, y: 0, theta: 0, mapId: 'floor' } }), 'busy', { speed: 0.7 });
    advance(1000);
    rec.recordDevice(view({ position: { x: 9, y: 9, theta: 0, mapId: 'other-map' } }), 'busy');
    advance(1000);
    // Offline: battery and position are last known, not current; only busy=0 and the state tag.
    rec.recordDevice(view({ connection: 'OFFLINE' }), 'offline');
    const pts = sink.query({ measurement: 'device' });
    expect(pts.map((p) => p.fields.speed)).toEqual([undefined, 1.5, 0.7, undefined, undefined]);
    expect(pts[4]).toMatchObject({ tags: { state: 'offline' }, fields: { busy: 0 } });
    expect(Object.keys(pts[4]?.fields ?? {})).toEqual(['busy']);
  });
});

describe('TelemetryRecorder — orders and lines', () => {
  it('aggregates into one point per key per interval, emitted by tick()', () => {
    const { sink, rec, advance, now } = setup({ counterIntervalMs: 10_000 });
    for (let i = 0; i < 5; i++) rec.recordOrderAccepted('web');
    rec.recordOrderAccepted('shopify');
    rec.recordLinePicked('A', 3);
    rec.recordLinePicked('A', 2);
    rec.recordLinePicked(undefined, 1);
    advance(9_999);
    rec.tick();
    expect(sink.size).toBe(0);
    advance(1);
    rec.tick();
    const at = now();
    expect(sink.query({ measurement: 'orders' })).toEqual([
      { measurement: 'orders', tags: { site: 'demo', channel: 'web' }, fields: { accepted: 5 }, at },
      { measurement: 'orders', tags: { site: 'demo', channel: 'shopify' }, fields: { accepted: 1 }, at },
    ]);
    expect(sink.query({ measurement: 'lines' })).toEqual([
      { measurement: 'lines', tags: { site: 'demo', zone: 'A' }, fields: { picked: 2, units: 5 }, at },
      { measurement: 'lines', tags: { site: 'demo', zone: 'none' }, fields: { picked: 1, units: 1 }, at },
    ]);

    // The next interval: counts start over, and a quiet key reports 0 rather than a gap.
    rec.recordOrderAccepted('web');
    advance(5_000);
    rec.tick();
    expect(sink.size).toBe(4);
    advance(5_000);
    rec.tick();
    expect(sink.query({ measurement: 'orders', since: now() }).map((p) => [p.tags.channel, p.fields.accepted])).toEqual([
      ['web', 1],
      ['shopify', 0],
    ]);
    expect(sink.sum('accepted', { measurement: 'orders' })).toBe(7);
    expect(sink.sum('units', { measurement: 'lines' })).toBe(6);
  });

  it('flushCounters() writes a partial interval (shutdown) and the next interval starts there', () => {
    const { sink, rec, advance } = setup({ counterIntervalMs: 10_000 });
    rec.recordOrderAccepted('web');
    advance(3_000);
    rec.flushCounters();
    expect(sink.query({ measurement: 'orders' }).map((p) => p.fields.accepted)).toEqual([1]);
    advance(9_000);
    rec.tick();
    expect(sink.size).toBe(1);
    advance(1_000);
    rec.tick();
    expect(sink.size).toBe(2);
  });

  it('caps distinct channel and zone values so outside input cannot explode series', () => {
    const { sink, rec, advance } = setup({ counterIntervalMs: 1000, maxTagValues: 3 });
    for (let i = 0; i < 50; i++) rec.recordOrderAccepted(`channel-${i}`);
    rec.recordOrderAccepted('channel-1');
    advance(1000);
    rec.tick();
    expect(sink.query({ measurement: 'orders' }).map((p) => [p.tags.channel, p.fields.accepted])).toEqual([
      ['channel-0', 1],
      ['channel-1', 2],
      ['channel-2', 1],
      ['other', 47],
    ]);
  });
});
