/**
 * The operator dashboard end to end (issue 6): a real core with the simulated demo site, the
 * built dashboard it serves, and headless Debian chromium. Screenshots go to
 * test-artifacts/dashboard/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ADMIN_TOKEN, VIEWER_TOKEN, orderBody, startHarness, waitFor, type Harness } from '../support/harness.js';
import { ARTIFACTS, chromiumMissing, ensureDashboardBuilt, launchChromium, mapStats, openDashboard, robotsOnPage, type DashboardPage } from './browser.js';

interface DeviceJson {
  id: string;
  class: string;
  state: string;
  position: { x: number; y: number } | null;
}
interface OrderJson {
  id: string;
  holds: { id: string; status: string; resolvedBy: string | null }[];
}

if (chromiumMissing) console.warn(`dashboard browser tests skipped: ${chromiumMissing}`);

describe.skipIf(chromiumMissing !== undefined)(chromiumMissing ? `dashboard in headless chromium (skipped: ${chromiumMissing})` : 'dashboard in headless chromium', () => {
  let h: Harness;
  let browser: Browser;
  let customer = 0;

  const json = async <T>(path: string, token = ADMIN_TOKEN): Promise<T> => {
    const res = await h.api(path, { token });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  /** A small order of AMR-zone SKUs: it scores far under the hold threshold and sends robots out. */
  const smallOrder = async (): Promise<OrderJson> => {
    customer += 1;
    const res = await h.api('/api/v1/orders', {
      method: 'POST',
      body: JSON.stringify(orderBody([{ sku: 'SKU-0002', quantity: 1 }, { sku: 'SKU-0004', quantity: 1 }], { customer: { id: `ui-small-${customer}` }, externalId: `UI-${customer}` })),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as OrderJson;
  };
  /** A new customer's first order of ten high-value units: first-order value plus bulk puts it on hold. */
  const heldOrder = async (): Promise<OrderJson> => {
    customer += 1;
    const res = await h.api('/api/v1/orders', {
      method: 'POST',
      body: JSON.stringify(orderBody([{ sku: 'SKU-0003', quantity: 10 }], { customer: { id: `ui-risky-${customer}` } })),
    });
    expect(res.status).toBe(201);
    const order = (await res.json()) as OrderJson;
    expect(order.holds.some((x) => x.status === 'open')).toBe(true);
    return order;
  };
  const noErrors = (p: DashboardPage): void => expect(p.errors, 'console errors').toEqual([]);
  /** An idle robot as drawn: it stands still, so a click lands on it. */
  const idleRobot = (p: DashboardPage) =>
    waitFor('an idle robot on the map', async () => {
      const idle = (await json<{ items: DeviceJson[] }>('/api/v1/devices')).items.filter((d) => d.class === 'amr' && d.state === 'idle').map((d) => d.id);
      return (await robotsOnPage(p.page)).find((r) => idle.includes(r.id));
    });

  beforeAll(async () => {
    await ensureDashboardBuilt();
    h = await startHarness({ speed: 5, env: { PICKWIRE_RISK_HOLD_THRESHOLD: '60' } });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('draws every device of the site on the map, and the robots move between two screenshots', async () => {
    const p = await openDashboard(browser, h.baseUrl, ADMIN_TOKEN);
    try {
      const layout = h.core.layout.devices;
      const fixed = layout.asrs.length + layout.conveyors.length + layout.arms.length;
      // Every AMR the core has a position for is drawn, and every piece of fixed equipment.
      const placed = await waitFor('every AMR to report a position', async () => {
        const devices = (await json<{ items: DeviceJson[] }>('/api/v1/devices')).items;
        const n = devices.filter((d) => d.class === 'amr' && d.position).length;
        return n === layout.amrs.length ? n : undefined;
      });
      await waitFor('the map to draw them', async () => {
        const s = await mapStats(p.page);
        return s?.drawn.amr === placed && s.drawn.fixed === fixed ? true : undefined;
      });
      expect((await robotsOnPage(p.page)).length).toBe(placed);

      for (let i = 0; i < 4; i++) await smallOrder();
      await waitFor('a robot to drive', async () => ((await json<{ items: DeviceJson[] }>('/api/v1/devices')).items.some((d) => d.class === 'amr' && d.state === 'busy') ? true : undefined));
      const canvas = p.page.locator('#floor-map');
      await p.page.waitForTimeout(500);
      const before = await robotsOnPage(p.page);
      const shotA = await canvas.screenshot({ path: `${ARTIFACTS}map-1.png` });
      await p.page.waitForTimeout(1500);
      const after = await robotsOnPage(p.page);
      const shotB = await canvas.screenshot({ path: `${ARTIFACTS}map-2.png` });
      const moved = after.filter((r) => {
        const was = before.find((b) => b.id === r.id);
        return was !== undefined && Math.hypot(was.x - r.x, was.y - r.y) > 2;
      });
      expect(moved.length, 'robots that moved on screen').toBeGreaterThan(0);
      expect(shotA.equals(shotB), 'the two map screenshots differ').toBe(false);
      await p.screenshot('floor-1366x768');
      noErrors(p);
    } finally {
      await p.close();
    }
  });

  it('pauses a robot from its panel, and GET /devices/:id shows it paused', async () => {
    const p = await openDashboard(browser, h.baseUrl, ADMIN_TOKEN);
    try {
      const target = await idleRobot(p);
      await p.page.mouse.click(target.x, target.y);
      const panel = p.page.locator(`[data-device="${target.id}"]`);
      await panel.waitFor();
      await panel.locator('button[data-command="pause"]').click();
      await waitFor(`${target.id} to report paused`, async () => ((await json<DeviceJson>(`/api/v1/devices/${target.id}`)).state === 'paused' ? true : undefined), 20_000);
      await expect.poll(() => panel.locator('[data-testid="device-state"]').textContent(), { timeout: 10_000 }).toBe('paused');
      await p.screenshot('device-panel-paused');
      await panel.locator('button[data-command="resume"]').click();
      await waitFor(`${target.id} to resume`, async () => ((await json<DeviceJson>(`/api/v1/devices/${target.id}`)).state !== 'paused' ? true : undefined), 20_000);
      noErrors(p);
    } finally {
      await p.close();
    }
  });

  it('releases a hold from the exceptions queue', async () => {
    const order = await heldOrder();
    const hold = order.holds[0];
    if (!hold) throw new Error('no hold');
    const p = await openDashboard(browser, h.baseUrl, ADMIN_TOKEN);
    try {
      await p.page.click('#tab-exceptions');
      const card = p.page.locator(`[data-hold="${hold.id}"]`);
      await card.waitFor();
      await card.locator('button[data-action="release-hold"]').click();
      await card.locator('textarea').fill('called the customer: genuine order');
      await p.screenshot('hold-release-form');
      await card.locator('button[data-confirm="release-hold"]').click();
      await waitFor('the hold to be released', async () => {
        const o = await json<OrderJson>(`/api/v1/orders/${order.id}`);
        return o.holds.find((x) => x.id === hold.id)?.status === 'released' ? o : undefined;
      });
      const released = (await json<OrderJson>(`/api/v1/orders/${order.id}`)).holds.find((x) => x.id === hold.id);
      expect(released?.resolvedBy).toBe('admin');
      await card.waitFor({ state: 'detached' });
      await p.screenshot('hold-released');
      noErrors(p);
    } finally {
      await p.close();
    }
  });

  it('finds an order by id and shows its lines and timeline', async () => {
    const order = await smallOrder();
    const p = await openDashboard(browser, h.baseUrl, ADMIN_TOKEN);
    try {
      await p.page.click('#tab-orders');
      await p.page.fill('#order-search', order.id);
      await p.page.press('#order-search', 'Enter');
      const detail = p.page.locator(`article[data-order="${order.id}"]`);
      await detail.waitFor();
      await expect.poll(() => detail.locator('#order-timeline li').count()).toBeGreaterThan(3);
      const timeline = await detail.locator('#order-timeline').innerText();
      expect(timeline).toContain('order.received');
      expect(timeline).toContain('line.sourced');
      expect(await detail.locator('#order-lines tbody tr').count()).toBe(2);
      await p.screenshot('order-detail');
      noErrors(p);
    } finally {
      await p.close();
    }
  });

  it('offers a viewer no action, and the server refuses one anyway', async () => {
    const order = await heldOrder();
    const hold = order.holds[0];
    if (!hold) throw new Error('no hold');
    const p = await openDashboard(browser, h.baseUrl, VIEWER_TOKEN);
    try {
      await expect.poll(() => p.page.locator('#role').textContent()).toBe('viewer');
      // Floor: the device panel has facts but no commands.
      const robot = await idleRobot(p);
      await p.page.mouse.click(robot.x, robot.y);
      const panel = p.page.locator('.device-panel[data-device]');
      await panel.waitFor();
      expect(await panel.locator('button[data-command]').count()).toBe(0);
      // Queue: the hold is listed without release or reject.
      await p.page.click('#tab-exceptions');
      const card = p.page.locator(`[data-hold="${hold.id}"]`);
      await card.waitFor();
      expect(await card.locator('[data-action]').count()).toBe(0);
      // Order: no cancel.
      await p.page.click('#tab-orders');
      await p.page.fill('#order-search', order.id);
      await p.page.press('#order-search', 'Enter');
      await p.page.locator(`article[data-order="${order.id}"]`).waitFor();
      expect(await p.page.locator('[data-action]').count()).toBe(0);
      await p.screenshot('viewer-order');
      noErrors(p);
    } finally {
      await p.close();
    }
    // The server refuses what the UI does not offer.
    const pause = await h.api(`/api/v1/devices/${robotId()}/commands`, { method: 'POST', token: VIEWER_TOKEN, body: JSON.stringify({ type: 'pause' }) });
    expect(pause.status).toBe(403);
    expect(((await pause.json()) as { error: { code: string } }).error.code).toBe('PW_ERR_FORBIDDEN');
    const release = await h.api(`/api/v1/holds/${hold.id}/release`, { method: 'POST', token: VIEWER_TOKEN, body: JSON.stringify({}) });
    expect(release.status).toBe(403);
    expect((await json<OrderJson>(`/api/v1/orders/${order.id}`)).holds.find((x) => x.id === hold.id)?.status).toBe('open');
  });

  it('signs in with a token typed into the form', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    try {
      await page.goto(`${h.baseUrl}/`);
      await page.fill('#token-input', VIEWER_TOKEN);
      await page.press('#token-input', 'Enter');
      await expect.poll(() => page.locator('#role').textContent()).toBe('viewer');
      await page.locator('#stream-state', { hasText: 'live' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('reconnects after the server drops the stream, and resumes from a fresh snapshot', async () => {
    const p = await openDashboard(browser, h.baseUrl, ADMIN_TOKEN);
    try {
      await p.page.locator('#stream-state', { hasText: 'live' }).waitFor();
      const stats = () => p.page.evaluate(() => (window.pickwire?.streamStats as () => { connects: number; snapshots: number; frames: number })());
      expect(await stats()).toMatchObject({ connects: 1, snapshots: 1 });
      for (const client of h.core.app.websocketServer.clients) client.terminate();
      await expect.poll(async () => (await stats()).connects, { timeout: 15_000 }).toBe(2);
      await p.page.locator('#stream-state', { hasText: 'live' }).waitFor();
      const after = await stats();
      expect(after.snapshots).toBe(2);
      // Still live: the map keeps drawing every device.
      expect((await mapStats(p.page))?.drawn.amr).toBe(h.core.layout.devices.amrs.length);
      // The browser reports a dropped WebSocket as an error of its own; nothing else may appear.
      expect(p.errors.filter((e) => !/WebSocket/i.test(e))).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('shows every view without console errors, on a laptop and on a wall screen', async () => {
    for (const viewport of [
      { width: 1366, height: 768 },
      { width: 2560, height: 1440 },
    ]) {
      const p = await openDashboard(browser, h.baseUrl, ADMIN_TOKEN, viewport);
      try {
        await p.page.locator('#stream-state', { hasText: 'live' }).waitFor();
        for (const view of ['floor', 'orders', 'exceptions', 'devices', 'inventory'] as const) {
          await p.page.click(`#tab-${view}`);
          await p.page.waitForTimeout(400);
          await p.screenshot(`${view}-${viewport.width}x${viewport.height}`);
        }
        // Keyboard: the views switch with Alt+digit and the tabs with arrow keys.
        await p.page.keyboard.press('Alt+2');
        await expect.poll(() => p.page.locator('#tab-orders').getAttribute('aria-selected')).toBe('true');
        // Nothing overflows the window sideways.
        const overflow = await p.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow).toBeLessThanOrEqual(0);
        noErrors(p);
      } finally {
        await p.close();
      }
    }
  });

  function robotId(): string {
    const first = h.core.layout.devices.amrs[0];
    if (!first) throw new Error('the layout has no AMR');
    return first.serialNumber;
  }
});
