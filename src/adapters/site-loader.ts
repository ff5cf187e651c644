import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { Compile } from 'typebox/compile';
import { SiteLayoutSchema, type SiteLayout } from '../domain/site-layout.js';
import { checkLayoutReferences } from '../domain/site-check.js';
import { PickwireError } from '../errors.js';

const bundledDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'simulators', 'sites');
const validator = Compile(SiteLayoutSchema);

/** Path of a bundled layout (`demo`) or the given path when it names a file. */
export function resolveSitePath(nameOrPath: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(nameOrPath)) {
    const bundled = join(bundledDir, `${nameOrPath}.json`);
    if (existsSync(bundled)) return bundled;
  }
  return resolve(nameOrPath);
}

/** Reads, schema-validates and cross-checks a layout; errors name the offending JSON path. */
export function loadSiteLayout(nameOrPath: string): SiteLayout {
  const path = resolveSitePath(nameOrPath);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PickwireError('PW_ERR_SITE_INVALID', `cannot read site layout ${path}: ${(err as Error).message}`);
  }
  return parseSiteLayout(raw, path);
}

export function parseSiteLayout(raw: unknown, origin = 'layout'): SiteLayout {
  if (!validator.Check(raw)) {
    const details = [...validator.Errors(raw)].slice(0, 10).map((e) => ({ path: e.instancePath || '/', problem: e.message }));
    throw new PickwireError('PW_ERR_SITE_INVALID', `site layout ${origin} is invalid: ${details.map((d) => `${d.path} ${d.problem}`).join('; ')}`, { details });
  }
  const problems = checkLayoutReferences(raw);
  if (problems.length > 0) {
    throw new PickwireError('PW_ERR_SITE_INVALID', `site layout ${origin} is inconsistent: ${problems.slice(0, 10).map((d) => `${d.path} ${d.problem}`).join('; ')}`, { details: problems.slice(0, 50) });
  }
  return raw;
}
