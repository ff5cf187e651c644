import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { LightMyRequestResponse } from 'fastify';
import Type from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { PickwireError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { parseTokens } from '../tokens.js';
import { buildApp, type BuildAppOptions, type PickwireApp } from './app.js';
import type { Readiness } from './health.js';
import { createLocalNotifier } from './stream.js';

const TOKENS = 'shop:channel:channel-token,ops:operator:operator-token,eye:viewer:viewer-token,root:admin:admin-token';
const auth = (role: string) => ({ authorization: `Bearer ${role}-token` });

const widgetRoutes: FastifyPluginCallbackTypebox = (app, _opts, done) => {
  app.post(
    '/widgets',
    {
      config: { roles: ['channel', 'operator'] },
      schema: {
        body: Type.Object(
          {
            lines: Type.Array(Type.Object({ sku: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) }), {
              minItems: 1,
            }),
            priority: Type.Integer({ default: 5 }),
          },
          { additionalProperties: false },
        ),
      },
    },
    (request, reply) => reply.code(201).send({ principal: request.principal, body: request.body }),
  );
  app.get(
    '/widgets',
    { schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) }) } },
    (request) => ({ limit: request.query.limit, principal: request.principal }),
  );
  app.delete('/widgets/:id', () => ({ deleted: true }));
  app.get('/boom', () => {
    throw new Error('secret internal detail at /srv/db.sqlite');
  });
  app.get('/gone', () => {
    throw new PickwireError('PW_ERR_NOT_FOUND', 'no order o-1');
  });
  done();
};

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; problem: string }[] };
}
const errorOf = (res: LightMyRequestResponse) => res.json<ErrorBody>().error;
interface WidgetBody {
  principal: unknown;
  body: unknown;
  limit: number;
}
const widget = (res: LightMyRequestResponse) => res.json<WidgetBody>();

interface Harness {
  app: PickwireApp;
  logs: Record<string, unknown>[];
  setReady(r: Readiness): void;
  setAccepting(v: boolean): void;
}

const apps: PickwireApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function harness(overrides: Partial<BuildAppOptions> = {}, env: Record<string, string> = {}): Harness {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  let ready: Readiness = { ready: true, reasons: [] };
  let accepting = true;
  const app = buildApp({
    config: loadConfig({ argv: [], env, cwd: mkdtempSync(join(tmpdir(), 'pw-app-')) }),
    logger,
    tokens: parseTokens(TOKENS),
    metrics: createMetrics({ processMetrics: false }),
    readiness: () => ready,
    notifier: createLocalNotifier(),
    snapshot: () => ({ devices: [] }),
    routes: [widgetRoutes],
    isAcceptingWork: () => accepting,
    ...overrides,
  });
  apps.push(app);
  return {
    app,
    logs,
    setReady: (r) => {
      ready = r;
    },
    setAccepting: (v) => {
      accepting = v;
    },
  };
}

describe('health, readiness and metrics', () => {
  it('answers /healthz and /readyz without a token', async () => {
    const h = harness();
    const health = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });

    h.setReady({ ready: false, reasons: ['broker not connected', 'site not loaded'] });
    const notReady = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: 'not_ready', reasons: ['broker not connected', 'site not loaded'] });
  });

  it('reports unready while shutting down', async () => {
    const h = harness();
    h.setAccepting(false);
    const res = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not_ready', reasons: ['shutting down'] });
  });

  it('serves Prometheus text that counts HTTP requests by route pattern', async () => {
    const h = harness();
    await h.app.inject({ method: 'GET', url: '/api/v1/widgets', headers: auth('viewer') });
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('pickwire_http_requests_total{route="/api/v1/widgets",method="GET",status="200"} 1');
  });
});

