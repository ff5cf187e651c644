import { describe, expect, it } from 'vitest';
import { canonicalJson, requestHash } from './request-hash.js';

describe('request hash', () => {
  // Values computed by the first implementation: keys already stored carry these hashes, so a
  // change of the canonical form would turn every retry after an upgrade into a 422.
  it('keeps the hashes of stored idempotency keys', () => {
    const a = {
      channel: 'web',
      externalId: 'E-1',
      customer: { id: 'c-1', email: 'a@b.c' },
      shipTo: { name: 'Ä Ö', line1: '1 Loop Rd', city: 'X', postalCode: '12345', country: 'DE', lat: 52.5, lon: 13.4 },
      lines: [{ sku: 'S-1', quantity: 2 }, { quantity: 1, sku: 'S-2' }],
      priority: 3,
    };
    const b = {
      lines: [{ sku: 'b', quantity: 1 }],
      channel: 'x',
      customer: { id: 'z' },
      shipTo: { country: 'FR', name: 'n', line1: 'l', city: 'c', postalCode: 'p', line2: undefined },
      promisedBy: '2026-01-01T00:00:00Z',
    };
    expect(requestHash(a)).toBe('hA9CINMDAuLn676Pdbbo8d8SQZ6BWD4UkX-Ytm9nCfg');
    expect(requestHash(b)).toBe('Xoaf87yKsW72y8DhqVswHmZXriJggMxVdlKtiTDG7nY');
  });

  it('ignores key order and undefined members, not array order', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }], u: undefined })).toBe('{"a":[2,{"c":"x","d":null}],"b":1}');
    expect(requestHash({ x: 1, y: 2 })).toBe(requestHash({ y: 2, x: 1 }));
    expect(requestHash({ l: [1, 2] })).not.toBe(requestHash({ l: [2, 1] }));
    expect(requestHash({ q: 1 })).not.toBe(requestHash({ q: 2 }));
  });
});
