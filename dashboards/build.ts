/**
 * Builds the operator dashboard (`dashboards/app/` -> `dashboards/dist/`) with Vite. Offline:
 * everything comes from node_modules.
 *
 *   tsx dashboards/build.ts             build now (npm run build:dashboard)
 *   tsx dashboards/build.ts --if-stale  build only when the sources or the build stack changed
 *                                       since the last build (npm start and npm test run this)
 *
 * Staleness is a hash of the app's files, this script, the Vite config and the versions of the
 * build stack, kept in `dist/.build-hash`; timestamps would lie after a git checkout. The new
 * build is written beside the old one and swapped in, so a core serving the old one never sees
 * half a build, and two processes building at once (parallel test files) both end well.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
export const APP_DIR = here('./app');
export const DIST_DIR = here('./dist');
const HASH_FILE = '.build-hash';
const LOCK = here('./.build.lock');
const STACK = ['vite', 'preact', '@preact/signals', 'uplot'];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out.sort();
}

function stackVersions(): string[] {
  const require = createRequire(import.meta.url);
  return STACK.map((name) => {
    try {
      const pkg = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string };
      return `${name}@${pkg.version}`;
    } catch {
      return `${name}@missing`;
    }
  });
}

export function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of [...files(APP_DIR), here('./vite.config.ts'), here('./build.ts')]) {
    h.update(relative(here('.'), f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  h.update(stackVersions().join(','));
  return h.digest('hex');
}

/** True when `dist/` holds a build of the current sources. */
export function isFresh(hash = sourceHash()): boolean {
  try {
    return existsSync(join(DIST_DIR, 'index.html')) && readFileSync(join(DIST_DIR, HASH_FILE), 'utf8').trim() === hash;
  } catch {
    return false;
  }
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Another process is building: wait for it (a lock older than two minutes is a dead one). */
async function acquireLock(): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 120_000) rmSync(LOCK, { force: true });
      } catch {
        // released meanwhile
      }
      await sleep(200);
    }
  }
  return false;
}

export interface BuildOutcome {
  status: 'built' | 'fresh' | 'skipped';
  ms: number;
  reason?: string;
}

export async function buildDashboard(opts: { ifStale?: boolean } = {}): Promise<BuildOutcome> {
  const started = Date.now();
  const hash = sourceHash();
  if (opts.ifStale && isFresh(hash)) return { status: 'fresh', ms: Date.now() - started };
  const locked = await acquireLock();
  try {
    // Whoever held the lock may just have built the same sources.
    if (opts.ifStale && isFresh(hash)) return { status: 'fresh', ms: Date.now() - started };
    const vite = await import('vite').catch(() => undefined);
    if (!vite) return { status: 'skipped', ms: Date.now() - started, reason: 'vite is not installed (a production install without devDependencies?)' };
    const tmp = here(`./.dist-${process.pid}-${started}`);
    await vite.build({ configFile: here('./vite.config.ts'), logLevel: 'warn', build: { outDir: tmp, emptyOutDir: true } });
    writeFileSync(join(tmp, HASH_FILE), `${hash}\n`);
    const old = here(`./.dist-old-${process.pid}-${started}`);
    if (existsSync(DIST_DIR)) renameSync(DIST_DIR, old);
    mkdirSync(here('.'), { recursive: true });
    renameSync(tmp, DIST_DIR);
    rmSync(old, { recursive: true, force: true });
    return { status: 'built', ms: Date.now() - started };
  } finally {
    if (locked) rmSync(LOCK, { force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const ifStale = process.argv.includes('--if-stale');
  buildDashboard({ ifStale }).then(
    (r) => {
      if (r.status === 'built') console.log(`dashboard built into dashboards/dist/ in ${(r.ms / 1000).toFixed(1)} s`);
      else if (r.status === 'skipped') console.warn(`dashboard not built: ${r.reason ?? ''}${isFresh() ? '' : '; the core will serve a page saying so'}`);
    },
    (err: unknown) => {
      console.error('dashboard build failed:', err);
      process.exitCode = 1;
    },
  );
}
