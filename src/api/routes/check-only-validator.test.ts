import Type from 'typebox';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { OrderInputSchema } from '../../domain/order-input.js';
import { checkOnlyValidator, whyNotCheckOnly } from './check-only-validator.js';

const IdempotencyHeaders = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) });
const compile = (schema: typeof OrderInputSchema | typeof IdempotencyHeaders, httpPart: 'body' | 'headers') =>
  checkOnlyValidator({ schema, httpPart, url: '/orders', method: 'POST' }) as (input: unknown) => { value?: unknown; error?: unknown[] };

describe('check-only validator', () => {
  it('serves the order body and the Idempotency-Key header', () => {
    expect(whyNotCheckOnly(OrderInputSchema, true)).toBeUndefined();
    expect(whyNotCheckOnly(IdempotencyHeaders, false)).toBeUndefined();
  });

  it('refuses schemas whose defaults or conversions it would skip', () => {
    expect(whyNotCheckOnly(Type.Object({ limit: Type.Integer({ default: 50 }) }), true)).toMatch(/default at \/properties\/limit/);
    expect(whyNotCheckOnly(Type.Object({ n: Type.Integer() }), false)).toMatch(/property n is not a string/);
    expect(() => checkOnlyValidator({ schema: Type.Object({ n: Type.Integer() }), httpPart: 'headers', url: '/x', method: 'GET' })).toThrow(/cannot serve/);
  });

  it('gives what Default and Check give: the same value, or errors on the same paths', () => {
    const good = { channel: 'web', customer: { id: 'c' }, shipTo: { name: 'n', line1: 'l', city: 'c', postalCode: 'p', country: 'DE' }, lines: [{ sku: 'S', quantity: 1 }] };
    const bad = { ...good, lines: [{ sku: 'S', quantity: 0 }], extra: true };
    const body = compile(OrderInputSchema, 'body');
    expect(body(good)).toEqual({ value: Value.Default(OrderInputSchema, structuredClone(good)) });
    const errors = body(bad).error as { instancePath?: string }[];
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((e) => e.instancePath)).toEqual(expect.arrayContaining(['/lines/0/quantity']));
    const headers = compile(IdempotencyHeaders, 'headers');
    expect(headers({ host: 'h', 'idempotency-key': 'k-1' }).value).toEqual({ host: 'h', 'idempotency-key': 'k-1' });
    expect(headers({ 'idempotency-key': '' }).error).toBeDefined();
  });
});