describe('authentication and roles', () => {
  it('401 without a token or with a wrong one, in the error shape', async () => {
    const h = harness();
    for (const headers of [{}, { authorization: 'Bearer nope-nope-nope' }, { authorization: 'Basic abc' }]) {
      const res = await h.app.inject({ method: 'GET', url: '/api/v1/widgets', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(errorOf(res).code).toBe('PW_ERR_UNAUTHENTICATED');
    }
  });

  it('cannot be bypassed by percent-encoding the prefix', async () => {
    const h = harness();
    for (const url of ['/%61pi/v1/widgets', '/api/%761/widgets', '/api/v1/%77idgets']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(401);
    }
  });

  it('does not take a token from the query string of a plain HTTP request', async () => {
    const h = harness();
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/widgets?token=viewer-token' });
    expect(res.statusCode).toBe(401);
  });

  it('403 when the role is not allowed; declared roles and the hierarchy apply', async () => {
    const h = harness();
    const body = { lines: [{ sku: 'A', quantity: 1 }] };
    const viewer = await h.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: auth('viewer'), payload: body });
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json()).toEqual({
      error: { code: 'PW_ERR_FORBIDDEN', message: 'role viewer may not POST /api/v1/widgets; allowed: channel, operator' },
    });
    const channel = await h.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: auth('channel'), payload: body });
    expect(channel.statusCode).toBe(201);
    expect(widget(channel).principal).toEqual({ name: 'shop', role: 'channel' });
    const admin = await h.app.inject({ method: 'POST', url: '/api/v1/widgets', headers: auth('admin'), payload: body });
    expect(admin.statusCode).toBe(201);
  });

  it('makes undeclared writes admin-only and undeclared reads open to every role', async () => {
    const h = harness();
    const op = await h.app.inject({ method: 'DELETE', url: '/api/v1/widgets/1', headers: auth('operator') });
    expect(op.statusCode).toBe(403);
    const admin = await h.app.inject({ method: 'DELETE', url: '/api/v1/widgets/1', headers: auth('admin') });
    expect(admin.json()).toEqual({ deleted: true });
    const read = await h.app.inject({ method: 'GET', url: '/api/v1/widgets', headers: auth('channel') });
    expect(read.statusCode).toBe(200);
  });

  it('acts as a dev admin when auth is explicitly disabled, and says so loudly', async () => {
    const h = harness({}, { PICKWIRE_DEV_AUTH_DISABLED: 'true' });
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/widgets' });
    expect(widget(res).principal).toEqual({ name: 'dev', role: 'admin' });
    expect(h.logs.some((l) => l.level === 40 && String(l.msg).startsWith('AUTHENTICATION IS DISABLED'))).toBe(true);
  });
});

