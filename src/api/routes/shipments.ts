/** Shipments (issue 4 item 1): read them, and confirm that one left with its carrier or was delivered. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { PackService } from '../../app/pack-service.js';
import { SHIPMENT_STATUSES } from '../../domain/shipment.js';

export interface ShipmentRouteDeps {
  packs: PackService;
}

/** Like orders: the channel that placed an order and people on the floor read its parcels. */
const READERS = { roles: ['channel', 'viewer', 'operator'] as const };
/** Dock staff confirm loading; a carrier integration confirms delivery with an operator token. */
const CONFIRMERS = { roles: ['operator'] as const };
const ShipmentId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const STATES =
  'PACKING (every line the site owes is at the pack station; packed by `packDueAt`) -> PACKED (waits for its carrier, due to leave at `shipDueAt`, the next cut-off) -> SHIPPED -> DELIVERED; CANCELED when its last line is canceled.';

export function shipmentRoutes(deps: ShipmentRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/shipments',
      {
        config: READERS,
        schema: {
          summary: 'List shipments, newest first (or every shipment of one order)',
          description: `One shipment per parcel a site packs from an order's consolidated totes. ${STATES}`,
          tags: ['orders'],
          querystring: Type.Object({
            orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
            status: Type.Optional(Type.Union(SHIPMENT_STATUSES.map((s) => Type.Literal(s)))),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          }),
        },
      },
      async (request) => ({
        items: deps.packs.list({
          limit: request.query.limit,
          ...(request.query.orderId !== undefined ? { orderId: request.query.orderId } : {}),
          ...(request.query.status !== undefined ? { status: request.query.status } : {}),
        }),
      }),
    );

    app.get(
      '/shipments/:id',
      { config: READERS, schema: { summary: 'One shipment', tags: ['orders'], params: ShipmentId } },
      async (request) => deps.packs.get(request.params.id),
    );

    app.post(
      '/shipments/:id/ship',
      {
        config: CONFIRMERS,
        schema: {
          summary: 'Confirm that a packed shipment left with its carrier',
          description:
            'Its lines become SHIPPED (journaled as line.shipped and shipment.shipped with who confirmed). Idempotent: a shipment already SHIPPED or DELIVERED answers 200 as it is. ' +
            'Still PACKING or CANCELED is 409 PW_ERR_INVALID_STATE. Without a confirmation a packed shipment leaves at its carrier cut-off (config shipAtCarrierCutoff).',
          tags: ['orders'],
          params: ShipmentId,
          body: Type.Optional(Type.Object({ trackingNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) })),
        },
      },
      async (request) => deps.packs.ship(request.params.id, request.principal?.name ?? 'unknown', request.body?.trackingNumber !== undefined ? { trackingNumber: request.body.trackingNumber } : {}),
    );

    app.post(
      '/shipments/:id/deliver',
      {
        config: CONFIRMERS,
        schema: {
          summary: 'Confirm that the carrier delivered a shipment',
          description:
            'Its lines become DELIVERED (journaled as line.delivered and shipment.delivered with who confirmed); the order closes once no line is left open. Idempotent: a DELIVERED shipment answers 200 as it is. ' +
            'A shipment that has not shipped yet, or was canceled, is 409 PW_ERR_INVALID_STATE.',
          tags: ['orders'],
          params: ShipmentId,
        },
      },
      async (request) => deps.packs.deliver(request.params.id, request.principal?.name ?? 'unknown'),
    );
  };
}
