import { describe, expect, it } from 'vitest';
import { PickwireError } from '../../errors.js';
import { mapShopifyOrder, toShopifyPaths } from './shopify.js';

/** Trimmed from Shopify's documented orders/create payload: the fields we read and some we ignore. */
function shopifyOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 5940139491234,
    admin_graphql_api_id: 'gid://shopify/Order/5940139491234',
    name: '#1001',
    email: 'jon@example.com',
    contact_email: 'jon@example.com',
    created_at: '2024-11-10T10:30:00-05:00',
    currency: 'EUR',
    total_price: '59.99',
    financial_status: 'paid',
    fulfillment_status: null,
    test: false,
    customer: {
      // Above 2^53: JSON.parse has already rounded this one.
      id: Number('115310627314723954'),
      admin_graphql_api_id: 'gid://shopify/Customer/115310627314723954',
      email: 'john@example.com',
      first_name: 'John',
      last_name: 'Smith',
    },
    shipping_address: {
      first_name: 'Steve',
      last_name: 'Shipper',
      name: 'Steve Shipper',
      company: 'Shipping Company',
      address1: '123 Shipping Street',
      address2: null,
      city: 'Shippington',
      province: 'Kentucky',
      province_code: 'KY',
      zip: '40003',
      country: 'United States',
      country_code: 'US',
      phone: '555-555-SHIP',
      latitude: 38.2,
      longitude: -85.7,
    },
    line_items: [
      { id: 4878176722, variant_id: 1, product_id: 2, title: 'Aviator sunglasses', sku: 'SKU-0001', quantity: 2, price: '89.99', requires_shipping: true },
      { id: 9763183771, variant_id: 3, product_id: 4, title: 'Mid-century lounger', sku: 'SKU-0002', quantity: 1, price: '159.99', requires_shipping: true },
    ],
    ...overrides,
  };
}

function mappingError(body: unknown): PickwireError {
  try {
    mapShopifyOrder(body);
  } catch (err) {
    expect(err).toBeInstanceOf(PickwireError);
    return err as PickwireError;
  }
  throw new Error('expected a mapping error');
}

const paths = (err: PickwireError) => err.details?.map((d) => d.path);

