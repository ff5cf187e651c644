import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderGenerator, startOrderFeed } from './order-feed.js';
import { generateDemoLayout } from './sites/generate-demo.js';

const layout = generateDemoLayout(1);
const stocked = new Set(layout.stock.filter((s) => s.onHand > 0).map((s) => s.sku));

describe('order feed', () => {
  const received: { url: string; headers: IncomingHttpHeaders; body: unknown }[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString('utf8')));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(data) as unknown });
      // Every third order "runs out of stock", which the feed must count, not throw.
      const reject = received.length % 3 === 0;
      res.writeHead(reject ? 422 : 201, { 'content-type': 'application/json' });
      res.end(reject ? '{"error":{"code":"PW_ERR_INSUFFICIENT_STOCK","message":"no stock"}}' : '{"id":"o"}');
    });
  });
  let baseUrl = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('posts well-formed orders with bearer token and idempotency keys', async () => {
    const warnings: unknown[] = [];
    const feed = startOrderFeed({
      baseUrl,
      token: 'secret-token',
      layout,
      ordersPerMinute: 60_000,
      maxLinesPerOrder: 3,
      maxUnitsPerLine: 3,
      seed: 42,
      maxOrders: 9,
      logger: { info: () => undefined, warn: (...args: unknown[]) => warnings.push(args) },
    });
    await expect.poll(() => feed.stats.accepted + feed.stats.rejected, { timeout: 5000 }).toBe(9);
    await feed.stop();
    expect(feed.stats).toEqual({ sent: 9, accepted: 6, rejected: 3, failed: 0 });
    expect(warnings).toHaveLength(3);
    const keys = received.map((r) => r.headers['idempotency-key']).sort();
    expect(keys).toEqual(Array.from({ length: 9 }, (_, i) => `feed-42-${i + 1}`).sort());
    for (const r of received) {
      expect(r.url).toBe('/api/v1/orders');
      expect(r.headers.authorization).toBe('Bearer secret-token');
      expect(r.body).toMatchObject({
        channel: 'sim-feed',
        externalId: expect.stringMatching(/^SIM-42-\d+$/) as unknown,
        customer: { id: expect.any(String) as unknown, email: expect.stringContaining('@') as unknown },
        shipTo: { name: expect.any(String) as unknown, line1: expect.any(String) as unknown, city: expect.any(String) as unknown, postalCode: expect.any(String) as unknown, country: 'DE' },
      });
    }
  });

  it('draws 1..maxLines distinct stocked SKUs with 1..maxUnits each, reproducibly', () => {
    const gen = createOrderGenerator({ layout, maxLinesPerOrder: 3, maxUnitsPerLine: 3, seed: 5 });
    const counts = new Map<string, number>();
    for (let n = 1; n <= 500; n++) {
      const o = gen(n);
      expect(o.lines.length).toBeGreaterThanOrEqual(1);
      expect(o.lines.length).toBeLessThanOrEqual(3);
      expect(new Set(o.lines.map((l) => l.sku)).size).toBe(o.lines.length);
      for (const l of o.lines) {
        expect(stocked.has(l.sku)).toBe(true);
        expect(l.quantity).toBeGreaterThanOrEqual(1);
        expect(l.quantity).toBeLessThanOrEqual(3);
        counts.set(l.sku, (counts.get(l.sku) ?? 0) + 1);
      }
    }
    expect(createOrderGenerator({ layout, maxLinesPerOrder: 3, maxUnitsPerLine: 3, seed: 5 })(17)).toEqual(gen(17));
    // Zipf-like popularity: the best seller appears far more often than a typical SKU.
    const sorted = [...counts.values()].sort((a, b) => b - a);
    expect(sorted[0] ?? 0).toBeGreaterThan((sorted[Math.floor(sorted.length / 2)] ?? 0) * 5);
  });
});
