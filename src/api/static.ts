/**
 * Serves the operator dashboard at `/`: the Vite build of `dashboards/app/` in `dashboards/dist/`
 * (`npm start` and `npm test` build it first when its sources changed, see dashboards/build.ts).
 * The page is public: it holds no data of its own and reads everything through the authenticated
 * API with the operator's token. Without a build, `/` says how to make one instead of a bare 404.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

export const DASHBOARD_DIR = fileURLToPath(new URL('../../dashboards/dist/', import.meta.url));

export interface StaticOptions {
  root?: string;
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pickwire — dashboard not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Pickwire</h1>
<p>The operator dashboard has not been built. <code>npm start</code> builds it; or run
<code>npm run build:dashboard</code> and restart the core. The API is up under <code>/api/v1</code>,
documented at <a href="/docs">/docs</a>.</p>
</body></html>
`;

export const dashboardRoutes: FastifyPluginAsync<StaticOptions> = async (app, opts) => {
  const root = opts.root ?? DASHBOARD_DIR;
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(NOT_BUILT));
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    // One route per file found at start instead of a catch-all, so unknown paths (including
    // mistyped API URLs) reach the JSON 404 handler rather than a static-file lookup.
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    // Vite names every asset by its content hash: those never change, the page that lists them must revalidate.
    setHeaders: (reply, path) => {
      reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
    schemaHide: true,
  });
};
