/**
 * The HTTP side of the core: one fastify instance with the TypeBox type provider, OpenAPI at
 * `/docs`, bearer auth under `/api/v1`, health and metrics, the live stream and the dashboard.
 * `buildApp` never listens; tests drive it with `app.inject`, `src/main.ts` calls `listen`.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type {
  FastifyPluginAsyncTypebox,
  FastifyPluginCallbackTypebox,
  TypeBoxTypeProvider,
} from '@fastify/type-provider-typebox';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginCallback,
  type FastifySchemaCompiler,
  type FastifySchemaValidationError,
  type RawServerDefault,
} from 'fastify';
import type { Logger } from 'pino';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import type { Config } from '../config.js';
import { PickwireError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import type { Notifier } from '../ports.js';
import type { TokenTable } from '../tokens.js';
import { API_PREFIX, installAuth, isApiRequest } from './auth.js';
import { frameworkErrors, installErrorHandling, sendError } from './error-handler.js';
import { healthRoutes, type Readiness } from './health.js';
import { dashboardRoutes } from './static.js';
import { streamRoutes } from './stream.js';

/** The instance route modules receive: `export const orderRoutes: FastifyPluginAsyncTypebox = async (app) => {...}`. */
export type PickwireApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;
export type PickwireRoutes = FastifyPluginAsyncTypebox | FastifyPluginCallbackTypebox | FastifyPluginAsync | FastifyPluginCallback;

export interface BuildAppOptions {
  config: Config;
  logger: Logger;
  tokens: TokenTable;
  metrics: Metrics;
  readiness: () => Readiness;
  notifier: Notifier;
  /** What a new stream client sees first; called once per connection and per resync. */
  snapshot: () => unknown;
  /** Route plugins, each registered under `/api/v1`. */
  routes: readonly PickwireRoutes[];
  /** False once shutdown starts: writes under /api/v1 get 503 PW_ERR_SHUTTING_DOWN. */
  isAcceptingWork?: () => boolean;
  /** Time source for stream frames; defaults to the system clock. */
  now?: () => number;
  /** Overrides for tests; the defaults suit a dashboard on a LAN. */
  stream?: { flushIntervalMs?: number; maxBufferedBytes?: number; maxQueuedEvents?: number; heartbeatMs?: number };
  /** Directory served at `/`; defaults to the dashboard build, `dashboards/dist/`. */
  dashboardDir?: string;
}

export const BODY_LIMIT = 1024 * 1024;

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * TypeBox's own compiler instead of Ajv: Ajv's fastify defaults silently strip unknown body
 * properties, where a client with a typo deserves a 400 naming the field. Bodies are checked as
 * sent (no string-to-number coercion); query, params and headers are strings on the wire and are
 * converted. Defaults are applied everywhere, as Ajv's `useDefaults` would.
 */
const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  return (input: unknown) => {
    const converted = httpPart === 'body' ? input : Value.Convert(schema, input);
    const value = Value.Default(schema, converted);
    if (check.Check(value)) return { value };
    return { error: [...check.Errors(value)] as unknown as FastifySchemaValidationError[] };
  };
};

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function buildApp(opts: BuildAppOptions): PickwireApp {
  const log = opts.logger.child({ component: 'http' });
  const isAcceptingWork = opts.isAcceptingWork ?? (() => true);
  const app = Fastify({
    // HTTPS when a certificate is configured (DESIGN §7); the dashboard, API and /metrics alike.
    ...(opts.config.tls ? { https: { cert: readFileSync(opts.config.tls.certFile), key: readFileSync(opts.config.tls.keyFile) } } : {}),
    loggerInstance: log,
    bodyLimit: BODY_LIMIT,
    requestIdHeader: 'x-request-id',
    // Per-request lines are at debug below; at info they would drown the control path's logs.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as PickwireApp;

  app.setValidatorCompiler(validatorCompiler);
  installErrorHandling(app);
  installAuth(app, { tokens: opts.tokens, devAuthDisabled: opts.config.devAuthDisabled, logger: opts.logger });

  app.addHook('onRequest', async (request, reply) => {
    if (WRITE_METHODS.has(request.method) && isApiRequest(request) && !isAcceptingWork()) {
      return sendError(reply, new PickwireError('PW_ERR_SHUTTING_DOWN', 'the core is shutting down; retry against another instance or later'));
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    // A WebSocket upgrade answered with plain HTTP (401, 404, ...) leaves a socket node no longer
    // manages; without this it stays half-open and blocks a graceful close of the server.
    if (request.headers.upgrade?.toLowerCase() === 'websocket') request.raw.socket.destroySoon();
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    opts.metrics.httpRequests.inc({ route, method: request.method, status });
    opts.metrics.httpRequestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    request.log.debug({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  });

  installRateLimit(app, opts.config.httpRateLimitPerSecond);

  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Pickwire API',
        version: VERSION,
        description: 'Real-time execution core for automated warehouses. Every /api/v1 route takes `Authorization: Bearer <token>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  void app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  void app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  void app.register(healthRoutes, { readiness: opts.readiness, metrics: opts.metrics, isAcceptingWork });
  void app.register(streamRoutes, {
    prefix: API_PREFIX,
    notifier: opts.notifier,
    snapshot: opts.snapshot,
    logger: opts.logger,
    metrics: opts.metrics,
    ...(opts.now ? { now: opts.now } : {}),
    ...opts.stream,
  });
  for (const routes of opts.routes) void app.register(routes, { prefix: API_PREFIX });
  void app.register(dashboardRoutes, opts.dashboardDir ? { root: opts.dashboardDir } : {});

  return app;
}

/**
 * Per-token rate limit under /api/v1 (DESIGN §7): keyed by the authenticated principal, not the
 * address, so one runaway integration cannot starve the others behind the same proxy or NAT.
 * Route-level onRequest hooks run after the root's auth hook, so the principal is known here;
 * a request without one (the signed Shopify webhook) is keyed by its address. Health, metrics,
 * docs and the dashboard files are not limited: a scraper or a reload storm must not lock an
 * operator out of the API.
 */
function installRateLimit(app: PickwireApp, perSecond: number): void {
  if (perSecond <= 0) return;
  void app.register(fastifyRateLimit, {
    max: perSecond,
    timeWindow: 1000,
    allowList: (request) => !isApiRequest(request),
    // Never the token itself: this key is stored and passed to hooks that may log it.
    keyGenerator: (request) => (request.principal ? `principal:${request.principal.role}:${request.principal.name}` : `address:${request.ip}`),
    errorResponseBuilder: (_request, ctx) =>
      new PickwireError('PW_ERR_RATE_LIMITED', `more than ${ctx.max} requests per second for this token; retry in ${ctx.after}`),
  });
}
