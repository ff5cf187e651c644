/** Holds (DESIGN §3 and §9, issue 3 item 3): list, release and reject. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { HoldsService } from '../../app/holds-service.js';
import { HOLD_STATUSES } from '../../domain/records.js';

export interface HoldRouteDeps {
  holds: HoldsService;
}

const HoldId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export function holdsRoutes(deps: HoldRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/holds',
      {
        config: { roles: ['viewer', 'operator'] },
        schema: {
          summary: 'List holds, oldest first',
          description: 'Holds are records on an order (type fraud, payment, address, inventory or manual). An open hold keeps the order\'s reservation but blocks its release to the floor.',
          tags: ['holds'],
          querystring: Type.Object({
            status: Type.Optional(Type.Union(HOLD_STATUSES.map((s) => Type.Literal(s)))),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          }),
        },
      },
      async (request) => ({ items: deps.holds.list({ limit: request.query.limit, ...(request.query.status ? { status: request.query.status } : {}) }) }),
    );

    app.post(
      '/holds/:id/release',
      {
        config: { roles: ['operator'] },
        schema: {
          summary: 'Release a hold',
          description:
            'Marks the hold released (who, when, note), journaled as hold.released; when the order has no other open hold its sourced lines are released to the floor. Repeating it answers 200 with the hold; a rejected hold is 409 PW_ERR_INVALID_STATE.',
          tags: ['holds'],
          params: HoldId,
          body: Type.Object({ note: Type.Optional(Type.String({ maxLength: 500 })) }),
        },
      },
      async (request) => deps.holds.release(request.params.id, request.body.note, request.principal?.name),
    );

    app.post(
      '/holds/:id/reject',
      {
        config: { roles: ['operator'] },
        schema: {
          summary: 'Reject a hold and cancel its order',
          description:
            'Marks the hold rejected, journaled as hold.rejected, and cancels the order with its compensations (reservations released), in one transaction. Repeating it answers 200 with the hold; a released hold is 409 PW_ERR_INVALID_STATE.',
          tags: ['holds'],
          params: HoldId,
          body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }),
        },
      },
      async (request) => deps.holds.reject(request.params.id, request.body.reason, request.principal?.name),
    );
  };
}
