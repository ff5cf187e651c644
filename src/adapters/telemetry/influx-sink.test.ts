import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../logger.js';
import type { TelemetryPoint } from '../../ports.js';
import { InfluxSink, type InfluxSinkOptions } from './influx-sink.js';
import { startReceiver as startInfluxReceiver, parseLine, type Receiver, type Respond } from '../../../test/support/influx-receiver.js';

const startReceiver = (respond?: Respond): Promise<Receiver> => startInfluxReceiver(TOKEN, respond);

describe('line protocol parser (test helper)', () => {
  it('handles escapes, quoted strings and every field type', () => {
    const p = parseLine(String.raw`my\ meas\,x,tag\,k\=1=va\ l\=u\,e,t2=x str="a \"q\" b, c=d",n=-5i,u=7u,f=1.5,e=1e+21,b=t 1700000000123`);
    expect(p).toEqual({
      measurement: 'my meas,x',
      tags: { 'tag,k=1': 'va l=u,e', t2: 'x' },
      fields: { str: 'a "q" b, c=d', n: -5, u: 7, f: 1.5, e: 1e21, b: true },
      types: { str: 'string', n: 'int', u: 'uint', f: 'float', e: 'float', b: 'bool' },
      timestamp: 1700000000123,
    });
    expect(parseLine('m v=1').timestamp).toBeUndefined();
    expect(() => parseLine('m v=abc 1')).toThrow(/bad field value/);
    expect(() => parseLine('m,t= v=1')).toThrow(/empty tag/);
  });
});


const TOKEN = 'tok-s3cr3t-7f1e9c';

/** A URL nothing listens on: connection refused. */
async function deadUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

// ---------------------------------------------------------------------------------------------

const logLines: string[] = [];
const logger = createLogger({ level: 'debug' }, { write: (s: string) => void logLines.push(s) });
const cleanups: (() => Promise<void>)[] = [];

function sink(url: string, extra: Partial<InfluxSinkOptions> = {}): InfluxSink {
  const s = new InfluxSink({ url, token: TOKEN, org: 'acme org', bucket: 'pick&wire', logger, flushIntervalMs: 20, retryDelayMs: 10, ...extra });
  cleanups.push(() => s.close());
  return s;
}

const pt = (i: number, over: Partial<TelemetryPoint> = {}): TelemetryPoint => ({
  measurement: 'device',
  tags: { site: 'demo', device: `amr-${i % 10}`, class: 'amr' },
  fields: { battery: 50 + (i % 50), busy: i % 2 },
  at: 1_700_000_000_000 + i,
  ...over,
});

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
  // Whatever happened, the token never reached a log line.
  expect(logLines.join('\n')).not.toContain(TOKEN);
});

