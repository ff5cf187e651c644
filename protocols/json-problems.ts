/**
 * Turns TypeBox validation errors into a few ProtocolProblems an integrator can act on.
 * Raw errors are noisy for unions (one error per rejected branch), so branch-level errors are
 * dropped in favour of the union's own error, and `required` errors point at the missing field.
 */
import type { TLocalizedValidationError } from 'typebox/error';
import type { ProtocolProblem } from './errors.js';

export const MAX_PROBLEMS = 5;

function pointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function explain(e: TLocalizedValidationError): ProtocolProblem[] {
  switch (e.keyword) {
    case 'required':
      return e.params.requiredProperties.map((p) => ({ path: `${e.instancePath}/${pointerToken(p)}`, problem: 'is required' }));
    case 'enum':
      return [{ path: e.instancePath, problem: `must be one of ${e.params.allowedValues.map(String).join(', ')}` }];
    case 'anyOf':
      return [{ path: e.instancePath, problem: 'has none of the allowed types' }];
    default:
      return [{ path: e.instancePath, problem: e.message }];
  }
}

export function validationProblems(errors: Iterable<TLocalizedValidationError>): ProtocolProblem[] {
  const out: ProtocolProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.schemaPath.includes('/anyOf/')) continue;
    for (const p of explain(e)) {
      const key = `${p.path}\u0000${p.problem}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(p);
      if (out.length >= MAX_PROBLEMS) return out;
    }
  }
  return out;
}

/** "a/b is required; /c must be integer" — the root is shown as "/". */
export function summarize(problems: readonly ProtocolProblem[]): string {
  return problems.map((p) => `${p.path || '/'} ${p.problem}`).join('; ');
}
