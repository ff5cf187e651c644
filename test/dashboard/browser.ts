/**
 * Headless Debian chromium for the dashboard tests and the fps benchmark, driven by
 * playwright-core (which never downloads a browser). Without `/usr/bin/chromium` the callers skip
 * and say so; `.ci/run` installs the package.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildDashboard } from '../../dashboards/build.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is not installed (Debian package "chromium"; .ci/run installs it when run as root)`;

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

/** The core serves what was built when it started: build (when the sources changed) before starting one. */
export async function ensureDashboardBuilt(): Promise<void> {
  const r = await buildDashboard({ ifStale: true });
  if (r.status === 'skipped') throw new Error(`the dashboard cannot be built: ${r.reason ?? 'unknown reason'}`);
}

export interface DashboardPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen so far. */
  errors: string[];
  screenshot(name: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openDashboard(browser: Browser, baseUrl: string, token: string, viewport = { width: 1366, height: 768 }, hash = ''): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  await page.goto(`${baseUrl}/#token=${encodeURIComponent(token)}${hash ? `&${hash}` : ''}`);
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    errors,
    screenshot: (name) => page.screenshot({ path: `${ARTIFACTS}${name}.png` }),
    close: () => context.close(),
  };
}

export interface RobotOnScreen {
  id: string;
  x: number;
  y: number;
  tone: string;
}

interface MapHandle {
  robotsOnScreen(): RobotOnScreen[];
  stats: { frames: number; drawMsTotal: number; drawn: { amr: number; fixed: number } };
}

declare global {
  interface Window {
    pickwire?: Record<string, unknown>;
  }
}

/** The floor map's robots as drawn, in page coordinates. */
export async function robotsOnPage(page: Page): Promise<RobotOnScreen[]> {
  const box = await page.locator('#floor-map').boundingBox();
  if (!box) throw new Error('the floor map is not on the page');
  const robots = await page.evaluate(() => (window.pickwire?.map as MapHandle | undefined)?.robotsOnScreen() ?? []);
  return robots.map((r) => ({ ...r, x: box.x + r.x, y: box.y + r.y }));
}

export async function mapStats(page: Page): Promise<MapHandle['stats'] | undefined> {
  return page.evaluate(() => (window.pickwire?.map as MapHandle | undefined)?.stats);
}
