import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { PickwireError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { parseTokens } from '../tokens.js';
import { buildApp, type PickwireApp } from './app.js';
import { createLocalNotifier } from './stream.js';

/** A webhook-like route that proves its caller with a shared secret header, next to an ordinary write. */
const routes: FastifyPluginCallbackTypebox = (app, _opts, done) => {
  app.post(
    '/hooks/signed',
    {
      config: { auth: 'self' },
      preValidation: async (request) => {
        if (request.headers['x-signature'] !== 'good') throw new PickwireError('PW_ERR_UNAUTHENTICATED', 'bad signature');
        request.principal = { name: 'hook', role: 'channel' };
      },
    },
    (request) => ({ principal: request.principal }),
  );
  app.post('/plain', () => ({ ok: true }));
  done();
};

const apps: PickwireApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function build(env: Record<string, string> = {}): PickwireApp {
  const app = buildApp({
    config: loadConfig({ argv: [], env, cwd: mkdtempSync(join(tmpdir(), 'pw-auth-')) }),
    logger: createLogger({ level: 'silent' }),
    tokens: parseTokens('root:admin:admin-token'),
    metrics: createMetrics({ processMetrics: false }),
    readiness: () => ({ ready: true, reasons: [] }),
    notifier: createLocalNotifier(),
    snapshot: () => ({}),
    routes: [routes],
  });
  apps.push(app);
  return app;
}

describe("routes that authenticate themselves (config: { auth: 'self' })", () => {
  it('skip the bearer check and leave authentication to the route', async () => {
    const app = build();
    const ok = await app.inject({ method: 'POST', url: '/api/v1/hooks/signed', headers: { 'x-signature': 'good' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ principal: { name: 'hook', role: 'channel' } });
    const bad = await app.inject({ method: 'POST', url: '/api/v1/hooks/signed', headers: { 'x-signature': 'forged' } });
    expect(bad.statusCode).toBe(401);
    expect(bad.json<{ error: { message: string } }>().error.message).toBe('bad signature');
  });

  it('keep the route check even when bearer auth is disabled for development', async () => {
    const app = build({ PICKWIRE_DEV_AUTH_DISABLED: 'true' });
    const bad = await app.inject({ method: 'POST', url: '/api/v1/hooks/signed' });
    expect(bad.statusCode).toBe(401);
  });

  it('leave every other route fail-closed, matched or not', async () => {
    const app = build();
    const plain = await app.inject({ method: 'POST', url: '/api/v1/plain', headers: { 'x-signature': 'good' } });
    expect(plain.statusCode).toBe(401);
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/hooks/signed/extra', headers: { 'x-signature': 'good' } });
    expect(unknown.statusCode).toBe(401);
    const admin = await app.inject({ method: 'POST', url: '/api/v1/plain', headers: { authorization: 'Bearer admin-token' } });
    expect(admin.statusCode).toBe(200);
  });
});

describe('bearer tokens proven once per header', () => {
  it('authenticates repeated requests from the remembered header, and never remembers a wrong token', async () => {
    let lookups = 0;
    const table = parseTokens('root:admin:admin-token,shop:channel:channel-token');
    const counted = { ...table, lookup: (t: string) => (lookups++, table.lookup(t)) };
    const app = buildApp({
      config: loadConfig({ argv: [], env: {}, cwd: mkdtempSync(join(tmpdir(), 'pw-auth-')) }),
      logger: createLogger({ level: 'silent' }),
      tokens: counted,
      metrics: createMetrics({ processMetrics: false }),
      readiness: () => ({ ready: true, reasons: [] }),
      notifier: createLocalNotifier(),
      snapshot: () => ({}),
      routes: [routes],
    });
    apps.push(app);
    for (let i = 0; i < 3; i++) {
      const ok = await app.inject({ method: 'POST', url: '/api/v1/plain', headers: { authorization: 'Bearer admin-token' } });
      expect(ok.statusCode).toBe(200);
    }
    expect(lookups).toBe(1);
    // A channel token is remembered with its own role: still not allowed on an admin-only write.
    for (let i = 0; i < 2; i++) {
      const forbidden = await app.inject({ method: 'POST', url: '/api/v1/plain', headers: { authorization: 'Bearer channel-token' } });
      expect(forbidden.statusCode).toBe(403);
    }
    expect(lookups).toBe(2);
    for (let i = 0; i < 2; i++) {
      const wrong = await app.inject({ method: 'POST', url: '/api/v1/plain', headers: { authorization: 'Bearer admin-tokeN' } });
      expect(wrong.statusCode).toBe(401);
    }
    expect(lookups).toBe(4);
  });
});
