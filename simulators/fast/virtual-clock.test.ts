import { describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/index.js';
import { WcsDevice } from '../../devices/index.js';
import { ARM_ACTIONS } from '../arm.js';
import { runUntil } from './event-loop.js';
import { connectMemoryLink } from './memory-link.js';
import { VirtualClock } from './virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers by due time, then in the order they were set, on both views', () => {
    const clock = new VirtualClock(0);
    const order: string[] = [];
    clock.core.setTimer(10, () => order.push('core@10'));
    clock.sim.setTimer(() => order.push('sim@5'), 5);
    clock.sim.setTimer(() => order.push('sim@10'), 10);
    const cancel = clock.core.setTimer(7, () => order.push('canceled'));
    cancel();
    expect(clock.pending).toBe(3);
    while (clock.fireNext(Infinity));
    expect(order).toEqual(['sim@5', 'core@10', 'sim@10']);
    expect(clock.now()).toBe(10);
  });

  it('never moves time backwards and treats bad delays as zero', () => {
    const clock = new VirtualClock(100);
    const seen: number[] = [];
    clock.core.setTimer(Number.NaN, () => seen.push(clock.now()));
    clock.core.setTimer(-5, () => seen.push(clock.now()));
    while (clock.fireNext(Infinity));
    expect(seen).toEqual([100, 100]);
    expect(clock.fireNext(Infinity)).toBe(false);
  });
});

describe('runUntil', () => {
  it('lets promises settle before the next event', async () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    clock.core.setTimer(10, () => {
      log.push('a');
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => log.push('a settled'));
      setImmediate(() => log.push('a immediate'));
    });
    clock.core.setTimer(20, () => log.push('b'));
    const fired = await runUntil(clock, 100);
    expect(fired).toBe(2);
    expect(log).toEqual(['a', 'a settled', 'a immediate', 'b']);
    expect(clock.now()).toBe(100);
  });

  it('reports ticks at fixed simulated intervals', async () => {
    const clock = new VirtualClock(0);
    const ticks: number[] = [];
    clock.core.setTimer(25, () => undefined);
    await runUntil(clock, 40, { everyMs: 10, onTick: (t) => ticks.push(t) });
    expect(ticks).toEqual([10, 20, 30, 40]);
  });
});

describe('memory link', () => {
  it('carries a wcs/v1 device over the bus and leaves its will when it drops', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 0, 1));
    const bus = new MemoryBus({ clock: clock.core });
    const watcher = bus.connect('watcher');
    const topics: string[] = [];
    watcher.onMessage((t) => topics.push(t));
    await watcher.subscribe(['wcs/v1/#']);
    const opts = { site: 's1', deviceClass: 'arm' as const, deviceId: 'arm-1', model: 'm', supportedActions: ARM_ACTIONS, manufacturer: 'x', now: () => clock.now() };
    const link = connectMemoryLink(bus, 's1-arm-arm-1', WcsDevice.lastWill(opts));
    const device = await WcsDevice.connect({ ...opts, link });
    await runUntil(clock, clock.now() + 100);
    expect(topics.some((t) => t.endsWith('/connection'))).toBe(true);
    expect(topics.some((t) => t.endsWith('/factsheet'))).toBe(true);
    topics.length = 0;
    await link.close(true);
    await runUntil(clock, clock.now() + 100);
    expect(topics.filter((t) => t.endsWith('/connection'))).toHaveLength(1);
    expect(device).toBeDefined();
  });
});
