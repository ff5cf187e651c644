import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PickwireError } from './errors.js';
import { canAccess, loadTokens, parseTokens } from './tokens.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'pw-tokens-'));

function errorOf(fn: () => unknown): PickwireError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PickwireError);
    return err as PickwireError;
  }
  throw new Error('expected an error');
}

describe('parseTokens', () => {
  it('looks tokens up to their name and role', () => {
    const t = parseTokens('shop:channel:shop-token-1, ops:operator:ops-token-1,root:admin:a:b:c-colons');
    expect(t.size).toBe(3);
    expect(t.lookup('shop-token-1')).toEqual({ name: 'shop', role: 'channel' });
    expect(t.lookup('ops-token-1')).toEqual({ name: 'ops', role: 'operator' });
    expect(t.lookup('a:b:c-colons')).toEqual({ name: 'root', role: 'admin' });
    expect(t.lookup('shop-token-2')).toBeUndefined();
    expect(t.lookup('')).toBeUndefined();
    expect(t.adminToken).toBeUndefined();
  });

  it('names the bad entry without echoing its token', () => {
    const bad = errorOf(() => parseTokens('a:viewer:long-enough-1,shop:chanel:secret-value-9'));
    expect(bad.code).toBe('PW_ERR_CONFIG_INVALID');
    expect(bad.message).toBe('PICKWIRE_TOKENS entry 2 ("shop"): role "chanel" is not one of channel, operator, viewer, admin');
    expect(bad.message).not.toContain('secret-value-9');
    expect(errorOf(() => parseTokens('justatoken')).message).toBe('PICKWIRE_TOKENS entry 1 must look like name:role:token');
    expect(errorOf(() => parseTokens('a:admin:short')).message).toMatch(/at least 8 characters/);
    expect(errorOf(() => parseTokens('a:admin:12345678,a:viewer:87654321')).message).toMatch(/name is used twice/);
    expect(errorOf(() => parseTokens('a:admin:12345678,b:viewer:12345678')).message).toMatch(/token is used twice/);
    expect(errorOf(() => parseTokens(' , ')).message).toMatch(/names no token/);
  });
});

describe('loadTokens', () => {
  it('creates a 0600 admin token on first start and reuses it afterwards', () => {
    const dataDir = join(tmp(), 'nested', 'data');
    const first = loadTokens({ dataDir });
    expect(first.adminTokenCreated).toBe(true);
    expect(first.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const file = join(dataDir, 'admin-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.adminToken);
    expect(first.lookup(first.adminToken ?? '')).toEqual({ name: 'admin', role: 'admin' });

    const second = loadTokens({ dataDir });
    expect(second.adminTokenCreated).toBe(false);
    expect(second.adminToken).toBe(first.adminToken);
    expect(second.warnings).toEqual([]);
  });

  it('warns about a token file that others can read, and refuses an empty one', () => {
    const dataDir = tmp();
    const file = join(dataDir, 'admin-token');
    writeFileSync(file, 'a-hand-written-token\n');
    chmodSync(file, 0o644);
    const t = loadTokens({ dataDir });
    expect(t.lookup('a-hand-written-token')?.role).toBe('admin');
    expect(t.warnings[0]).toMatch(/chmod 600/);
    writeFileSync(file, '\n');
    expect(errorOf(() => loadTokens({ dataDir })).message).toMatch(/holds no usable token/);
  });

  it('prefers the configured tokens and writes no file', () => {
    const dataDir = tmp();
    const t = loadTokens({ tokens: 'v:viewer:viewer-token', dataDir });
    expect(t.lookup('viewer-token')).toEqual({ name: 'v', role: 'viewer' });
    expect(() => statSync(join(dataDir, 'admin-token'))).toThrow();
  });
});

describe('canAccess', () => {
  it('ranks admin > operator > viewer and keeps channel to what it is granted', () => {
    expect(canAccess('admin', [])).toBe(true);
    expect(canAccess('operator', ['viewer'])).toBe(true);
    expect(canAccess('viewer', ['operator'])).toBe(false);
    expect(canAccess('viewer', ['viewer'])).toBe(true);
    expect(canAccess('channel', ['viewer'])).toBe(false);
    expect(canAccess('channel', ['channel', 'operator'])).toBe(true);
    expect(canAccess('operator', ['channel'])).toBe(false);
    expect(canAccess('operator', ['admin'])).toBe(false);
  });
});
