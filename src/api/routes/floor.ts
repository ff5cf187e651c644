/** Read-only views of the floor: stock positions, devices, tasks and the site (DESIGN §9). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { stockView } from '../../app/queries.js';
import type { DeviceRegistry, DeviceView } from '../../app/device-registry.js';
import { TASK_STATES } from '../../domain/records.js';
import type { SiteLayout } from '../../domain/site-layout.js';
import { PickwireError } from '../../errors.js';
import type { Clock, Store } from '../../ports.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

export interface FloorRouteDeps {
  store: Store;
  registry: DeviceRegistry;
  layout: SiteLayout;
  clock: Clock;
}

export function deviceResource(registry: DeviceRegistry, d: DeviceView, now: number): Record<string, unknown> {
  return {
    id: d.id,
    class: d.class,
    state: registry.status(d, now),
    connection: d.connection,
    manufacturer: d.manufacturer ?? null,
    serialNumber: d.serialNumber ?? null,
    battery: d.battery ?? null,
    charging: d.charging,
    position: d.position ?? null,
    lastNodeId: d.lastNodeId ?? null,
    driving: d.driving,
    task: d.task ?? null,
    /** The nodes traffic control holds for a vehicle now: its reserved path on the floor map. */
    reservedNodes: d.class === 'amr' ? registry.reservedNodes(d.id) : [],
    errors: d.errors,
    supportedActions: d.supportedActions,
    lastSeenAt: d.lastSeenAt === undefined ? null : new Date(d.lastSeenAt).toISOString(),
  };
}

/** Floor views are for people running the site; sales channels have no business here. */
const FLOOR_READERS = { roles: ['viewer', 'operator'] as const };

export function floorRoutes(deps: FloorRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/inventory',
      {
        config: FLOOR_READERS,
        schema: {
          summary: 'Stock positions with available-to-promise (ATP = on hand - reserved - safety stock)',
          tags: ['inventory'],
          querystring: Type.Object({
            sku: Type.Optional(Type.String({ maxLength: 64 })),
            site: Type.Optional(Type.String({ maxLength: 64 })),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            cursor: Type.Optional(Type.String({ maxLength: 300 })),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        const rows = deps.store.listStock({
          limit: q.limit + 1,
          ...(q.sku ? { sku: q.sku } : {}),
          ...(q.site ? { site: q.site } : {}),
          ...(q.cursor ? { after: Buffer.from(q.cursor, 'base64url').toString('utf8') } : {}),
        });
        const page = rows.slice(0, q.limit);
        const last = page.at(-1);
        return {
          items: page.map(stockView),
          nextCursor: rows.length > q.limit && last ? Buffer.from(`${last.site}/${last.location}/${last.sku}`).toString('base64url') : null,
        };
      },
    );

    app.get('/devices', { config: FLOOR_READERS, schema: { summary: 'Every device with its state', tags: ['floor'] } }, async () => {
      const now = deps.clock.now();
      return { items: deps.registry.list().map((d) => deviceResource(deps.registry, d, now)) };
    });

    app.get(
      '/devices/:id',
      { config: FLOOR_READERS, schema: { summary: 'One device', tags: ['floor'], params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }) } },
      async (request) => {
        const d = deps.registry.get(request.params.id);
        if (!d) throw new PickwireError('PW_ERR_NOT_FOUND', `no device ${request.params.id}`);
        return deviceResource(deps.registry, d, deps.clock.now());
      },
    );

    app.get(
      '/tasks',
      {
        config: FLOOR_READERS,
        schema: {
          summary: 'Device tasks in one state, oldest first, a page at a time (nextCursor)',
          tags: ['floor'],
          querystring: Type.Object({
            state: Type.Union(TASK_STATES.map((s) => Type.Literal(s)), { default: 'RUNNING' }),
            // Paged: FINISHED alone holds every task ever done.
            limit: Type.Integer({ minimum: 1, maximum: 5000, default: 1000 }),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        const after = q.cursor ? decodeCursor(q.cursor) : undefined;
        const tasks = deps.store.tasksInStatePage(q.state, q.limit + 1, after);
        const page = tasks.slice(0, q.limit);
        const last = page.at(-1);
        return { items: page, nextCursor: tasks.length > q.limit && last ? encodeCursor(last) : null };
      },
    );

    app.get('/sites', { config: FLOOR_READERS, schema: { summary: 'The site this core runs, with its layout', tags: ['overview'] } }, async () => ({
      items: [{ id: deps.layout.site.id, name: deps.layout.site.name, lat: deps.layout.site.lat, lon: deps.layout.site.lon, layout: deps.layout }],
    }));
  };
}
