/**
 * The Shopify orders/create webhook over real HTTP and SQLite: signature, dedupe on the webhook id,
 * the mapping into an order, and errors that point into the Shopify body.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_TOKEN, orderBody, startHarness, type Harness } from './support/harness.js';

const SECRET = 'shpss_test_0123456789abcdef';
const URL_PATH = '/api/v1/webhooks/shopify/orders-create';

interface ErrorResponse {
  error: { code: string; message: string; details?: { path: string; problem: string }[] };
}
interface OrderView {
  id: string;
  externalId: string;
  channel?: string;
  lines: { sku: string; quantity: number }[];
}

const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body, 'utf8').digest('base64');

/** As Shopify sends it (trimmed): ids above 2^53 in the numbers, exact in the gids. */
function shopifyOrder(orderId: string, lines: { sku: string | null; quantity: number }[]): string {
  // Built as text so the big ids go over the wire exactly as Shopify writes them.
  const order = {
    id: '__ID__',
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: '#1001',
    email: 'jon@example.com',
    created_at: '2024-11-10T10:30:00-05:00',
    currency: 'EUR',
    total_price: '59.99',
    financial_status: 'paid',
    customer: { id: '__CUSTOMER__', admin_graphql_api_id: 'gid://shopify/Customer/115310627314723954', email: 'john@example.com', first_name: 'John', last_name: 'Smith' },
    shipping_address: {
      first_name: 'Steve',
      last_name: 'Shipper',
      name: 'Steve Shipper',
      address1: '1 Dock Road',
      address2: 'Gate 4',
      city: 'Dortmund',
      zip: '44135',
      country: 'Germany',
      country_code: 'DE',
      latitude: 51.51,
      longitude: 7.47,
    },
    line_items: lines.map((l, i) => ({ id: 4878176722 + i, title: `Item ${i}`, sku: l.sku, quantity: l.quantity, price: '9.99', requires_shipping: true })),
  };
  return JSON.stringify(order, null, 2).replace('"__ID__"', orderId).replace('"__CUSTOMER__"', '115310627314723954');
}

