/** Receipts, adjustments and available-to-promise (DESIGN §9). `GET /inventory` lives in floor.ts. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ADJUSTMENT_REASONS, type InventoryService } from '../../app/inventory-service.js';

export interface InventoryRouteDeps {
  inventory: InventoryService;
}

/** Stock moves are floor work: operators (and admins) only. */
const STOCK_WRITERS = { roles: ['operator'] as const };
/** Channels ask for promise dates; people on the floor look too. */
const PROMISE_READERS = { roles: ['channel', 'viewer', 'operator'] as const };

const Ref = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const Site = Type.Optional(Ref('Site id; defaults to the site this core runs'));
const Location = Ref('Storage location id from the site layout');
const Sku = Ref('SKU from the catalogue');

const ReceiptBody = Type.Object(
  {
    site: Site,
    location: Location,
    sku: Sku,
    quantity: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Units received (> 0)' }),
    reason: Type.String({ minLength: 1, maxLength: 200, description: 'Why the goods arrived, e.g. `purchase-order`, `return`, `transfer`' }),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'External document, e.g. the purchase order or ASN number' })),
  },
  { additionalProperties: false },
);

const AdjustmentBody = Type.Object(
  {
    site: Site,
    location: Location,
    sku: Sku,
    delta: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, description: 'Change of on hand, non-zero; negative removes units' }),
    reason: Type.Union(
      ADJUSTMENT_REASONS.map((r) => Type.Literal(r)),
      { description: `One of ${ADJUSTMENT_REASONS.join(', ')}` },
    ),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Free text for the journal' })),
  },
  { additionalProperties: false },
);

const STOCK_CHANGE_DESCRIPTION =
  'Answers 201 with the resulting stock position `{ sku, site, location, zone, onHand, reserved, safetyStock, atp }` plus `resourced`: the backordered lines this change sourced again (oldest promise first). ' +
  'Journaled with the actor, the reason and the resulting figures in the same transaction as the change. Unknown SKU, location or site: 422 with the field paths.';

export function inventoryRoutes(deps: InventoryRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/inventory/receipts',
      {
        config: STOCK_WRITERS,
        schema: {
          summary: 'Receive goods into a storage location',
          description: `Raises on hand, creating the stock position when the SKU is not yet kept at that location. ${STOCK_CHANGE_DESCRIPTION}`,
          tags: ['inventory'],
          body: ReceiptBody,
        },
      },
      async (request, reply) => {
        const b = request.body;
        const result = deps.inventory.receive(
          { site: b.site, location: b.location, sku: b.sku, quantity: b.quantity, reason: b.reason, reference: b.reference },
          request.principal.name,
        );
        return reply.code(201).send({ ...result.position, resourced: result.resourced });
      },
    );

    app.post(
      '/inventory/adjustments',
      {
        config: STOCK_WRITERS,
        schema: {
          summary: 'Correct on hand with a reason (count, damage, loss, found, correction, other)',
          description: `Refused with 409 PW_ERR_INVALID_STATE, changing nothing, when on hand would drop below what is reserved for open lines. ${STOCK_CHANGE_DESCRIPTION}`,
          tags: ['inventory'],
          body: AdjustmentBody,
        },
      },
      async (request, reply) => {
        const b = request.body;
        const result = deps.inventory.adjust(
          { site: b.site, location: b.location, sku: b.sku, delta: b.delta, reason: b.reason, note: b.note },
          request.principal.name,
        );
        return reply.code(201).send({ ...result.position, resourced: result.resourced });
      },
    );

    app.get(
      '/availability',
      {
        config: PROMISE_READERS,
        schema: {
          summary: 'Available-to-promise per site and the earliest promise date for a quantity',
          description:
            'ATP = on hand - reserved - safety stock, summed per site of the network. Each site gets the promise sourcing would give if that site alone filled the line: ' +
            'in stock (one position can fill the whole quantity) it is ready after the site\'s backlog at its capacity per hour, leaves at the next carrier cut-off and arrives after the transit days for the distance; ' +
            'short, it leaves after the site\'s replenishment lead time. `postalCode` (with `country`, or alone) is located through the network\'s postal regions for distances; `earliest` is the soonest site.',
          tags: ['inventory'],
          querystring: Type.Object({
            sku: Sku,
            quantity: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1, description: 'Units wanted' }),
            postalCode: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'Ship-to postal code' })),
            country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$', description: 'Ship-to country, ISO 3166 alpha-2' })),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        return deps.inventory.availability({ sku: q.sku, quantity: q.quantity, postalCode: q.postalCode, country: q.country?.toUpperCase() });
      },
    );
  };
}
