/**
 * Intake over real HTTP and SQLite: idempotency and the 4xx catalogue for bad requests.
 * No devices are attached: these are about what the core accepts, not what it executes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_TOKEN, VIEWER_TOKEN, orderBody, startHarness, type Harness } from './support/harness.js';

interface ErrorResponse {
  error: { code: string; message: string; details?: { path: string; problem: string }[] };
}

describe('order intake', () => {
  let h: Harness;
  let sku: string;
  beforeAll(async () => {
    h = await startHarness({ simulate: false });
    sku = h.core.layout.stock.find((s) => s.onHand > 20)!.sku;
  });
  afterAll(async () => {
    await h?.stop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}, token?: string): Promise<Response> =>
    h.api('/api/v1/orders', { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body), ...(token ? { token } : {}) });

  it('creates one order for two posts with the same Idempotency-Key and replays the first response', async () => {
    const body = orderBody([{ sku, quantity: 1 }], { externalId: 'idem-1' });
    const first = await post(body, { 'idempotency-key': 'idem-key-1' }, CHANNEL_TOKEN);
    const second = await post(body, { 'idempotency-key': 'idem-key-1' }, CHANNEL_TOKEN);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const a = (await first.json()) as { id: string };
    const b = (await second.json()) as { id: string };
    expect(b.id).toBe(a.id);
    const list = (await (await h.api('/api/v1/orders?externalId=idem-1')).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
    const reserved = (await (await h.api(`/api/v1/inventory?sku=${sku}`)).json()) as { items: { reserved: number }[] };
    expect(reserved.items.reduce((s, p) => s + p.reserved, 0)).toBe(1);
  });

  it('refuses the same key with a different body (422) and concurrent duplicates never double-create', async () => {
    const r = await post(orderBody([{ sku, quantity: 2 }], { externalId: 'idem-1' }), { 'idempotency-key': 'idem-key-1' });
    expect(r.status).toBe(422);
    expect(((await r.json()) as ErrorResponse).error.code).toBe('PW_ERR_IDEMPOTENCY_MISMATCH');

    const body = orderBody([{ sku, quantity: 1 }], { externalId: 'race-1' });
    const results = await Promise.all(Array.from({ length: 5 }, () => post(body, { 'idempotency-key': 'race-key' })));
    const statuses = results.map((x) => x.status).sort();
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    const list = (await (await h.api('/api/v1/orders?externalId=race-1')).json()) as { items: unknown[] };
    expect(list.items).toHaveLength(1);
  });

  it.each([
    ['malformed JSON', '{"channel": "web", ', 400, 'PW_ERR_MALFORMED_JSON'],
    ['an unknown SKU', orderBody([{ sku: 'NO-SUCH-SKU', quantity: 1 }]), 422, 'PW_ERR_UNKNOWN_SKU'],
    ['a zero quantity', orderBody([{ sku: 'SKU-0001', quantity: 0 }]), 400, 'PW_ERR_VALIDATION'],
    ['no lines', orderBody([]), 400, 'PW_ERR_VALIDATION'],
    ['a missing ship-to city', { ...orderBody([{ sku: 'SKU-0001', quantity: 1 }]), shipTo: { name: 'x', line1: 'y', postalCode: '1', country: 'DE' } }, 400, 'PW_ERR_VALIDATION'],
  ])('answers %s with the right 4xx and a PW_ERR_ code', async (_what, body, status, code) => {
    const r = await post(body);
    expect(r.status).toBe(status);
    const e = (await r.json()) as ErrorResponse;
    expect(e.error.code).toBe(code);
    expect(e.error.message.length).toBeGreaterThan(0);
  });

  it('names the offending field paths', async () => {
    const r = await post(orderBody([{ sku: 'SKU-0001', quantity: 0 }, { sku: 'NOPE', quantity: 1 }]));
    const e = (await r.json()) as ErrorResponse;
    expect(e.error.details?.map((d) => d.path)).toContain('/lines/0/quantity');
  });

  it('answers a missing or wrong token with 401 and a wrong role with 403', async () => {
    const anonymous = await fetch(`${h.baseUrl}/api/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(orderBody([{ sku, quantity: 1 }])) });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as ErrorResponse).error.code).toBe('PW_ERR_UNAUTHENTICATED');
    const wrong = await post(orderBody([{ sku, quantity: 1 }]), {}, 'not-a-real-token-at-all');
    expect(wrong.status).toBe(401);
    const viewer = await post(orderBody([{ sku, quantity: 1 }]), {}, VIEWER_TOKEN);
    expect(viewer.status).toBe(403);
    expect(((await viewer.json()) as ErrorResponse).error.code).toBe('PW_ERR_FORBIDDEN');
    const read = await h.api('/api/v1/orders', { token: VIEWER_TOKEN });
    expect(read.status).toBe(200);
    expect((await h.api('/api/v1/orders', { token: CHANNEL_TOKEN })).status).toBe(200);
    expect((await h.api('/api/v1/devices', { token: CHANNEL_TOKEN })).status).toBe(403);
    expect((await h.api('/api/v1/devices', { token: VIEWER_TOKEN })).status).toBe(200);
  });

  it('returns 404 with a code for an unknown order, and serves health without a token', async () => {
    const r = await h.api('/api/v1/orders/O-99999999');
    expect(r.status).toBe(404);
    expect(((await r.json()) as ErrorResponse).error.code).toBe('PW_ERR_NOT_FOUND');
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
  });

  it('backorders a line when stock is short instead of overselling', async () => {
    const pos = h.core.layout.stock.find((s) => s.onHand > 0 && s.onHand < 1000)!;
    const inv = (await (await h.api(`/api/v1/inventory?sku=${pos.sku}`)).json()) as { items: { atp: number }[] };
    const atp = inv.items.reduce((s, p) => s + p.atp, 0);
    const r = await post(orderBody([{ sku: pos.sku, quantity: atp + 1 }]));
    expect(r.status).toBe(201);
    const o = (await r.json()) as { lines: { state: string }[]; fulfilment: string };
    expect(o.lines[0]?.state).toBe('BACKORDERED');
    expect(o.fulfilment).toBe('BACKORDERED');
  });
});
