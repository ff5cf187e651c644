/**
 * The Shopify `orders/create` webhook (DESIGN §9 "channels").
 *
 * Authentication is the webhook's own signature, not a bearer token (`config: { auth: 'self' }`):
 * `X-Shopify-Hmac-Sha256` must be the base64 HMAC-SHA256 of the raw request body under the
 * configured secret, compared in constant time, before the body is even parsed. To have the raw
 * bytes, this plugin (and only this plugin: fastify scopes content-type parsers to their
 * encapsulation context) takes `application/json` as a Buffer.
 *
 * Answers:
 * - 201 with the order, once durable; 200 with the first response for a retry of the same
 *   `X-Shopify-Webhook-Id` (intake idempotency, key `shopify-webhook:<id>`), never a second order.
 * - 401 PW_ERR_UNAUTHENTICATED for a missing or wrong signature.
 * - 503 PW_ERR_CHANNEL_NOT_CONFIGURED when no secret is configured: Shopify retries non-2xx
 *   deliveries for up to 48 hours, so orders sent before the operator sets the secret still arrive.
 * - 400 PW_ERR_BAD_REQUEST without a webhook id or for a topic other than orders/create;
 *   400 PW_ERR_MALFORMED_JSON / PW_ERR_VALIDATION and 422 PW_ERR_UNKNOWN_SKU (a line item without
 *   a SKU or with one the site does not carry), with paths into the Shopify body.
 * - 409 PW_ERR_IDEMPOTENCY_IN_FLIGHT while the same delivery is still being stored (Shopify retries).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { mapShopifyOrder, toShopifyPaths } from '../../app/channels/shopify.js';
import type { OrderIntake } from '../../app/intake.js';
import { PickwireError } from '../../errors.js';
import type { Principal } from '../../tokens.js';

export interface ShopifyRouteDeps {
  intake: OrderIntake;
  /** The webhook signing secret from the Shopify app / notification settings; unset: 503. */
  secret: string | undefined;
}

export const SHOPIFY_ORDERS_CREATE_PATH = '/webhooks/shopify/orders-create';
const SHOPIFY_PRINCIPAL: Principal = { name: 'shopify', role: 'channel' };
/** 32 bytes in standard base64. */
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const WEBHOOK_ID = /^[\x21-\x7e]{1,200}$/;

/** The canonical signature Shopify sends, exported so tests and tools sign exactly the same way. */
export function shopifySignature(secret: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

const rawBodyOf = (request: FastifyRequest): Buffer => (Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0));

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return typeof v === 'string' ? v.trim() : undefined;
}

function authenticate(request: FastifyRequest, secret: string | undefined): void {
  if (secret === undefined) {
    // Logged by the error handler, as every 5xx is.
    throw new PickwireError(
      'PW_ERR_CHANNEL_NOT_CONFIGURED',
      'the Shopify webhook secret is not configured on this core (PICKWIRE_SHOPIFY_WEBHOOK_SECRET); retry once it is',
    );
  }
  const header = headerOf(request, 'x-shopify-hmac-sha256');
  if (!header) throw new PickwireError('PW_ERR_UNAUTHENTICATED', 'authentication required: send X-Shopify-Hmac-Sha256, the HMAC-SHA256 of the body');
  const given = BASE64_SHA256.test(header) ? Buffer.from(header, 'base64') : undefined;
  const expected = createHmac('sha256', secret).update(rawBodyOf(request)).digest();
  if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    request.log.warn({ webhookId: headerOf(request, 'x-shopify-webhook-id')?.slice(0, 200) }, 'Shopify webhook refused: the signature does not match');
    throw new PickwireError('PW_ERR_UNAUTHENTICATED', 'X-Shopify-Hmac-Sha256 does not match the body signed with the configured secret');
  }
  request.principal = SHOPIFY_PRINCIPAL;
}

export function shopifyRoutes(deps: ShopifyRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    // The signature covers the exact bytes; a re-serialised object would not verify.
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    app.post(
      SHOPIFY_ORDERS_CREATE_PATH,
      {
        config: { auth: 'self' },
        schema: {
          summary: 'Shopify orders/create webhook',
          description:
            'Authenticated by `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the raw body with the configured webhook secret), not a bearer token. ' +
            'Retries of the same `X-Shopify-Webhook-Id` get the first response with 200 and never create a second order. ' +
            '401 for a missing or wrong signature; 503 PW_ERR_CHANNEL_NOT_CONFIGURED while no secret is configured (Shopify keeps retrying); ' +
            'problems in the order are reported with paths into the Shopify body (`/line_items/0/sku`).',
          tags: ['channels'],
          security: [],
          headers: Type.Object({
            'x-shopify-hmac-sha256': Type.Optional(Type.String({ description: 'base64 HMAC-SHA256 of the raw body' })),
            'x-shopify-webhook-id': Type.Optional(Type.String({ description: 'the delivery id; retries repeat it (required)' })),
            'x-shopify-topic': Type.Optional(Type.String({ description: 'orders/create' })),
          }),
        },
        // Before schema validation: an unsigned request learns nothing about what we would accept.
        preValidation: async (request) => authenticate(request, deps.secret),
      },
      async (request, reply) => {
        const topic = headerOf(request, 'x-shopify-topic');
        if (topic !== undefined && topic !== 'orders/create') {
          throw new PickwireError('PW_ERR_BAD_REQUEST', `this endpoint takes orders/create webhooks, not ${topic.slice(0, 64)}`);
        }
        const webhookId = headerOf(request, 'x-shopify-webhook-id');
        if (!webhookId || !WEBHOOK_ID.test(webhookId)) {
          throw new PickwireError('PW_ERR_BAD_REQUEST', 'X-Shopify-Webhook-Id is required (1-200 visible ASCII characters): it is how retries are recognised');
        }
        let payload: unknown;
        try {
          payload = JSON.parse(rawBodyOf(request).toString('utf8'));
        } catch {
          throw new PickwireError('PW_ERR_MALFORMED_JSON', 'the webhook body is not valid JSON');
        }
        const { input, lineIndex } = mapShopifyOrder(payload);
        let result;
        try {
          result = await deps.intake.submit(input, `shopify-webhook:${webhookId}`, request.principal.name);
        } catch (err) {
          throw err instanceof PickwireError ? toShopifyPaths(err, lineIndex) : err;
        }
        if (result.replayed) reply.header('idempotent-replayed', 'true');
        // Shopify only needs a 2xx; a retry is told plainly that nothing new was created.
        return reply.code(result.replayed ? 200 : result.statusCode).send(result.body);
      },
    );
  };
}
