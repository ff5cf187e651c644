/**
 * Liveness, readiness and Prometheus metrics, outside `/api/v1` and without auth: load balancers,
 * orchestrators and Prometheus scrape them with no credentials. They reveal no business data.
 */
import Type from 'typebox';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type { Metrics } from '../metrics.js';

export interface Readiness {
  ready: boolean;
  /** Why the core is not ready, e.g. `store not open`, `broker not connected`, `site not loaded`. */
  reasons: string[];
}

export interface HealthOptions {
  readiness: () => Readiness;
  metrics: Metrics;
  /** False while shutting down: the core reports itself unready so traffic drains away. */
  isAcceptingWork: () => boolean;
}

const Ready = Type.Object({ status: Type.Literal('ready') });
const NotReady = Type.Object({ status: Type.Literal('not_ready'), reasons: Type.Array(Type.String()) });

export const healthRoutes: FastifyPluginCallbackTypebox<HealthOptions> = (app, opts, done) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process is up and serving',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: store open, broker connected, site loaded, not shutting down',
        security: [],
        response: { 200: Ready, 503: NotReady },
      },
    },
    (_request, reply) => {
      const r = opts.readiness();
      const reasons = opts.isAcceptingWork() || r.reasons.includes('shutting down') ? r.reasons : ['shutting down', ...r.reasons];
      if (r.ready && reasons.length === 0) {
        void reply.code(200).send({ status: 'ready' as const });
        return;
      }
      void reply.code(503).send({ status: 'not_ready' as const, reasons: reasons.length ? reasons : ['not ready'] });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['ops'], summary: 'Prometheus metrics (text exposition format)', security: [] } },
    async (_request, reply) => {
      const text = await opts.metrics.registry.metrics();
      return reply.type(opts.metrics.registry.contentType).send(text);
    },
  );
  done();
};
