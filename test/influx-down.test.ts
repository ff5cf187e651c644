/**
 * InfluxDB going away must not touch the control path (issue 4, item 8): orders are still picked
 * while the write endpoint refuses connections, every point written meanwhile arrives once it is
 * back (within the buffer bound), and exceeding the bound is reported with the number dropped.
 *
 * "Down" is a real refused TCP connection: the sink points at a gate port with nothing listening;
 * "back" is a TCP relay opened on that same port to the local line-protocol receiver. Nothing here
 * is timing-based: the assertions are on what completed and what arrived.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { InfluxSink } from '../src/adapters/telemetry/influx-sink.js';
import { createCore, createLogger, loadConfig, type Core } from '../src/index.js';
import { startSimulatedSite, type SimulatedSite } from '../simulators/index.js';
import { ADMIN_TOKEN, orderBody, scaledClock, waitFor } from './support/harness.js';
import { startReceiver, type Receiver } from './support/influx-receiver.js';

const INFLUX_TOKEN = 'influx-down-test-token-99';

/** JSON log lines captured from a pino logger. */
function captureLog(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { stream, lines };
}

/** A port with nothing listening (refused) until `open()` relays it to `target`. */
async function gate(targetUrl: string): Promise<{ url: string; open(): Promise<void>; close(): Promise<void> }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const target = new URL(targetUrl);
  let relay: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    url: `http://127.0.0.1:${port}`,
    async open() {
      relay = createServer((inbound) => {
        const outbound = new (inbound.constructor as typeof Socket)();
        outbound.connect(Number(target.port), target.hostname);
        for (const s of [inbound, outbound]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        inbound.pipe(outbound).pipe(inbound);
      });
      await new Promise<void>((resolve) => relay!.listen(port, '127.0.0.1', resolve));
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (relay) await new Promise<void>((resolve) => relay!.close(() => resolve()));
      relay = undefined;
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('telemetry while InfluxDB is down', () => {
  it('keeps picking while writes are refused, and delivers every point once InfluxDB is back', async () => {
    const receiver: Receiver = await startReceiver(INFLUX_TOKEN);
    cleanups.push(() => receiver.close());
    const influx = await gate(receiver.url);
    cleanups.push(() => influx.close());
    const log = captureLog();
    const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-influx-down-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const config = loadConfig({
      argv: ['--http-port', '0', '--mqtt-port', '0', '--mqtt-host', '127.0.0.1', '--http-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'info'],
      env: { PICKWIRE_TOKENS: `admin:admin:${ADMIN_TOKEN}`, PICKWIRE_INFLUX_URL: influx.url, PICKWIRE_INFLUX_TOKEN: INFLUX_TOKEN },
    });
    const core: Core = await createCore(config, { logger: createLogger({ level: 'info' }, log.stream) });
    let site: SimulatedSite | undefined;
    let stopped = false;
    cleanups.push(async () => {
      await site?.stop();
      if (!stopped) await core.stop('test cleanup');
    });
    const baseUrl = await core.listen();
    site = await startSimulatedSite({ layout: core.layout, mqttUrl: core.mqttUrl, interfaceName: config.mqttInterface, clock: scaledClock(8) });
    const api = (path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(`${baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });

    // The sink has tried InfluxDB and been refused before the order comes in.
    const refused = (): boolean => log.lines.some((l) => l.msg === 'influx write failed; will retry' && JSON.stringify(l.err).includes('ECONNREFUSED'));
    await waitFor('a refused telemetry write', () => refused() || undefined, 20_000);

    const zoneOf = new Map(core.layout.locations.map((l) => [l.id, l.zone]));
    const sku = core.layout.stock.find((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 2)!.sku;
    const res = await api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku, quantity: 1 }])) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor('the order to be picked with InfluxDB down', async () => ((await (await api(`/api/v1/orders/${id}`)).json()) as { fulfilment: string }).fulfilment === 'PICKED' || undefined, 60_000, 200);
    // Still down the whole time: nothing has reached the receiver.
    expect(receiver.points).toHaveLength(0);
    const cameBackAt = Date.now();
    await influx.open();

    // The retry schedule (1 s, 2 s, 4 s, ...) delivers the backlog; then stop to flush the rest.
    await waitFor('points written while down to arrive', () => receiver.points.some((p) => (p.timestamp ?? Infinity) < cameBackAt) || undefined, 30_000, 200);
    await site.stop();
    site = undefined;
    await core.stop('flush telemetry');
    stopped = true;

    const closed = log.lines.find((l) => l.msg === 'influx telemetry sink closed');
    expect(closed, 'the sink closes cleanly, with nothing left unwritten').toBeDefined();
    expect(closed).toMatchObject({ dropped: 0, failedBatches: 0, buffered: 0, unwrittenAtClose: 0 });
    // Every line the sink wrote is one the receiver parsed: nothing was lost on the way.
    expect(closed!.written).toBe(receiver.points.length);
    const whileDown = receiver.points.filter((p) => (p.timestamp ?? Infinity) < cameBackAt);
    const devices = new Set(whileDown.filter((p) => p.measurement === 'device').map((p) => p.tags.device));
    for (const a of core.layout.devices.amrs) expect(devices).toContain(a.serialNumber);
    const accepted = receiver.points.filter((p) => p.measurement === 'orders').reduce((s, p) => s + Number(p.fields.accepted ?? 0), 0);
    const units = receiver.points.filter((p) => p.measurement === 'lines').reduce((s, p) => s + Number(p.fields.units ?? 0), 0);
    expect(accepted).toBe(1);
    expect(units).toBe(1);
  }, 120_000);

  it('reports points dropped beyond the buffer bound, and delivers the newest that fit once back', async () => {
    const receiver = await startReceiver(INFLUX_TOKEN);
    cleanups.push(() => receiver.close());
    const influx = await gate(receiver.url);
    cleanups.push(() => influx.close());
    const log = captureLog();
    const sink = new InfluxSink({
      url: influx.url,
      token: INFLUX_TOKEN,
      org: 'pickwire',
      bucket: 'pickwire',
      logger: createLogger({ level: 'info' }, log.stream),
      batchSize: 50,
      maxBufferLines: 200,
      flushIntervalMs: 50,
      retryDelayMs: 50,
      maxRetryDelayMs: 200,
      maxRetries: 1000,
    });
    cleanups.push(() => sink.close());

    // write() is synchronous and never throws, down or not.
    for (let i = 0; i < 500; i++) expect(() => sink.write({ measurement: 'device', tags: { site: 's', device: 'd1' }, fields: { seq: i }, at: 1_700_000_000_000 + i })).not.toThrow();
    expect(sink.stats.buffered).toBeLessThanOrEqual(200);
    expect(sink.stats.dropped).toBe(300);
    const full = log.lines.find((l) => l.msg === 'telemetry buffer full: dropping oldest points');
    expect(full).toMatchObject({ maxBufferLines: 200, event: 'telemetry.influx' });

    await waitFor('a refused write', () => log.lines.some((l) => l.msg === 'influx write failed; will retry') || undefined, 10_000, 20);
    await influx.open();
    await waitFor('the buffered points to arrive', () => (receiver.points.length >= 200 ? true : undefined), 20_000, 20);
    await sink.close();

    // Exactly the newest 200, in order, once each.
    expect(receiver.points.map((p) => p.fields.seq)).toEqual(Array.from({ length: 200 }, (_, k) => 300 + k));
    expect(sink.stats).toMatchObject({ written: 200, dropped: 300, buffered: 0 });
    expect(log.lines.find((l) => l.msg === 'influx telemetry sink closed')).toMatchObject({ written: 200, dropped: 300 });
  }, 60_000);
});
