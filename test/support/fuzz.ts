/**
 * fast-check building blocks for the bad-input suite (test/reliability/fuzz-*.test.ts): values
 * that satisfy a JSON schema (so fuzzing reaches past validation into the handlers), mutations
 * of such values (one field wrong: type, boundary number, huge string, deep nesting, missing,
 * extra), and raw payloads (truncated JSON, out-of-range literals, random bytes).
 */
import fc from 'fast-check';

/** Numbers where parsers, integer columns and arithmetic tend to break. */
export const BOUNDARY_NUMBERS: readonly number[] = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53) - 2,
  1e21, -1e21, 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON,
];

/** Strings that have broken real systems: empty, huge, control and lone-surrogate characters, prototype keys, injections. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\u202eevil',
  '🧨'.repeat(100),
  '__proto__',
  'constructor',
  'prototype',
  'NaN',
  'Infinity',
  '-1',
  '1e400',
  '../../../../etc/passwd',
  "'; DROP TABLE orders; --",
  '%00%ff',
  '<script>alert(1)</script>',
  'x'.repeat(10_000),
  'y'.repeat(300_000),
];

/** `depth` arrays (or objects) inside each other: recursion in a parser, validator or hasher shows here. */
export function nested(depth: number, kind: 'array' | 'object' = 'array'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** A value of any shape that no sane schema field accepts as-is. */
export function hostileValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...BOUNDARY_NUMBERS), weight: 3 },
    { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 3 },
    { arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { '': null }), weight: 2 },
    { arbitrary: fc.double(), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 64 }), weight: 1 },
    { arbitrary: fc.tuple(fc.integer({ min: 10, max: 3000 }), fc.constantFrom<'array' | 'object'>('array', 'object')).map(([d, k]) => nested(d, k)), weight: 1 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  );
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
}

/**
 * Values valid for a JSON schema (the TypeBox schemas of the routes are JSON schemas). A string
 * property draws half the time from `vocabulary[name]` (by property name, e.g. `sku`, `location`,
 * `site`), so SKUs, locations and sites name real ones and the handlers get past "unknown SKU"
 * into sourcing, reservation and the journal.
 */
export function fromSchema(schema: unknown, vocabulary: Readonly<Record<string, readonly string[]>> = {}, name = ''): fc.Arbitrary<unknown> {
  const s = (schema ?? {}) as JsonSchema;
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => fromSchema(a, vocabulary, name)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) model[k] = fromSchema(v, vocabulary, k);
      return fc.record(model, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
    }
    case 'array': {
      const min = s.minItems ?? 0;
      // Long arrays are the mutations' job; valid ones stay small so each run is cheap.
      const max = Math.max(min, Math.min(s.maxItems ?? 4, 4));
      return fc.array(fromSchema(s.items, vocabulary, name), { minLength: min, maxLength: max });
    }
    case 'integer': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1_000_000);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1_000_000);
      return fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max), fc.integer({ min, max: Math.min(max, min + 5) }));
    }
    case 'number': {
      const min = s.minimum ?? -1e9;
      const max = s.maximum ?? 1e9;
      return fc.oneof(fc.double({ min, max, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(min, max));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'string': {
      if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      const minLength = s.minLength ?? 0;
      const maxLength = Math.max(minLength, s.maxLength ?? 64);
      const fits = (vocabulary[name] ?? []).filter((w) => w.length >= minLength && w.length <= maxLength && (!s.pattern || new RegExp(s.pattern).test(w)));
      const free = s.pattern
        ? fc.stringMatching(new RegExp(s.pattern)).filter((w) => w.length >= minLength && w.length <= maxLength)
        : fc.oneof(fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 24) }), fc.constant('z'.repeat(maxLength)).filter((w) => w.length >= minLength));
      return fits.length > 0 ? fc.oneof(fc.constantFrom(...fits), free) : free;
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  // Already-hostile deep values are not walked into: their root is path enough.
  if (out.length > 500 || prefix.length > 16) return out;
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: Path, op: 'replace' | 'delete' | 'extra' | 'duplicate', hostile: unknown): unknown {
  if (path.length === 0) {
    if (op === 'extra' && root && typeof root === 'object' && !Array.isArray(root)) return { ...root, unexpectedField: hostile };
    return op === 'delete' ? undefined : hostile;
  }
  // Copies only the containers along the path (a deep clone would recurse through hostile nesting).
  const shallow = (v: unknown): Record<string | number, unknown> => (Array.isArray(v) ? (v as unknown[]).slice() : { ...(v as object) }) as Record<string | number, unknown>;
  const copy = shallow(root);
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) {
    const child = shallow(parent[k]);
    parent[k] = child;
    parent = child;
  }
  const last = path[path.length - 1] as string | number;
  if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (op === 'extra' && parent[last] && typeof parent[last] === 'object' && !Array.isArray(parent[last])) {
    (parent[last] as Record<string, unknown>).unexpectedField = hostile;
  } else if (op === 'duplicate' && Array.isArray(parent[last])) {
    const arr = parent[last] as unknown[];
    // Many copies of an element: long arrays, repeated ids, merged duplicate lines.
    parent[last] = Array.from({ length: 600 }, (_, i) => arr[i % Math.max(1, arr.length)] ?? hostile);
  } else {
    parent[last] = hostile;
  }
  return copy;
}

