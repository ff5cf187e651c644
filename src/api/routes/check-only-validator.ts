/**
 * A route-level validator for schemas with nothing to fill in or convert: no `default` anywhere,
 * and (outside the body) only string properties, which is what headers are on the wire. It checks
 * the input as it is. The app's general validator (src/api/app.ts) runs TypeBox's Value.Default
 * and, for headers, Value.Convert on every request: walks of the schema and of the input that
 * cost the order intake path, the hottest route, several times what the check itself does.
 * For such schemas both walks change nothing, so the outcome is the same: the same value, and
 * TypeBox's errors in the same shape on failure.
 *
 * A schema that does need them is refused when the route is registered, so a later `default`
 * cannot be silently ignored.
 */
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export const checkOnlyValidator: FastifySchemaCompiler<TSchema> = ({ schema, httpPart, url, method }) => {
  const problem = whyNotCheckOnly(schema, httpPart === 'body');
  if (problem) throw new Error(`${method} ${url} ${httpPart ?? ''}: the check-only validator cannot serve this schema (${problem}); use the app's validator`);
  const check = Compile(schema);
  return (input: unknown) => (check.Check(input) ? { value: input } : { error: [...check.Errors(input)] as unknown as FastifySchemaValidationError[] });
};

/** Why Value.Default (or, outside the body, Value.Convert) could change an input of this schema; undefined when neither can. */
export function whyNotCheckOnly(schema: unknown, isBody: boolean): string | undefined {
  const visit = (node: unknown, path: string): string | undefined => {
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) {
        const found = visit(item, `${path}/${i}`);
        if (found) return found;
      }
      return undefined;
    }
    if (!node || typeof node !== 'object') return undefined;
    const record = node as Record<string, unknown>;
    if ('default' in record) return `a default at ${path || '/'}`;
    for (const [key, value] of Object.entries(record)) {
      const found = visit(value, `${path}/${key}`);
      if (found) return found;
    }
    return undefined;
  };
  const defaults = visit(schema, '');
  if (defaults || isBody) return defaults;
  // Outside the body every value arrives as a string: anything else would need converting.
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const nonString = Object.entries(properties).find(([, p]) => p.type !== 'string');
  return nonString ? `property ${nonString[0]} is not a string` : undefined;
}
