/**
 * Serves the operator dashboard (`dashboards/web/`) at `/`. The page is public: it holds no data
 * of its own and reads everything through the authenticated API with the operator's token.
 */
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboards/web/', import.meta.url));

export interface StaticOptions {
  root?: string;
}

export const dashboardRoutes: FastifyPluginAsync<StaticOptions> = async (app, opts) => {
  await app.register(fastifyStatic, {
    root: opts.root ?? DASHBOARD_DIR,
    prefix: '/',
    // One route per file found at start instead of a catch-all, so unknown paths (including
    // mistyped API URLs) reach the JSON 404 handler rather than a static-file lookup.
    wildcard: false,
    index: ['index.html'],
    // The page is tiny and changes with the core; revalidate instead of caching stale code.
    cacheControl: true,
    maxAge: 0,
    schemaHide: true,
  });
};