/** `base` with one field changed: replaced by a hostile value, deleted, given an extra sibling, or repeated. */
export function mutated(base: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(base, fc.nat(), fc.constantFrom<'replace' | 'delete' | 'extra' | 'duplicate'>('replace', 'replace', 'replace', 'delete', 'extra', 'duplicate'), hostileValue())
    .map(([value, pick, op, hostile]) => {
      const paths = pathsOf(value);
      return setAt(value, paths[pick % paths.length] ?? [], op, hostile);
    });
}

/** JSON text damaged on the way: cut short, a number out of double range, bytes spliced in, a prototype key. */
export function damagedJsonText(base: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc
    .tuple(base, fc.nat(), fc.constantFrom('truncate', 'huge-number', 'splice', 'proto', 'duplicate-key'), fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }))
    .map(([value, at, how, junk]) => {
      const text = JSON.stringify(value) ?? 'null';
      const i = at % Math.max(1, text.length);
      switch (how) {
        case 'truncate':
          return text.slice(0, i);
        case 'huge-number': {
          // JSON.parse turns these into Infinity, -Infinity and 0: values JSON.stringify never makes.
          const replaced = text.replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/, ['1e400', '-1e400', '1e-400', '123456789012345678901234567890'][at % 4] ?? '1e400');
          return replaced === text ? text.replace(/^\{/, '{"n":1e400,') : replaced;
        }
        case 'splice':
          return text.slice(0, i) + junk + text.slice(i);
        case 'proto':
          return text.replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},');
        default:
          return text.replace(/^\{"([^"]+)":/, '{"$1":null,"$1":');
      }
    });
}

/** Raw payload bytes with no structure at all. */
export function randomBytes(maxLength = 2048): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));
}

/** Unbalanced or balanced nesting as text, deeper than any validator should walk. */
export function deepNestingText(): fc.Arbitrary<string> {
  return fc
    .tuple(fc.integer({ min: 100, max: 100_000 }), fc.constantFrom('[', '{"a":'), fc.boolean())
    .map(([depth, open, balanced]) => open.repeat(depth) + (balanced ? '1' + (open === '[' ? ']' : '}').repeat(depth) : ''));
}

/** Every string value in a JSON document (for vocabularies gathered from API answers). */
export function stringsIn(value: unknown, keys: ReadonlySet<string>, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) stringsIn(v, keys, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (keys.has(k) && typeof v === 'string') out.add(v);
      else stringsIn(v, keys, out);
    }
  }
  return out;
}

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/**
 * `base` with one leaf replaced by a hostile value of the same type (a boundary number for a
 * number, a huge or odd string for a string, an empty or 600-fold array): what survives a typed
 * encoder such as protobuf, so the decoder accepts it and the handlers behind it get tested.
 */
export function sameTypeMutated(base: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(base, fc.nat(), fc.nat(), fc.boolean()).map(([value, pick, choice, flag]) => {
    const paths = pathsOf(value).filter((p) => p.length > 0);
    const path = paths[pick % Math.max(1, paths.length)] ?? [];
    const current = valueAt(value, path);
    let next: unknown;
    if (typeof current === 'number') next = flag ? BOUNDARY_NUMBERS[choice % BOUNDARY_NUMBERS.length] : -Math.abs(BOUNDARY_NUMBERS[choice % BOUNDARY_NUMBERS.length] ?? 1);
    else if (typeof current === 'string') next = HOSTILE_STRINGS[choice % HOSTILE_STRINGS.length];
    else if (typeof current === 'boolean') next = !current;
    else if (Array.isArray(current)) return setAt(value, path, flag ? 'duplicate' : 'replace', []);
    else return value;
    return setAt(value, path, 'replace', next);
  });
}

/** Bytes damaged in transit: bits flipped, cut short, junk spliced in, or repeated. */
export function damagedBytes(base: Buffer): fc.Arbitrary<Buffer> {
  return fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'truncate', 'splice', 'repeat'), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([at, byte, how, junk]) => {
    const i = at % Math.max(1, base.length);
    switch (how) {
      case 'flip': {
        const copy = Buffer.from(base);
        copy[i] = (copy[i] ?? 0) ^ (byte || 1);
        return copy;
      }
      case 'truncate':
        return base.subarray(0, i);
      case 'splice':
        return Buffer.concat([base.subarray(0, i), Buffer.from(junk), base.subarray(i)]);
      default:
        return Buffer.concat([base, base]);
    }
  });
}