describe('errors', () => {
  it('404s unknown routes in the catalog shape, inside and outside the API', async () => {
    const h = harness();
    const api = await h.app.inject({ method: 'GET', url: '/api/v1/nothing-here?x=1', headers: auth('viewer') });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: { code: 'PW_ERR_ROUTE_NOT_FOUND', message: 'no route GET /api/v1/nothing-here' } });
    const post = await h.app.inject({ method: 'POST', url: '/api/v1/nothing-here', headers: auth('viewer'), payload: {} });
    expect(post.statusCode).toBe(404);
    expect(errorOf(await h.app.inject({ method: 'GET', url: '/nope' })).code).toBe('PW_ERR_ROUTE_NOT_FOUND');
  });

  it('400 PW_ERR_MALFORMED_JSON for broken or empty JSON bodies', async () => {
    const h = harness();
    const headers = { ...auth('admin'), 'content-type': 'application/json' };
    const broken = await h.app.inject({ method: 'POST', url: '/api/v1/widgets', headers, payload: '{"lines": [' });
    expect(broken.statusCode).toBe(400);
    expect(errorOf(broken).code).toBe('PW_ERR_MALFORMED_JSON');
    const empty = await h.app.inject({ method: 'POST', url: '/api/v1/widgets', headers, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(errorOf(empty).code).toBe('PW_ERR_MALFORMED_JSON');
  });

  it('400 PW_ERR_VALIDATION with one detail per offending field', async () => {
    const h = harness();
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/v1/widgets',
      headers: auth('admin'),
      payload: { lines: [{ sku: '', quantity: 0 }, { sku: 'B' }], colour: 'red' },
    });
    expect(res.statusCode).toBe(400);
    const error = errorOf(res);
    expect(error.code).toBe('PW_ERR_VALIDATION');
    expect(error.details).toEqual(
      expect.arrayContaining([
        { path: '/colour', problem: 'is not allowed' },
        { path: '/lines/0/sku', problem: 'must not have fewer than 1 characters' },
        { path: '/lines/0/quantity', problem: 'must be >= 1' },
        { path: '/lines/1/quantity', problem: 'is required' },
      ]),
    );
    expect(error.details).toHaveLength(4);
    expect(error.message).toMatch(/^invalid body: /);
  });

  it('applies schema defaults, converts query strings and validates them', async () => {
    const h = harness();
    const created = await h.app.inject({
      method: 'POST',
      url: '/api/v1/widgets',
      headers: auth('admin'),
      payload: { lines: [{ sku: 'A', quantity: 2 }] },
    });
    expect(widget(created).body).toEqual({ lines: [{ sku: 'A', quantity: 2 }], priority: 5 });
    const list = (q: string) => h.app.inject({ method: 'GET', url: `/api/v1/widgets${q}`, headers: auth('viewer') });
    expect(widget(await list('')).limit).toBe(50);
    expect(widget(await list('?limit=7')).limit).toBe(7);
    const bad = await list('?limit=abc');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad)).toMatchObject({ code: 'PW_ERR_VALIDATION', details: [{ path: '/limit' }] });
    expect(errorOf(bad).message).toMatch(/^invalid query string/);
  });

  it('413 for a body over 1 MiB and 415 for a body that is not JSON', async () => {
    const h = harness();
    const big = await h.app.inject({
      method: 'POST',
      url: '/api/v1/widgets',
      headers: { ...auth('admin'), 'content-type': 'application/json' },
      payload: JSON.stringify({ lines: [{ sku: 'x'.repeat(1024 * 1024), quantity: 1 }] }),
    });
    expect(big.statusCode).toBe(413);
    expect(errorOf(big).code).toBe('PW_ERR_BODY_TOO_LARGE');
    const text = await h.app.inject({
      method: 'POST',
      url: '/api/v1/widgets',
      headers: { ...auth('admin'), 'content-type': 'text/csv' },
      payload: 'a,b',
    });
    expect(text.statusCode).toBe(415);
    expect(errorOf(text).code).toBe('PW_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('maps a PickwireError to its status and hides everything else behind a logged 500', async () => {
    const h = harness();
    const gone = await h.app.inject({ method: 'GET', url: '/api/v1/gone', headers: auth('viewer') });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: { code: 'PW_ERR_NOT_FOUND', message: 'no order o-1' } });
    const boom = await h.app.inject({ method: 'GET', url: '/api/v1/boom', headers: auth('viewer') });
    expect(boom.statusCode).toBe(500);
    expect(errorOf(boom).code).toBe('PW_ERR_INTERNAL');
    expect(boom.body).not.toContain('secret');
    const logged = h.logs.find((l) => l.msg === 'unhandled error') as { err: { stack: string }; component: string } | undefined;
    expect(logged?.component).toBe('http');
    expect(logged?.err.stack).toContain('secret internal detail');
  });

  it('refuses writes with 503 PW_ERR_SHUTTING_DOWN once shutdown starts, but still serves reads', async () => {
    const h = harness();
    h.setAccepting(false);
    const post = await h.app.inject({
      method: 'POST',
      url: '/api/v1/widgets',
      headers: auth('admin'),
      payload: { lines: [{ sku: 'A', quantity: 1 }] },
    });
    expect(post.statusCode).toBe(503);
    expect(post.headers['retry-after']).toBe('5');
    expect(errorOf(post).code).toBe('PW_ERR_SHUTTING_DOWN');
    expect((await h.app.inject({ method: 'GET', url: '/api/v1/widgets', headers: auth('viewer') })).statusCode).toBe(200);
  });
});

interface OpenApiDoc {
  openapi: string;
  components: { securitySchemes: Record<string, unknown> };
  paths: Record<string, Record<string, { security?: unknown }>>;
}

describe('docs, dashboard and request ids', () => {
  it('serves the OpenAPI document and Swagger UI at /docs', async () => {
    const h = harness();
    const ui = await h.app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(ui.statusCode);
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDoc>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/widgets', '/healthz', '/readyz', '/metrics']));
    expect(doc.paths['/healthz']?.get?.security).toEqual([]);
  });

  it('serves the dashboard page at /', async () => {
    const h = harness();
    const res = await h.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('Pickwire');
    // The Vite build names its scripts by content hash; without a build the page says how to make one.
    for (const [, src] of res.body.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)) {
      const js = await h.app.inject({ method: 'GET', url: src ?? '' });
      expect(js.statusCode).toBe(200);
      expect(js.headers['content-type']).toMatch(/javascript/);
    }
  });

  it('echoes an incoming x-request-id', async () => {
    const h = harness();
    const res = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'req-42' } });
    expect(res.headers['x-request-id']).toBe('req-42');
  });
});