describe('mapShopifyOrder', () => {
  it('maps the documented orders/create shape to an OrderInput', () => {
    const { input, lineIndex } = mapShopifyOrder(shopifyOrder());
    expect(input).toEqual({
      channel: 'shopify',
      externalId: '5940139491234',
      // The gid keeps digits that JSON.parse rounds away in the numeric id.
      customer: { id: '115310627314723954', email: 'john@example.com' },
      shipTo: { name: 'Steve Shipper', line1: '123 Shipping Street', city: 'Shippington', postalCode: '40003', country: 'US', lat: 38.2, lon: -85.7 },
      lines: [
        { sku: 'SKU-0001', quantity: 2 },
        { sku: 'SKU-0002', quantity: 1 },
      ],
    });
    expect(input.priority).toBeUndefined();
    expect(input.promisedBy).toBeUndefined();
    expect(lineIndex).toEqual([0, 1]);
  });

  it('takes the numeric id when there is no gid, and builds name, line2 and country case', () => {
    const order = shopifyOrder({ admin_graphql_api_id: undefined, customer: { id: 42, email: 'not-an-email' } });
    order.shipping_address = { first_name: ' Ada ', last_name: 'Lovelace', address1: '1 Dock Road', address2: 'Gate 4', city: 'Dortmund', zip: '44135', country_code: 'de' };
    const { input } = mapShopifyOrder(order);
    expect(input.externalId).toBe('5940139491234');
    // The customer's own email is unusable, so the order's is kept.
    expect(input.customer).toEqual({ id: '42', email: 'jon@example.com' });
    expect(input.shipTo).toEqual({ name: 'Ada Lovelace', line1: '1 Dock Road', line2: 'Gate 4', city: 'Dortmund', postalCode: '44135', country: 'DE' });
  });

  it('identifies a guest checkout by its email', () => {
    expect(mapShopifyOrder(shopifyOrder({ customer: null, email: 'Guest@Example.com' })).input.customer).toEqual({
      id: 'guest:guest@example.com',
      email: 'Guest@Example.com',
    });
    const err = mappingError(shopifyOrder({ customer: null, email: null, contact_email: null }));
    expect(err.code).toBe('PW_ERR_VALIDATION');
    expect(paths(err)).toEqual(['/customer']);
  });

  it('skips line items that need no shipping and maps our lines back to Shopify indexes', () => {
    const order = shopifyOrder();
    order.line_items = [
      { title: 'Gift card', sku: null, quantity: 1, requires_shipping: false },
      { title: 'Lamp', sku: 'SKU-0003', quantity: 3 },
    ];
    const { input, lineIndex } = mapShopifyOrder(order);
    expect(input.lines).toEqual([{ sku: 'SKU-0003', quantity: 3 }]);
    expect(lineIndex).toEqual([1]);
    order.line_items = [{ title: 'Gift card', quantity: 1, requires_shipping: false }];
    expect(paths(mappingError(order))).toEqual(['/line_items']);
  });

  it('answers a shippable line item without a SKU with 422 at its path', () => {
    const order = shopifyOrder();
    order.line_items = [
      { sku: 'SKU-0001', quantity: 1 },
      { sku: '', quantity: 1 },
      { sku: null, quantity: 2 },
    ];
    const err = mappingError(order);
    expect(err.code).toBe('PW_ERR_UNKNOWN_SKU');
    expect(err.statusCode).toBe(422);
    expect(paths(err)).toEqual(['/line_items/1/sku', '/line_items/2/sku']);
    expect(err.message).toContain('/line_items/1/sku has no SKU');
  });

  it('reports every shape problem with a path into the Shopify body', () => {
    const err = mappingError(
      shopifyOrder({
        id: -1,
        admin_graphql_api_id: 'gid://shopify/Order/abc',
        shipping_address: { name: 'x', address1: 7, city: '', zip: '1'.repeat(21), country_code: 'USA', latitude: 'north', longitude: 10 },
        line_items: [{ sku: 'SKU-0001', quantity: 0 }, 'nope', { sku: 'SKU-0002', quantity: 1.5 }],
      }),
    );
    expect(err.code).toBe('PW_ERR_VALIDATION');
    expect(err.statusCode).toBe(400);
    expect(paths(err)).toEqual([
      '/id',
      '/shipping_address/address1',
      '/shipping_address/city',
      '/shipping_address/zip',
      '/shipping_address/country_code',
      '/shipping_address/latitude',
      '/line_items/0/quantity',
      '/line_items/1',
      '/line_items/2/quantity',
    ]);
  });

  it.each([
    ['not an object', [], ['/']],
    ['no shipping address (digital order)', shopifyOrder({ shipping_address: null }), ['/shipping_address']],
    ['no line items', shopifyOrder({ line_items: [] }), ['/line_items']],
    ['line_items not an array', shopifyOrder({ line_items: {} }), ['/line_items']],
    ['no id at all', shopifyOrder({ id: undefined, admin_graphql_api_id: undefined }), ['/id']],
    ['a customer that is not an object', shopifyOrder({ customer: 'john' }), ['/customer']],
  ])('rejects %s', (_what, body, expected) => {
    const err = mappingError(body);
    expect(err.code).toBe('PW_ERR_VALIDATION');
    expect(paths(err)).toEqual(expected);
  });
});

describe('toShopifyPaths', () => {
  it("rewrites intake's /lines/i paths to the Shopify line item they came from", () => {
    const err = new PickwireError('PW_ERR_UNKNOWN_SKU', 'unknown SKU NOPE', {
      details: [
        { path: '/lines/0/sku', problem: 'unknown SKU NOPE' },
        { path: '/lines/1/quantity', problem: 'too many' },
        { path: '/customer/id', problem: 'other' },
      ],
    });
    const mapped = toShopifyPaths(err, [1, 3]);
    expect(mapped.code).toBe('PW_ERR_UNKNOWN_SKU');
    expect(paths(mapped)).toEqual(['/line_items/1/sku', '/line_items/3/quantity', '/customer/id']);
    const plain = new PickwireError('PW_ERR_INTERNAL');
    expect(toShopifyPaths(plain, [0])).toBe(plain);
  });
});