describe('Shopify orders/create webhook', () => {
  let h: Harness;
  let skus: string[];
  beforeAll(async () => {
    h = await startHarness({ simulate: false, env: { PICKWIRE_SHOPIFY_WEBHOOK_SECRET: SECRET } });
    skus = [...new Set(h.core.layout.stock.filter((s) => s.onHand > 20).map((s) => s.sku))].slice(0, 2);
    expect(skus).toHaveLength(2);
  });
  afterAll(async () => {
    await h?.stop();
  });

  const deliver = (body: string, headers: Record<string, string | undefined>): Promise<Response> =>
    fetch(`${h.baseUrl}${URL_PATH}`, {
      method: 'POST',
      body,
      headers: Object.fromEntries(
        Object.entries({ 'content-type': 'application/json', 'x-shopify-topic': 'orders/create', 'x-shopify-shop-domain': 'demo.myshopify.com', ...headers }).filter(
          (e): e is [string, string] => e[1] !== undefined,
        ),
      ),
    });
  const ordersWith = async (externalId: string) =>
    ((await (await h.api(`/api/v1/orders?externalId=${externalId}`)).json()) as { items: OrderView[] }).items;

  it('creates the order for a correctly signed delivery, with the Shopify shape mapped', async () => {
    const body = shopifyOrder('9007199254740993123', [
      { sku: skus[0]!, quantity: 2 },
      { sku: skus[1]!, quantity: 1 },
      { sku: skus[0]!, quantity: 1 },
    ]);
    const r = await deliver(body, { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-webhook-id': 'wh-create-1' });
    expect(r.status).toBe(201);
    const created = (await r.json()) as OrderView;
    const found = await ordersWith('9007199254740993123');
    expect(found).toHaveLength(1);
    expect(found[0]?.id).toBe(created.id);
    // Duplicate SKUs merge as for any channel.
    expect(found[0]?.lines.map((l) => [l.sku, l.quantity])).toEqual([
      [skus[0], 3],
      [skus[1], 1],
    ]);
    const stored = h.core.store.getOrder(created.id);
    expect(stored?.channel).toBe('shopify');
    expect(stored?.customerId).toBe('115310627314723954');
    expect(stored?.body.shipTo).toEqual({ name: 'Steve Shipper', line1: '1 Dock Road', line2: 'Gate 4', city: 'Dortmund', postalCode: '44135', country: 'DE', lat: 51.51, lon: 7.47 });
  });

  it('answers a replay of the same webhook id with 200 and the first order, never a second one', async () => {
    const body = shopifyOrder('5940139491234', [{ sku: skus[0]!, quantity: 1 }]);
    const headers = { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-webhook-id': 'wh-replay-1' };
    const first = await deliver(body, headers);
    expect(first.status).toBe(201);
    const a = (await first.json()) as OrderView;
    const again = await deliver(body, headers);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as OrderView).id).toBe(a.id);
    // A burst of retries at once: each is a replay or told to retry (409), none creates an order.
    const burst = await Promise.all(Array.from({ length: 5 }, () => deliver(body, headers)));
    expect(burst.every((x) => x.status === 200 || x.status === 409)).toBe(true);
    expect(await ordersWith('5940139491234')).toHaveLength(1);
  });

  it('refuses a wrong or missing signature with 401 and stores nothing', async () => {
    const body = shopifyOrder('1111', [{ sku: skus[0]!, quantity: 1 }]);
    const cases: Record<string, string | undefined>[] = [
      { 'x-shopify-hmac-sha256': sign(body, 'some-other-secret') },
      { 'x-shopify-hmac-sha256': sign(`${body} `) },
      { 'x-shopify-hmac-sha256': 'not base64 at all' },
      { 'x-shopify-hmac-sha256': undefined },
    ];
    for (const sig of cases) {
      const r = await deliver(body, { ...sig, 'x-shopify-webhook-id': 'wh-unsigned-1' });
      expect(r.status).toBe(401);
      expect(((await r.json()) as ErrorResponse).error.code).toBe('PW_ERR_UNAUTHENTICATED');
    }
    // A bearer token does not stand in for the signature.
    const bearer = await h.api(URL_PATH, { method: 'POST', body, token: CHANNEL_TOKEN, headers: { 'x-shopify-webhook-id': 'wh-unsigned-1' } });
    expect(bearer.status).toBe(401);
    expect(await ordersWith('1111')).toHaveLength(0);
  });

  it('verifies the exact bytes: the same order re-serialised is not what was signed', async () => {
    const body = shopifyOrder('2222', [{ sku: skus[0]!, quantity: 1 }]);
    const compact = JSON.stringify(JSON.parse(body));
    const r = await deliver(compact, { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-webhook-id': 'wh-bytes-1' });
    expect(r.status).toBe(401);
  });

  it('answers a signed order whose line item has no SKU with 422 and the Shopify path', async () => {
    const body = shopifyOrder('3333', [
      { sku: skus[0]!, quantity: 1 },
      { sku: null, quantity: 1 },
    ]);
    const r = await deliver(body, { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-webhook-id': 'wh-nosku-1' });
    expect(r.status).toBe(422);
    const e = (await r.json()) as ErrorResponse;
    expect(e.error.details?.map((d) => d.path)).toEqual(['/line_items/1/sku']);
    expect(await ordersWith('3333')).toHaveLength(0);
  });

  it("reports an unknown SKU at the Shopify line item's path", async () => {
    const body = shopifyOrder('4444', [
      { sku: skus[0]!, quantity: 1 },
      { sku: 'NO-SUCH-SKU', quantity: 1 },
    ]);
    const r = await deliver(body, { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-webhook-id': 'wh-unknown-1' });
    expect(r.status).toBe(422);
    const e = (await r.json()) as ErrorResponse;
    expect(e.error.code).toBe('PW_ERR_UNKNOWN_SKU');
    expect(e.error.details?.map((d) => d.path)).toEqual(['/line_items/1/sku']);
  });

  it('needs the webhook id and the orders/create topic, and a JSON body', async () => {
    const body = shopifyOrder('5555', [{ sku: skus[0]!, quantity: 1 }]);
    const noId = await deliver(body, { 'x-shopify-hmac-sha256': sign(body) });
    expect(noId.status).toBe(400);
    expect(((await noId.json()) as ErrorResponse).error.message).toContain('X-Shopify-Webhook-Id');
    const topic = await deliver(body, { 'x-shopify-hmac-sha256': sign(body), 'x-shopify-webhook-id': 'wh-topic-1', 'x-shopify-topic': 'orders/updated' });
    expect(topic.status).toBe(400);
    const broken = '{"id": 5555, ';
    const bad = await deliver(broken, { 'x-shopify-hmac-sha256': sign(broken), 'x-shopify-webhook-id': 'wh-json-1' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorResponse).error.code).toBe('PW_ERR_MALFORMED_JSON');
    expect(await ordersWith('5555')).toHaveLength(0);
  });

  it('is documented in OpenAPI as taking no bearer token', async () => {
    const doc = (await (await fetch(`${h.baseUrl}/docs/json`)).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.paths[URL_PATH]?.post?.security).toEqual([]);
  });

  it('leaves JSON parsing and bearer auth of every other route as they were', async () => {
    const r = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku: skus[0]!, quantity: 1 }])), token: CHANNEL_TOKEN });
    expect(r.status).toBe(201);
    const anonymous = await fetch(`${h.baseUrl}/api/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
  });
});

describe('Shopify webhook without a configured secret', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ simulate: false });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 503 so Shopify keeps retrying until the secret is set', async () => {
    const body = '{"id": 1}';
    const r = await fetch(`${h.baseUrl}${URL_PATH}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': sign(body, ''), 'x-shopify-webhook-id': 'wh-1' },
    });
    expect(r.status).toBe(503);
    expect(((await r.json()) as ErrorResponse).error.code).toBe('PW_ERR_CHANNEL_NOT_CONFIGURED');
  });
});
