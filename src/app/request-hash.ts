/**
 * The request hash behind idempotency (DESIGN §4): the same key with the same body replays, a
 * different body is a 422. "Same" means the same content whatever the key order, so the body is
 * hashed in a canonical JSON form (keys sorted by UTF-16 code unit, undefined members left out).
 *
 * The canonical text must never change: hashes of keys stored before an upgrade are compared
 * with hashes computed after it (test: request-hash.test.ts pins known values).
 */
import { createHash } from 'node:crypto';

export function requestHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

/** Built by string concatenation: intake hashes every order, and the map/sort/join version cost ~4x. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      // Array.prototype.join renders undefined as '': kept so the text stays what it always was.
      out += (canonicalJson(value[i]) as string | undefined) ?? '';
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, the same order as `a < b` on strings.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}
