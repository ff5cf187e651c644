/** `GET /kpis`: the dashboard's header figures and charts (issue 6). See src/app/kpis.ts for what each counts. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { KpiService } from '../../app/kpis.js';

export interface KpiRouteDeps {
  kpis: KpiService;
}

const DESCRIPTION = [
  'Rates over the last hour (or since the core started, see `window.since`), counted from live events:',
  '`throughput.ordersPerHour` orders whose every live line was picked (or that closed), `ordersReceivedPerHour` orders accepted,',
  '`linesPerHour` / `unitsPerHour` lines picked; `dispatchLatency` the time from a task becoming dispatchable (its creation, or the end of',
  "the line's previous step) to its dispatch, as p50/p95/max. `orders.byState` open orders by derived fulfilment; `orders.late` open orders",
  'whose earliest undelivered line promise has passed, `orders.atRisk` those due within `atRiskWithinMinutes`; `devices.byState` as',
  '`GET /devices` shows them; `exceptions.byType` open exceptions. `series` has one bucket per minute of the window, oldest first.',
].join(' ');

export function kpiRoutes(deps: KpiRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/kpis',
      {
        config: { roles: ['viewer', 'operator'] },
        schema: { summary: 'Throughput, dispatch latency, open and late orders, devices and exceptions at a glance', description: DESCRIPTION, tags: ['overview'] },
      },
      async () => deps.kpis.kpis(),
    );
  };
}
