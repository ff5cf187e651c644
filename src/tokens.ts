/**
 * API bearer tokens and what each role may do.
 *
 * Tokens come from `PICKWIRE_TOKENS` (`name:role:token,...`). Without it the first start writes a
 * random admin token to `<dataDir>/admin-token` (mode 0600) and later starts reuse it, so a fresh
 * checkout is never an open API and the operator gets a working dashboard link at once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PickwireError } from './errors.js';

export const ROLES = ['channel', 'operator', 'viewer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  name: string;
  role: Role;
}

/**
 * admin may do everything; operator may also do what viewer may; channel is a sales channel
 * that may only do what routes grant it by name (submit and read orders).
 */
export function canAccess(role: Role, required: readonly Role[]): boolean {
  if (role === 'admin') return true;
  return required.some((r) => r === role || (role === 'operator' && r === 'viewer'));
}

export interface TokenTable {
  lookup(token: string): Principal | undefined;
  /** The admin token when it came from (or was just written to) `<dataDir>/admin-token`. */
  readonly adminToken: string | undefined;
  /** True when this start created the admin token file. */
  readonly adminTokenCreated: boolean;
  readonly size: number;
  /** Problems worth a log line that should not stop the boot (e.g. a token file others can read). */
  readonly warnings: readonly string[];
}

export const MIN_TOKEN_LENGTH = 8;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

interface Entry extends Principal {
  digest: Buffer;
}

// Comparing fixed-length digests makes the comparison time independent of the token's length and content.
const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

function tableOf(entries: Entry[], adminToken?: string, adminTokenCreated = false, warnings: string[] = []): TokenTable {
  return {
    lookup(token) {
      const d = digest(token);
      let found: Entry | undefined;
      // Visit every entry, so the time taken does not reveal which one matched.
      for (const e of entries) if (timingSafeEqual(d, e.digest) && !found) found = e;
      return found ? { name: found.name, role: found.role } : undefined;
    },
    adminToken,
    adminTokenCreated,
    size: entries.length,
    warnings,
  };
}

const invalid = (message: string) => new PickwireError('PW_ERR_CONFIG_INVALID', message);

/** Parses `name:role:token,...`; errors name the entry by position and name, never its token. */
export function parseTokens(spec: string): TokenTable {
  const entries: Entry[] = [];
  const parts = spec.split(',').map((p) => p.trim());
  parts.forEach((part, i) => {
    if (part === '') return;
    const first = part.indexOf(':');
    const second = first === -1 ? -1 : part.indexOf(':', first + 1);
    const label = `PICKWIRE_TOKENS entry ${i + 1}`;
    if (second === -1) throw invalid(`${label} must look like name:role:token`);
    const name = part.slice(0, first);
    const role = part.slice(first + 1, second);
    const token = part.slice(second + 1);
    const named = `${label} ("${name}")`;
    if (!NAME.test(name)) throw invalid(`${named}: name must be 1-64 letters, digits, _ . or -`);
    if (!(ROLES as readonly string[]).includes(role)) {
      throw invalid(`${named}: role "${role}" is not one of ${ROLES.join(', ')}`);
    }
    if (token.length < MIN_TOKEN_LENGTH) throw invalid(`${named}: token must be at least ${MIN_TOKEN_LENGTH} characters`);
    if (entries.some((e) => e.name === name)) throw invalid(`${named}: the name is used twice`);
    const d = digest(token);
    if (entries.some((e) => timingSafeEqual(e.digest, d))) throw invalid(`${named}: the token is used twice`);
    entries.push({ name, role: role as Role, digest: d });
  });
  if (entries.length === 0) throw invalid('PICKWIRE_TOKENS is set but names no token');
  return tableOf(entries);
}

export const ADMIN_TOKEN_FILE = 'admin-token';

function readOrCreateAdminToken(dataDir: string): { token: string; created: boolean; warnings: string[] } {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString('base64url');
  try {
    // 'wx' fails if the file exists, so two processes starting at once cannot overwrite each other's token.
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, created: true, warnings: [] };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw invalid(`cannot create ${file}: ${(err as Error).message}`);
    }
  }
  const existing = readFileSync(file, 'utf8').trim();
  if (existing.length < MIN_TOKEN_LENGTH) {
    throw invalid(`${file} holds no usable token (delete it to have a new one generated)`);
  }
  // A warning, not a refusal: some mounted volumes cannot represent 0600 at all.
  const warnings =
    process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0
      ? [`${file} is accessible to other users; run: chmod 600 ${file}`]
      : [];
  return { token: existing, created: false, warnings };
}

/** The token table for this process: from `tokens` when set, else the admin token file. */
export function loadTokens(opts: { tokens?: string | undefined; dataDir: string }): TokenTable {
  if (opts.tokens !== undefined) return parseTokens(opts.tokens);
  const { token, created, warnings } = readOrCreateAdminToken(opts.dataDir);
  return tableOf([{ name: 'admin', role: 'admin', digest: digest(token) }], token, created, warnings);
}
