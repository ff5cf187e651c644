/**
 * What the dashboard reads besides the stream, against a real core with the simulated site:
 * `GET /me` (so the UI offers only what the role may do), `GET /kpis`, and the built page at `/`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, CHANNEL_TOKEN, VIEWER_TOKEN, orderBody, startHarness, waitFor, type Harness } from '../support/harness.js';
import { ensureDashboardBuilt } from './browser.js';

interface Kpis {
  throughput: { ordersPerHour: number; ordersReceivedPerHour: number; linesPerHour: number; unitsPerHour: number };
  dispatchLatency: { count: number; p50Ms: number | null; p95Ms: number | null; maxMs: number | null };
  orders: { open: number; byState: Record<string, number>; late: number; atRisk: number };
  devices: { total: number; byState: Record<string, number>; byClass: Record<string, Record<string, number>> };
  exceptions: { open: number; byType: Record<string, number> };
  series: { bucketMs: number; buckets: { at: string; linesPicked: number; dispatches: number }[] };
}

describe('dashboard API: /me, /kpis and the page', () => {
  let h: Harness;

  beforeAll(async () => {
    await ensureDashboardBuilt();
    h = await startHarness({ speed: 5 });
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('tells every role who it is', async () => {
    for (const [token, name, role] of [
      [ADMIN_TOKEN, 'admin', 'admin'],
      [VIEWER_TOKEN, 'watcher', 'viewer'],
      [CHANNEL_TOKEN, 'shop', 'channel'],
    ] as const) {
      const res = await h.api('/api/v1/me', { token });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ name, role });
    }
    expect((await h.api('/api/v1/me', { token: 'not-a-token-at-all' })).status).toBe(401);
  });

  it('serves KPIs to the floor, not to sales channels, and counts what the floor does', async () => {
    expect((await h.api('/api/v1/kpis', { token: CHANNEL_TOKEN })).status).toBe(403);
    const before = (await (await h.api('/api/v1/kpis', { token: VIEWER_TOKEN })).json()) as Kpis;
    expect(before.devices.total).toBe(h.core.registry.list().length);
    expect(before.series.buckets).toHaveLength(60);
    const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku: 'SKU-0002', quantity: 1 }], { customer: { id: 'kpi-1' } })) });
    expect(res.status).toBe(201);
    const k = await waitFor('the order to be picked and counted', async () => {
      const now = (await (await h.api('/api/v1/kpis')).json()) as Kpis;
      return now.throughput.linesPerHour >= 1 && now.throughput.ordersPerHour >= 1 ? now : undefined;
    });
    expect(k.throughput.ordersReceivedPerHour).toBeGreaterThanOrEqual(1);
    expect(k.throughput.unitsPerHour).toBeGreaterThanOrEqual(1);
    expect(k.dispatchLatency.count).toBeGreaterThanOrEqual(1);
    expect(k.dispatchLatency.p95Ms).not.toBeNull();
    expect(k.series.buckets.reduce((n, b) => n + b.linesPicked, 0)).toBe(k.throughput.linesPerHour);
    expect(k.orders.late).toBe(0);
    expect(k.devices.byClass.amr).toBeDefined();
  });

  it('serves the built dashboard at /, its hashed assets cached for good and the page revalidated', async () => {
    const page = await fetch(`${h.baseUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    const script = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${h.baseUrl}${script ?? ''}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    // An unread body keeps its connection busy, and the core's close waits for it.
    expect((await js.text()).length).toBeGreaterThan(1000);
    // Unknown paths stay JSON 404s, not the page.
    const missing = await fetch(`${h.baseUrl}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('PW_ERR_ROUTE_NOT_FOUND');
  });
});
