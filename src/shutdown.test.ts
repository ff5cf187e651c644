import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { installShutdown, type ShutdownOptions } from './shutdown.js';

function harness(stop: ShutdownOptions['stop']) {
  const clock = { t: 0 };
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const signals = new EventEmitter();
  const exits: number[] = [];
  const timers: { fn: () => void; ms: number; cleared: boolean }[] = [];
  const handle = installShutdown({
    logger,
    stop,
    timeoutMs: 5000,
    signals,
    exit: (code) => void exits.push(code),
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (t) => {
      (t as { cleared: boolean }).cleared = true;
    },
    now: () => clock.t,
  });
  return { lines, signals, exits, timers, handle, clock };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('installShutdown', () => {
  it('stops once on SIGTERM and exits 0 after a clean stop', async () => {
    const reasons: string[] = [];
    const h = harness((reason) => {
      reasons.push(reason);
      return Promise.resolve();
    });
    h.signals.emit('SIGTERM');
    await h.handle.trigger('again');
    expect(reasons).toEqual(['SIGTERM']);
    expect(h.exits).toEqual([0]);
    expect(h.timers).toHaveLength(1);
    expect(h.timers[0]).toMatchObject({ ms: 5000, cleared: true });
    expect(h.lines.map((l) => l.msg)).toEqual(['shutting down', 'stopped cleanly']);
  });

  it('treats a relayed copy of the same signal as one keypress', () => {
    const h = harness(() => new Promise<void>(() => undefined));
    h.signals.emit('SIGINT');
    h.clock.t = 200;
    h.signals.emit('SIGINT');
    expect(h.exits).toEqual([]);
  });

  it('exits 1 at once on a second signal while stopping', async () => {
    const d = deferred();
    const h = harness(() => d.promise);
    h.signals.emit('SIGINT');
    h.clock.t = 1500;
    h.signals.emit('SIGINT');
    expect(h.exits).toEqual([1]);
    expect(h.lines.some((l) => l.msg === 'second signal during shutdown; exiting now')).toBe(true);
    d.resolve();
    await h.handle.trigger('late');
    // The late clean stop must not produce a second exit.
    expect(h.exits).toEqual([1]);
  });

  it('exits 1 when the stop overruns its timeout', () => {
    const h = harness(() => new Promise<void>(() => undefined));
    h.signals.emit('SIGTERM');
    expect(h.exits).toEqual([]);
    h.timers[0]?.fn();
    expect(h.exits).toEqual([1]);
    expect(h.lines.at(-1)).toMatchObject({ msg: 'graceful shutdown timed out; exiting', level: 50 });
  });

  it('exits 1 and logs the error when stop fails', async () => {
    const h = harness(() => Promise.reject(new Error('store would not close')));
    await h.handle.trigger('fatal');
    expect(h.exits).toEqual([1]);
    expect(h.lines.at(-1)).toMatchObject({ msg: 'shutdown failed', err: { message: 'store would not close' } });
  });

  it('uninstall removes the signal listeners', () => {
    const h = harness(() => Promise.resolve());
    expect(h.signals.listenerCount('SIGTERM')).toBe(1);
    h.handle.uninstall();
    expect(h.signals.listenerCount('SIGTERM')).toBe(0);
    expect(h.signals.listenerCount('SIGINT')).toBe(0);
  });
});
