/** Order intake and order reads (DESIGN §9). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { OrderInputSchema } from '../../domain/order-input.js';
import { PickwireError } from '../../errors.js';
import type { OrderIntake } from '../../app/intake.js';
import type { EtaService } from '../../app/eta-service.js';
import { orderView, timelineView } from '../../app/queries.js';
import { checkOnlyValidator } from './check-only-validator.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { Store } from '../../ports.js';

export interface OrderRouteDeps {
  intake: OrderIntake;
  store: Store;
  /** Live ETAs for `GET /orders/:id`; without it the order's `eta` is null. */
  etas?: Pick<EtaService, 'etaOf'>;
}

/** A channel reads the orders it submits; people on the floor read them all. */
const ORDER_READERS = { roles: ['channel', 'viewer', 'operator'] as const };
const OrderId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function orderRoutes(deps: OrderRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/orders',
      {
        config: { roles: ['channel', 'operator'] },
        // The body and header schemas have no defaults and nothing to convert: checking is enough.
        validatorCompiler: checkOnlyValidator,
        schema: {
          summary: 'Submit an order',
          description:
            'Idempotent per `Idempotency-Key` header (or the channel\'s externalId): the same key with the same body replays the first response; a different body is 422; while the first is in flight, 409. Acknowledged (201) only once durable.',
          tags: ['orders'],
          headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
          body: OrderInputSchema,
        },
      },
      async (request, reply) => {
        const key = request.headers['idempotency-key'];
        const result = await deps.intake.submit(request.body, typeof key === 'string' ? key : undefined, request.principal?.name);
        if (result.replayed) reply.header('idempotent-replayed', 'true');
        // Serialised once by intake, for the idempotency record and this reply alike.
        return reply.code(result.statusCode).type('application/json; charset=utf-8').send(result.json);
      },
    );

    app.get(
      '/orders',
      {
        config: ORDER_READERS,
        schema: {
          summary: 'List orders, newest first',
          tags: ['orders'],
          querystring: Type.Object({
            status: Type.Optional(Type.String({ maxLength: 32, description: 'Header status (OPEN, CLOSED, ...) or derived fulfilment (PICKED, ...)' })),
            externalId: Type.Optional(Type.String({ maxLength: 128 })),
            customer: Type.Optional(Type.String({ maxLength: 128 })),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        const before = q.cursor ? decodeCursor(q.cursor) : undefined;
        const orders = deps.store.listOrders({
          limit: q.limit + 1,
          ...(q.status ? { status: q.status } : {}),
          ...(q.externalId ? { externalId: q.externalId } : {}),
          ...(q.customer ? { customer: q.customer } : {}),
          ...(before ? { before } : {}),
        });
        const page = orders.slice(0, q.limit);
        const lines = deps.store.linesOfOrders(page.map((o) => o.id));
        const byOrder = new Map<string, typeof lines>();
        for (const l of lines) byOrder.set(l.orderId, [...(byOrder.get(l.orderId) ?? []), l]);
        const last = page.at(-1);
        return {
          items: page.map((o) => orderView(o, byOrder.get(o.id) ?? [], deps.store.holdsOf(o.id))),
          nextCursor: orders.length > q.limit && last ? encodeCursor(last) : null,
        };
      },
    );

    app.get('/orders/:id', { config: ORDER_READERS, schema: { summary: 'One order with its lines', tags: ['orders'], params: OrderId } }, async (request) => {
      const order = deps.store.getOrder(request.params.id);
      if (!order) throw new PickwireError('PW_ERR_NOT_FOUND', `no order ${request.params.id}`);
      return orderView(order, deps.store.linesOf(order.id), deps.store.holdsOf(order.id), deps.etas?.etaOf(order.id) ?? null);
    });

    app.get(
      '/orders/:id/timeline',
      { config: ORDER_READERS, schema: { summary: 'Every journaled event of the order, its lines and tasks, in order', tags: ['orders'], params: OrderId } },
      async (request) => {
        const order = deps.store.getOrder(request.params.id);
        if (!order) throw new PickwireError('PW_ERR_NOT_FOUND', `no order ${request.params.id}`);
        return { orderId: order.id, events: timelineView(deps.store.orderEvents(order.id)) };
      },
    );
  };
}
