/**
 * Bad input over HTTP (issue 7, item 4): every route that takes a body, found from the app itself
 * (an onRoute hook, so a new route is fuzzed without touching this file), gets random and
 * damaged bodies through `app.inject`: values valid for its schema, the same with one field made
 * wrong (type, boundary number, huge string, deep nesting, missing, extra, repeated), random
 * JSON, truncated and out-of-range JSON text, random bytes and deep nesting as text, all with a
 * JSON content type. Every answer is a 2xx (the body happened to be valid) or a 4xx with a
 * catalogued PW_ERR_* code naming the problem; never a 5xx. Afterwards the core is healthy and
 * the invariants of DESIGN §4 hold.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/errors.js';
import { damagedJsonText, deepNestingText, fromSchema, hostileValue, mutated, randomBytes, stringsIn } from '../support/fuzz.js';
import { ADMIN_TOKEN, orderBody, startHarness, type Harness } from '../support/harness.js';
import { checkInvariants } from '../support/invariants.js';

const RUNS_PER_ROUTE = Number(process.env.PICKWIRE_FUZZ_RUNS ?? 200);
const SHOPIFY_SECRET = 'fuzz-shopify-secret-0123456789';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

interface BodyRoute {
  method: string;
  url: string;
  bodySchema: unknown;
}

interface Outcome {
  route: string;
  status: number;
  code?: string;
}

/** Bodies a route has no schema for (it parses them itself): a realistic seed to mutate. */
function seedFor(route: BodyRoute, skus: readonly string[]): fc.Arbitrary<unknown> | undefined {
  if (!route.url.includes('/webhooks/shopify/')) return undefined;
  return fc.record({
    id: fc.oneof(fc.nat(), fc.constant(2 ** 60)),
    admin_graphql_api_id: fc.nat().map((n) => `gid://shopify/Order/${n}`),
    email: fc.constantFrom('jon@example.com', 'not-an-email'),
    customer: fc.record({ id: fc.nat(), email: fc.constant('john@example.com') }),
    shipping_address: fc.record({ name: fc.constant('Steve Shipper'), address1: fc.constant('1 Dock Road'), city: fc.constant('Dortmund'), zip: fc.constant('44135'), country_code: fc.constantFrom('DE', 'de', 'XX'), latitude: fc.double({ min: -90, max: 90, noNaN: true }), longitude: fc.double({ min: -180, max: 180, noNaN: true }) }),
    line_items: fc.array(fc.record({ id: fc.nat(), sku: fc.oneof(fc.constantFrom(...skus), fc.constant(null)), quantity: fc.integer({ min: 1, max: 5 }), requires_shipping: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  });
}

/** What one request sends: the raw body (text or bytes). */
function bodyArbitrary(route: BodyRoute, vocabulary: Readonly<Record<string, readonly string[]>>, skus: readonly string[]): fc.Arbitrary<string | Buffer> {
  const valid = seedFor(route, skus) ?? fromSchema(route.bodySchema, vocabulary);
  const json = (a: fc.Arbitrary<unknown>) => a.map((v) => JSON.stringify(v) ?? 'null');
  return fc.oneof(
    { arbitrary: json(valid), weight: 3 },
    { arbitrary: json(mutated(valid)), weight: 6 },
    { arbitrary: json(mutated(mutated(valid))), weight: 2 },
    { arbitrary: damagedJsonText(valid), weight: 3 },
    { arbitrary: json(fc.jsonValue({ maxDepth: 4 })), weight: 1 },
    { arbitrary: json(hostileValue()), weight: 1 },
    { arbitrary: randomBytes(), weight: 1 },
    { arbitrary: deepNestingText(), weight: 1 },
    // Over the body limit: refused before it is parsed.
    { arbitrary: fc.constant(JSON.stringify({ pad: 'p'.repeat(1_100_000) })), weight: 1 },
  );
}

/**
 * Path parameters: mostly ids that exist, of the collection the segment before names (`/orders/:id`
 * takes order ids, `:lineId` line ids), so handlers run; sometimes any id, made-up or hostile ones.
 */
function paramsArbitrary(url: string, ids: ReadonlyMap<string, readonly string[]>): fc.Arbitrary<Record<string, string>> {
  const all = [...new Set([...ids.values()].flat())];
  const names = [...url.matchAll(/([A-Za-z0-9_-]+)\/:([A-Za-z0-9_]+)/g)].map((m) => ({ collection: m[2] === 'lineId' ? 'lines' : (m[1] as string), name: m[2] as string }));
  const valueFor = (collection: string) => {
    const own = ids.get(collection) ?? [];
    return fc.oneof(
      { arbitrary: own.length > 0 ? fc.constantFrom(...own) : fc.constant('none'), weight: 6 },
      { arbitrary: all.length > 0 ? fc.constantFrom(...all) : fc.constant('none'), weight: 1 },
      { arbitrary: fc.string({ minLength: 1, maxLength: 100 }), weight: 1 },
      { arbitrary: fc.constantFrom('0', '-1', '%00', '..', 'x'.repeat(5000), '__proto__'), weight: 1 },
    );
  };
  return fc.record(Object.fromEntries(names.map((n) => [n.name, valueFor(n.collection)])));
}

function fill(url: string, params: Record<string, string>): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, (_, n: string) => encodeURIComponent(params[n] ?? 'x'));
}

describe('fuzzing every HTTP body', () => {
  let h: Harness;
  const routes: BodyRoute[] = [];

  beforeAll(async () => {
    h = await startHarness({
      simulate: false,
      env: { PICKWIRE_SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRET },
      beforeListen: (core) =>
        core.app.addHook('onRoute', (r: RouteOptions) => {
          const methods = Array.isArray(r.method) ? r.method : [r.method];
          for (const method of methods) {
            if (BODY_METHODS.has(method)) routes.push({ method, url: r.url, bodySchema: r.schema?.body });
          }
        }),
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('answers 2xx or a catalogued 4xx, never a 5xx, and leaves the core healthy', async () => {
    const layout = h.core.layout;
    // Routes every deployment has; a missing one means route discovery broke, not that it was removed.
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(expect.arrayContaining(['POST /api/v1/orders', 'POST /api/v1/inventory/receipts', 'POST /api/v1/orders/:id/cancel']));

    // A few real orders first, so path parameters can name orders, lines, holds and tasks that exist.
    const skus = layout.stock.filter((s) => s.onHand > 20).map((s) => s.sku);
    for (const [i, sku] of skus.slice(0, 5).entries()) {
      const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku, quantity: 1 + (i % 3) }])) });
      expect(res.status).toBe(201);
    }
    // Real names for the string properties that refer to something (by property name).
    const vocabulary = { sku: skus, location: layout.locations.map((l) => l.id), site: [layout.site.id], channel: ['web', 'shop'] };
    const gatherIds = async (): Promise<Map<string, string[]>> => {
      const ids = new Map<string, string[]>([['devices', h.core.registry.list().map((d) => d.id)]]);
      // No devices run here, so tasks stay CREATED.
      for (const [collection, query] of [['orders', 'limit=50'], ['holds', 'limit=50'], ['tasks', 'state=CREATED'], ['exceptions', 'limit=50']] as const) {
        const res = await h.api(`/api/v1/${collection}?${query}`);
        if (!res.ok) continue;
        const body = (await res.json()) as { items?: { id: string; lines?: { id: string }[] }[] };
        ids.set(collection, (body.items ?? []).map((i) => i.id));
        if (collection === 'orders') ids.set('lines', [...stringsIn((body.items ?? []).map((o) => o.lines ?? []), new Set(['id']))]);
      }
      return ids;
    };

    const outcomes: Outcome[] = [];
    const bad: string[] = [];
    for (const route of routes) {
      const ids = await gatherIds();
      const signed = route.url.includes('/webhooks/shopify/');
      await fc.assert(
        fc.asyncProperty(
          paramsArbitrary(route.url, ids),
          bodyArbitrary(route, vocabulary, skus),
          fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
          async (params, payload, key) => {
            const url = fill(route.url, params);
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (signed) {
              headers['x-shopify-hmac-sha256'] = createHmac('sha256', SHOPIFY_SECRET).update(payload).digest('base64');
              headers['x-shopify-webhook-id'] = `fuzz-${Math.random().toString(36).slice(2)}`;
              headers['x-shopify-topic'] = 'orders/create';
            } else {
              headers.authorization = `Bearer ${ADMIN_TOKEN}`;
            }
            if (key !== undefined && /^[\x21-\x7e]+$/.test(key)) headers['idempotency-key'] = key;
            const res = await h.core.app.inject({ method: route.method as 'POST', url, headers, payload });
            const text = res.body;
            let code: string | undefined;
            if (res.statusCode >= 400) {
              const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
              code = parsed.error?.code;
              const entry = code !== undefined ? (ERROR_CATALOG as Record<string, { status: number }>)[code] : undefined;
              if (!entry || entry.status !== res.statusCode || !parsed.error?.message) bad.push(`${route.method} ${url.slice(0, 200)}: ${res.statusCode} ${text.slice(0, 300)}`);
            }
            outcomes.push({ route: `${route.method} ${route.url}`, status: res.statusCode, ...(code ? { code } : {}) });
            if (res.statusCode >= 500) {
              const sent = Buffer.isBuffer(payload) ? `<${payload.length} random bytes>` : payload.slice(0, 400);
              throw new Error(`${route.method} ${url.slice(0, 200)} answered ${res.statusCode}: ${text.slice(0, 400)}\nbody sent: ${sent}`);
            }
            return res.statusCode < 500 && (res.statusCode < 300 || res.statusCode >= 400);
          },
        ),
        { numRuns: RUNS_PER_ROUTE },
      );
    }
    expect(bad, 'every 4xx carries a catalogued code with its own status and a message').toEqual([]);

    // Still healthy, ready, and consistent.
    expect((await h.core.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await h.core.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const report = await checkInvariants((path) => h.api(path));
    expect(report.problems).toEqual([]);
    const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku: skus[0]!, quantity: 1 }])) });
    expect(res.status, 'intake still takes a good order').toBe(201);

    const byStatus = new Map<string, number>();
    for (const o of outcomes) byStatus.set(String(o.status), (byStatus.get(String(o.status)) ?? 0) + 1);
    const byCode = new Map<string, number>();
    for (const o of outcomes) if (o.code) byCode.set(o.code, (byCode.get(o.code) ?? 0) + 1);
    console.log(
      `[fuzz-http] routes=${routes.length} requests=${outcomes.length} 2xx=${outcomes.filter((o) => o.status < 300).length} 4xx=${outcomes.filter((o) => o.status >= 400).length} 5xx=0 ` +
        `orders=${report.orders.length} byStatus=${JSON.stringify(Object.fromEntries(byStatus))} byCode=${JSON.stringify(Object.fromEntries(byCode))}\n` +
        `[fuzz-http] routes: ${routes.map((r) => `${r.method} ${r.url}`).join(', ')}`,
    );
    expect(outcomes.length).toBe(routes.length * RUNS_PER_ROUTE);
    // The valid-for-schema bodies must get through sometimes, or the fuzzing only exercised the validator.
    expect(outcomes.some((o) => o.status < 300)).toBe(true);
  });
});
