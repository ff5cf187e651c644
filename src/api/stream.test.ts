import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import type { LiveEvent, Notifier } from '../ports.js';
import { parseTokens } from '../tokens.js';
import { buildApp, type BuildAppOptions, type PickwireApp } from './app.js';
import { createLocalNotifier } from './stream.js';

interface Frame {
  type: 'snapshot' | 'delta';
  at: number;
  data?: unknown;
  events?: LiveEvent[];
}

const apps: PickwireApp[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function listening(stream: BuildAppOptions['stream'] = {}) {
  const notifier = createLocalNotifier();
  const metrics = createMetrics({ processMetrics: false });
  let snapshots = 0;
  const app = buildApp({
    config: loadConfig({ argv: [], env: {}, cwd: mkdtempSync(join(tmpdir(), 'pw-stream-')) }),
    logger: createLogger({ level: 'silent' }),
    tokens: parseTokens('eye:viewer:viewer-token,shop:channel:channel-token'),
    metrics,
    readiness: () => ({ ready: true, reasons: [] }),
    notifier,
    snapshot: () => ({ n: ++snapshots }),
    routes: [],
    now: () => 1_700_000_000_000,
    stream,
  });
  apps.push(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { notifier, metrics, url: `ws://127.0.0.1:${port}/api/v1/stream` };
}

/** Connects and collects frames; `next()` resolves with the next unread frame. */
function connect(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  sockets.push(ws);
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    frames.push(JSON.parse(data.toString('utf8')) as Frame);
    waiters.splice(0).forEach((w) => w());
  });
  let read = 0;
  const next = async (): Promise<Frame> => {
    while (frames.length <= read) await new Promise<void>((resolve) => waiters.push(resolve));
    return frames[read++] as Frame;
  };
  return { ws, next, frames };
}

const event = (type: string, data: Record<string, unknown>): LiveEvent => ({ type, at: 1, data });

describe('WebSocket /api/v1/stream', () => {
  it('sends a snapshot, then the published events as a delta frame', async () => {
    const { notifier, metrics, url } = await listening();
    const c = connect(url, { authorization: 'Bearer viewer-token' });
    const snap = await c.next();
    expect(snap).toEqual({ type: 'snapshot', at: 1_700_000_000_000, data: { n: 1 } });
    expect(await metrics.registry.getSingleMetricAsString('pickwire_ws_clients')).toContain('pickwire_ws_clients 1');

    notifier.publish(event('order.updated', { id: 'o-1', status: 'OPEN' }));
    notifier.publish(event('task.finished', { id: 't-1' }));
    const delta = await c.next();
    expect(delta).toEqual({
      type: 'delta',
      at: 1_700_000_000_000,
      events: [event('order.updated', { id: 'o-1', status: 'OPEN' }), event('task.finished', { id: 't-1' })],
    });
  });

  it('accepts the token as a query parameter (browsers cannot set headers)', async () => {
    const { url } = await listening();
    const c = connect(`${url}?token=viewer-token`);
    expect((await c.next()).type).toBe('snapshot');
  });

  it('refuses the upgrade without a valid token', async () => {
    const { url } = await listening();
    for (const target of [url, `${url}?token=wrong-token`]) {
      const ws = new WebSocket(target);
      sockets.push(ws);
      const status = await new Promise<number>((resolve, reject) => {
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
        });
        ws.on('open', () => reject(new Error('upgrade should have been refused')));
        ws.on('error', () => undefined);
      });
      expect(status).toBe(401);
    }
  });

  it('coalesces *.updated events per entity within one frame, keeping the latest', async () => {
    const { notifier, url } = await listening();
    const c = connect(url, { authorization: 'Bearer viewer-token' });
    await c.next();
    notifier.publish(event('device.updated', { id: 'amr-1', position: { x: 1, y: 0, theta: 0 } }));
    notifier.publish(event('device.updated', { id: 'amr-2', position: { x: 5, y: 5, theta: 0 } }));
    notifier.publish(event('device.updated', { id: 'amr-1', position: { x: 2, y: 0, theta: 0 } }));
    const delta = await c.next();
    expect(delta.events).toEqual([
      event('device.updated', { id: 'amr-1', position: { x: 2, y: 0, theta: 0 } }),
      event('device.updated', { id: 'amr-2', position: { x: 5, y: 5, theta: 0 } }),
    ]);
  });

  it('replaces an overflowing queue with a fresh snapshot', async () => {
    const { notifier, metrics, url } = await listening({ maxQueuedEvents: 3, flushIntervalMs: 50 });
    const c = connect(url, { authorization: 'Bearer viewer-token' });
    expect(await c.next()).toMatchObject({ type: 'snapshot', data: { n: 1 } });
    for (let i = 0; i < 10; i++) notifier.publish(event('task.finished', { id: `t-${i}` }));
    expect(await c.next()).toMatchObject({ type: 'snapshot', data: { n: 2 } });
    notifier.publish(event('task.finished', { id: 't-after' }));
    expect(await c.next()).toMatchObject({ type: 'delta', events: [{ data: { id: 't-after' } }] });
    expect(await metrics.registry.getSingleMetricAsString('pickwire_ws_resyncs_total')).toContain('pickwire_ws_resyncs_total 1');
  });

  it('unsubscribes from the notifier when the client goes away', async () => {
    const base = createLocalNotifier();
    let subscribed = 0;
    const counting: Notifier = {
      publish: (e) => base.publish(e),
      subscribe: (l) => {
        subscribed++;
        const off = base.subscribe(l);
        return () => {
          subscribed--;
          off();
        };
      },
    };
    const app = buildApp({
      config: loadConfig({ argv: [], env: {}, cwd: mkdtempSync(join(tmpdir(), 'pw-stream-')) }),
      logger: createLogger({ level: 'silent' }),
      tokens: parseTokens('eye:viewer:viewer-token'),
      metrics: createMetrics({ processMetrics: false }),
      readiness: () => ({ ready: true, reasons: [] }),
      notifier: counting,
      snapshot: () => ({}),
      routes: [],
    });
    apps.push(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const c = connect(`ws://127.0.0.1:${port}/api/v1/stream?token=viewer-token`);
    await c.next();
    expect(subscribed).toBe(1);
    const closed = new Promise<void>((resolve) => c.ws.once('close', () => resolve()));
    c.ws.close();
    await closed;
    await expect.poll(() => subscribed).toBe(0);
  });
});

describe('createLocalNotifier', () => {
  it('fans out to every listener, survives a throwing one and unsubscribes', () => {
    const errors: unknown[] = [];
    const n = createLocalNotifier((err) => errors.push(err));
    const seen: string[] = [];
    n.subscribe(() => {
      throw new Error('listener bug');
    });
    const off = n.subscribe((e) => seen.push(`a:${e.type}`));
    n.subscribe((e) => seen.push(`b:${e.type}`));
    n.publish(event('x.happened', {}));
    off();
    n.publish(event('y.happened', {}));
    expect(seen).toEqual(['a:x.happened', 'b:x.happened', 'b:y.happened']);
    expect(errors).toHaveLength(2);
  });
});
