/** Cancel an order or one of its lines before SHIPPED (DESIGN §9, issue 3 item 7). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { CancellationService } from '../../app/cancellation.js';

export interface CancellationRouteDeps {
  cancellation: CancellationService;
}

/** The channel that placed the order, or someone on the floor, may cancel it. */
const CANCELERS = { roles: ['channel', 'operator'] as const };
const CancelBody = Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500, description: 'Why; journaled with every compensation' }) });
const OrderId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const LineParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), lineId: Type.String({ minLength: 1, maxLength: 80 }) });
const SEMANTICS =
  'Idempotent: repeating a cancel answers 200 with the current order. Runs the compensations in one durable transaction: tasks not yet dispatched are canceled; running AMR trips get a VDA cancelOrder and running AS/RS, conveyor and arm steps a wcs cancelJob; a retrieved AS/RS bin still returns to storage; the reservation is released, or picked goods are restocked. A line in SHIPPED or DELIVERED is 409 PW_ERR_INVALID_STATE.';

export function cancellationRoutes(deps: CancellationRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/orders/:id/cancel',
      {
        config: CANCELERS,
        schema: {
          summary: 'Cancel every line of an order',
          description: `${SEMANTICS} All or nothing: if any line has shipped, nothing is canceled. When every line is canceled the order becomes CANCELED.`,
          tags: ['orders'],
          params: OrderId,
          body: CancelBody,
        },
      },
      async (request) => deps.cancellation.cancelOrder(request.params.id, request.body.reason, request.principal?.name),
    );

    app.post(
      '/orders/:id/lines/:lineId/cancel',
      {
        config: CANCELERS,
        schema: {
          summary: 'Cancel one line of an order',
          description: `${SEMANTICS} The order becomes CANCELED when this was its last live line.`,
          tags: ['orders'],
          params: LineParams,
          body: CancelBody,
        },
      },
      async (request) => deps.cancellation.cancelLine(request.params.id, request.params.lineId, request.body.reason, request.principal?.name),
    );
  };
}
