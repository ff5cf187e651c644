/**
 * A deep copy of plain JSON-shaped data (objects, arrays, primitives), as `structuredClone`
 * would make of it but several times cheaper: the vehicle helper copies its state and each
 * order's path on every read and every order, which a fleet in a fast simulation does tens of
 * thousands of times a minute. Keys whose value is `undefined` are kept, like structuredClone.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJson(value[i] as unknown);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = cloneJson((value as Record<string, unknown>)[key]);
  return out as T;
}
