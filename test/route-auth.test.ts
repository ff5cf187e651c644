/**
 * Every route the core registers, found by fastify's onRoute hook rather than listed by hand, is
 * checked against DESIGN §7: under /api/v1 no token and a wrong token get 401, every role the
 * route does not admit gets 403, and an admitted role gets past auth. Outside /api/v1 only the
 * known public routes may exist. A route added tomorrow is covered without touching this file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createCore, createLogger, loadConfig, type Core } from '../src/index.js';
import { rolesFor } from '../src/api/auth.js';
import { canAccess, ROLES, type Role } from '../src/tokens.js';

const TOKENS: Record<Role, string> = {
  admin: 'route-auth-admin-0123456789',
  operator: 'route-auth-operator-0123456789',
  viewer: 'route-auth-viewer-0123456789',
  channel: 'route-auth-channel-0123456789',
};

/** Outside /api/v1 these, and only these, answer without a token (probes, scrapers, docs, dashboard files). */
const PUBLIC = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/docs(\/.*)?$/, /^\/$/, /^\/index\.html$/, /^\/assets\/[^/]+$/];

interface SeenRoute {
  method: string;
  url: string;
  roles: readonly Role[] | undefined;
  selfAuth: boolean;
  websocket: boolean;
}

type ErrorBody = { error: { code: string } };

const concretePath = (url: string) => url.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x');

describe('every route refuses callers without a token or with the wrong role', () => {
  let core: Core;
  let dataDir: string;
  const routes: SeenRoute[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pickwire-route-auth-'));
    const config = loadConfig({
      argv: ['--http-port', '0', '--mqtt-port', '0', '--mqtt-host', '127.0.0.1', '--http-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'error'],
      env: {
        PICKWIRE_TOKENS: ROLES.map((r) => `${r}-user:${r}:${TOKENS[r]}`).join(','),
        PICKWIRE_SHOPIFY_WEBHOOK_SECRET: 'route-auth-shopify-secret',
      },
    });
    core = await createCore(config, { logger: createLogger({ level: 'error' }) });
    core.app.addHook('onRoute', (r: RouteOptions) => {
      const config = (r.config ?? {}) as { roles?: readonly Role[]; auth?: string };
      for (const method of [r.method].flat()) {
        routes.push({ method, url: r.url, roles: config.roles, selfAuth: config.auth === 'self', websocket: (r as { websocket?: boolean }).websocket === true });
      }
    });
    await core.app.ready();
  }, 60_000);

  afterAll(async () => {
    await core?.stop('test done');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const api = () => routes.filter((r) => r.url.startsWith('/api/v1'));
  const inject = (r: SeenRoute, headers: Record<string, string> = {}) =>
    core.app.inject({ method: r.method as 'GET', url: concretePath(r.url), headers, ...(r.method === 'GET' || r.method === 'HEAD' ? {} : { payload: {} }) });

  it('found the routes of every area of DESIGN §9', () => {
    const urls = new Set(api().map((r) => r.url));
    for (const u of ['/api/v1/orders', '/api/v1/orders/:id', '/api/v1/inventory', '/api/v1/holds', '/api/v1/devices', '/api/v1/devices/:id/commands', '/api/v1/tasks', '/api/v1/exceptions', '/api/v1/kpis', '/api/v1/shipments', '/api/v1/shipments/:id/ship', '/api/v1/shipments/:id/deliver', '/api/v1/stream', '/api/v1/webhooks/shopify/orders-create']) {
      expect(urls, u).toContain(u);
    }
    expect(api().length).toBeGreaterThan(20);
  });

  it('keeps everything outside /api/v1 to the known public routes', () => {
    // Public means read-only too: nothing outside /api/v1 takes a write.
    const strays = routes.filter((r) => !r.url.startsWith('/api/v1') && (!PUBLIC.some((p) => p.test(r.url)) || !['GET', 'HEAD'].includes(r.method)));
    expect(strays.map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('answers 401 without a token and with an unknown one', async () => {
    for (const r of api()) {
      for (const headers of [{}, { authorization: 'Bearer not-a-valid-token-at-all' }, { authorization: 'Basic YWRtaW46YWRtaW4=' }] as Record<string, string>[]) {
        const res = await inject(r, headers);
        expect(res.statusCode, `${r.method} ${r.url} ${JSON.stringify(headers)}`).toBe(401);
        if (r.method !== 'HEAD' && !r.selfAuth) expect(res.json<ErrorBody>().error.code).toBe('PW_ERR_UNAUTHENTICATED');
      }
    }
  });

  it('answers 403 to every role a route does not admit, and lets admitted roles past auth', async () => {
    let refusals = 0;
    for (const r of api().filter((x) => !x.selfAuth)) {
      const admitted = rolesFor(r.method, r.roles);
      for (const role of ROLES) {
        const res = await inject(r, { authorization: `Bearer ${TOKENS[role]}` });
        const where = `${r.method} ${r.url} as ${role}`;
        if (canAccess(role, admitted)) {
          expect([401, 403], where).not.toContain(res.statusCode);
        } else {
          refusals++;
          expect(res.statusCode, where).toBe(403);
          if (r.method !== 'HEAD') expect(res.json<ErrorBody>().error.code, where).toBe('PW_ERR_FORBIDDEN');
        }
      }
      // Every write is closed to somebody: no route lets every role change state.
      if (r.method !== 'GET' && r.method !== 'HEAD') expect(ROLES.filter((role) => !canAccess(role, admitted)), `${r.method} ${r.url}`).not.toEqual([]);
    }
    expect(refusals).toBeGreaterThan(30);
  });

  it('does not let a bearer token stand in for the webhook signature', async () => {
    const hooks = api().filter((r) => r.selfAuth);
    expect(hooks.length).toBeGreaterThan(0);
    for (const r of hooks) expect((await inject(r, { authorization: `Bearer ${TOKENS.admin}` })).statusCode, r.url).toBe(401);
  });

  it('refuses the live stream without a token, with a wrong one and to a sales channel', async () => {
    const base = (await core.listen()).replace(/^http/, 'ws');
    const streams = api().filter((r) => r.websocket);
    expect([...new Set(streams.map((r) => r.url))]).toEqual(['/api/v1/stream']);
    const upgrade = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, { headers });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', reject);
      });
    const url = `${base}/api/v1/stream`;
    expect(await upgrade(url)).toBe(401);
    expect(await upgrade(`${url}?token=not-a-valid-token`)).toBe(401);
    expect(await upgrade(url, { authorization: 'Bearer not-a-valid-token' })).toBe(401);
    expect(await upgrade(`${url}?token=${TOKENS.channel}`)).toBe(403);
    expect(await upgrade(`${url}?token=${TOKENS.viewer}`)).toBe(101);
  });
});
