import { describe, expect, it } from 'vitest';
import { allLinesDone, deriveFulfilment } from './fulfilment.js';

describe('deriveFulfilment after picking', () => {
  it('follows the lines through packing, shipping and delivery', () => {
    expect(deriveFulfilment(['PACKED', 'PICKED'])).toBe('PICKED');
    expect(deriveFulfilment(['PACKED', 'PACKED', 'CANCELED'])).toBe('PACKED');
    expect(deriveFulfilment(['SHIPPED', 'DELIVERED'])).toBe('SHIPPED');
    expect(deriveFulfilment(['DELIVERED', 'CANCELED'])).toBe('DELIVERED');
  });

  it('shows a parcel on its way while other lines are still on the floor or being packed', () => {
    expect(deriveFulfilment(['SHIPPED', 'PICKING'])).toBe('PARTIALLY_SHIPPED');
    expect(deriveFulfilment(['DELIVERED', 'PACKED'])).toBe('PARTIALLY_SHIPPED');
    // Exceptions still win: an operator must see the backorder first.
    expect(deriveFulfilment(['SHIPPED', 'BACKORDERED'])).toBe('BACKORDERED');
  });

  it('closes only when every line is delivered or canceled', () => {
    expect(allLinesDone(['DELIVERED', 'CANCELED'])).toBe(true);
    expect(allLinesDone(['DELIVERED', 'SHIPPED'])).toBe(false);
  });
});