describe('InfluxSink', () => {
  it('writes points with measurement, tags, fields and ms timestamps to the right org and bucket', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const s = sink(rx.url);
    s.write({ measurement: 'device', tags: { site: 'demo', device: 'amr 1,a=b', class: 'amr', state: 'busy' }, fields: { battery: 87.5, x: -3, y: 12.25, busy: 1 }, at: 1_700_000_000_123 });
    s.write({ measurement: 'orders', tags: { site: 'demo', channel: 'shop=eu' }, fields: { accepted: 3 }, at: 1_700_000_001_000 });
    // Non-finite fields are left out; a point with no usable field is dropped.
    s.write({ measurement: 'lines', tags: { site: 'demo', zone: '' }, fields: { picked: 2, units: Number.NaN }, at: 1_700_000_002_000 });
    s.write({ measurement: 'lines', tags: { site: 'demo' }, fields: { picked: Number.POSITIVE_INFINITY }, at: 1_700_000_003_000 });
    await s.flush();

    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]).toMatchObject({ org: 'acme org', bucket: 'pick&wire', precision: 'ms' });
    expect(rx.points).toEqual([
      {
        measurement: 'device',
        tags: { site: 'demo', device: 'amr 1,a=b', class: 'amr', state: 'busy' },
        fields: { battery: 87.5, x: -3, y: 12.25, busy: 1 },
        types: { battery: 'float', x: 'float', y: 'float', busy: 'float' },
        timestamp: 1_700_000_000_123,
      },
      expect.objectContaining({ measurement: 'orders', tags: { site: 'demo', channel: 'shop=eu' }, fields: { accepted: 3 }, timestamp: 1_700_000_001_000 }),
      // An empty tag value is omitted (InfluxDB rejects it).
      expect.objectContaining({ measurement: 'lines', tags: { site: 'demo' }, fields: { picked: 2 }, timestamp: 1_700_000_002_000 }),
    ]);
    expect(s.stats).toEqual({ written: 3, dropped: 1, failedBatches: 0, buffered: 0 });
  });

  it('batches many writes into few requests, on size and on the flush interval', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const s = sink(rx.url, { batchSize: 100, flushIntervalMs: 50 });
    for (let i = 0; i < 1050; i++) s.write(pt(i));
    // Ten full batches go at once; the last 50 wait for the interval, without an explicit flush.
    await until(() => rx.points.length === 1050 && s.stats.written === 1050);
    expect(rx.requests.map((r) => r.lines.length)).toEqual([...Array<number>(10).fill(100), 50]);
    expect(rx.points.map((p) => p.timestamp)).toEqual(Array.from({ length: 1050 }, (_, i) => 1_700_000_000_000 + i));
    expect(s.stats).toMatchObject({ written: 1050, dropped: 0, buffered: 0 });
  });

  it('retries a batch after 500s and delivers it once InfluxDB recovers', async () => {
    const rx = await startReceiver((n) => (n < 2 ? 500 : 204));
    cleanups.push(() => rx.close());
    const s = sink(rx.url, { maxRetries: 3 });
    for (let i = 0; i < 10; i++) s.write(pt(i));
    await until(() => s.stats.written === 10);
    expect(rx.points).toHaveLength(10);
    expect(s.stats).toEqual({ written: 10, dropped: 0, failedBatches: 0, buffered: 0 });
    expect(logLines.some((l) => l.includes('will retry'))).toBe(true);
  });

  it('gives up on a batch after maxRetries, and at once on a non-retriable 400', async () => {
    const rx = await startReceiver(() => 503);
    cleanups.push(() => rx.close());
    let requests = 0;
    rx.respond = () => (requests++, 503);
    const s = sink(rx.url, { maxRetries: 2 });
    for (let i = 0; i < 5; i++) s.write(pt(i));
    await until(() => s.stats.failedBatches === 1);
    expect(requests).toBe(3); // first attempt + 2 retries
    expect(s.stats).toEqual({ written: 0, dropped: 5, failedBatches: 1, buffered: 0 });

    requests = 0;
    rx.respond = () => (requests++, 400);
    s.write(pt(99));
    await until(() => s.stats.failedBatches === 2);
    expect(requests).toBe(1);
    expect(s.stats.dropped).toBe(6);
  });

  it('drops a batch InfluxDB refuses for a bad token without logging the token', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const s = new InfluxSink({ url: rx.url, token: `${TOKEN}-wrong`, org: 'o', bucket: 'b', logger, flushIntervalMs: 20 });
    cleanups.push(() => s.close());
    s.write(pt(1));
    await until(() => s.stats.failedBatches === 1);
    expect(s.stats.dropped).toBe(1);
    expect(logLines.some((l) => l.includes('http-401'))).toBe(true);
  });

  it('with InfluxDB down: write() never throws, the buffer stays bounded, drops are counted, close() is bounded', async () => {
    const s = sink(await deadUrl(), { batchSize: 100, maxBufferLines: 500, maxRetries: 2, closeTimeoutMs: 500 });
    let maxHeld = 0;
    for (let i = 0; i < 5000; i++) {
      s.write(pt(i));
      maxHeld = Math.max(maxHeld, s.stats.buffered);
    }
    expect(maxHeld).toBeLessThanOrEqual(500);
    expect(s.stats.dropped).toBeGreaterThanOrEqual(4500);
    // Let a few attempts fail, then keep writing: still bounded (queue + one batch awaiting retry).
    await new Promise((r) => setTimeout(r, 150));
    for (let i = 0; i < 1000; i++) {
      s.write(pt(i));
      maxHeld = Math.max(maxHeld, s.stats.buffered);
    }
    expect(maxHeld).toBeLessThanOrEqual(500 + 100);
    await s.flush(); // resolves although nothing can be written
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(2000);
    const st = s.stats;
    expect(st.written).toBe(0);
    expect(st.buffered).toBe(0);
    expect(st.dropped).toBe(6000); // every point is accounted for
    s.write(pt(1)); // after close: counted, not thrown
    expect(s.stats.dropped).toBe(6001);
  });

  it('keeps one request in flight against a hung InfluxDB, and close() does not wait for it', async () => {
    const rx = await startReceiver(() => 'hang');
    cleanups.push(() => rx.close());
    const s = sink(rx.url, { batchSize: 100, maxBufferLines: 1000, requestTimeoutMs: 30_000, closeTimeoutMs: 300 });
    for (let i = 0; i < 20_000; i++) s.write(pt(i));
    await until(() => rx.open === 1);
    for (let i = 0; i < 20_000; i++) s.write(pt(i));
    await new Promise((r) => setTimeout(r, 100));
    expect(rx.open).toBe(1);
    expect(s.stats.buffered).toBeLessThanOrEqual(1000 + 100);
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(1500);
    expect(s.stats.dropped).toBeGreaterThanOrEqual(40_000 - 1100);
  });

  it('flushes what is buffered on close when InfluxDB is up', async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const s = sink(rx.url, { flushIntervalMs: 60_000 });
    for (let i = 0; i < 250; i++) s.write(pt(i));
    expect(rx.points).toHaveLength(0);
    await s.close();
    expect(rx.points).toHaveLength(250);
    expect(s.stats).toEqual({ written: 250, dropped: 0, failedBatches: 0, buffered: 0 });
  });
});
