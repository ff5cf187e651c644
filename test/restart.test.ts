/**
 * Restart durability in one process (DESIGN §4): the core is stopped while a device task of an
 * order is in flight and the simulated site keeps running against the same broker address; a new
 * core on the same data dir and the same MQTT port takes over. The order must survive with its
 * lines, be picked exactly once (stock falls by exactly the ordered quantity, one `stock.picked`
 * in the journal) and reach PICKED.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedSite, type SimulatedSite } from '../simulators/index.js';
import { orderBody, scaledClock, startHarness, waitFor, type Harness } from './support/harness.js';
import { freePort } from './support/process.js';

interface StockItem {
  sku: string;
  location: string;
  onHand: number;
  reserved: number;
}

interface OrderView {
  id: string;
  status: string;
  fulfilment: string;
  lines: { id: string; sku: string; quantity: number; state: string; location: string; zone: string }[];
}

interface TaskView {
  id: string;
  orderId: string;
  lineId: string;
  state: string;
  deviceId?: string;
}

async function stockOf(h: Harness, sku: string): Promise<StockItem[]> {
  const res = await h.api(`/api/v1/inventory?sku=${encodeURIComponent(sku)}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: StockItem[] }).items;
}

async function activeTasksOf(h: Harness, orderId: string): Promise<TaskView[]> {
  const found: TaskView[] = [];
  for (const state of ['DISPATCHED', 'RUNNING']) {
    const res = await h.api(`/api/v1/tasks?state=${state}`);
    expect(res.status).toBe(200);
    found.push(...((await res.json()) as { items: TaskView[] }).items.filter((t) => t.orderId === orderId));
  }
  return found;
}

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);

describe('a core restart in the middle of an order', () => {
  let site: SimulatedSite | undefined;
  let mqttPort = 0;
  const cores: Harness[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    // The site first, while a core's broker is (normally) still up; then the cores; then the dir.
    if (site) await within(site.stop(), 10_000).catch(() => undefined);
    site = undefined;
    for (const h of cores.splice(0).reverse()) await within(h.stop(), 10_000).catch(() => undefined);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('keeps the order, picks it exactly once and reaches PICKED', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-restart-'));
    dirs.push(dataDir);
    mqttPort = await freePort();
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;

    const h1 = await startHarness({ simulate: false, dataDir, mqttPort });
    cores.push(h1);
    expect(h1.core.mqttUrl).toBe(mqttUrl);

    // The site outlives the core: its devices reconnect to the same URL every second.
    site = await startSimulatedSite({
      layout: h1.core.layout,
      mqttUrl,
      interfaceName: h1.core.config.mqttInterface,
      clock: scaledClock(6),
    });

    // The AMR-zone position farthest from the robots' start row, so the trip outlasts the
    // restart: the robot is still under way (its base released only a few nodes ahead) when the
    // first core stops, and the pick is reported to the second one.
    const layout = h1.core.layout;
    const nodeOf = new Map(layout.graph.nodes.map((n) => [n.id, n]));
    const far = (locationId: string): number => {
      const node = nodeOf.get(layout.locations.find((l) => l.id === locationId)?.nodeId ?? '');
      return node ? node.x + node.y : -1;
    };
    const candidates = layout.stock.filter((s) => layout.locations.find((l) => l.id === s.location)?.zone === 'amr' && s.onHand > 10);
    const sku = [...candidates].sort((a, b) => far(b.location) - far(a.location))[0]?.sku;
    expect(sku).toBeDefined();
    const before = await stockOf(h1, sku!);

    const posted = await h1.api('/api/v1/orders', {
      method: 'POST',
      headers: { 'idempotency-key': `restart-${Date.now()}` },
      body: JSON.stringify(orderBody([{ sku: sku!, quantity: 2 }])),
    });
    expect(posted.status).toBe(201);
    const order = (await posted.json()) as OrderView;
    expect(order.lines).toHaveLength(1);
    const line = order.lines[0]!;
    expect(line.zone).toBe('amr');

    const inFlight = await waitFor(
      'a task of the order DISPATCHED or RUNNING',
      async () => {
        const tasks = await activeTasksOf(h1, order.id);
        return tasks.length > 0 ? tasks : undefined;
      },
      30_000,
      25,
    );
    expect(inFlight.every((t) => t.lineId === line.id)).toBe(true);

    // Stop the core while its device works on; the robot keeps driving with no master.
    await h1.core.stop('restart test');
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1000));

    const h2 = await startHarness({ simulate: false, dataDir, mqttPort });
    cores.push(h2);
    expect(h2.core.mqttUrl).toBe(mqttUrl);

    const survived = (await (await h2.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
    expect(survived.id).toBe(order.id);
    expect(survived.lines.map((l) => ({ id: l.id, sku: l.sku, quantity: l.quantity, location: l.location }))).toEqual(
      order.lines.map((l) => ({ id: l.id, sku: l.sku, quantity: l.quantity, location: l.location })),
    );

    const picked = await waitFor(
      'order PICKED after the restart',
      async () => {
        const o = (await (await h2.api(`/api/v1/orders/${order.id}`)).json()) as OrderView;
        return o.fulfilment === 'PICKED' ? o : undefined;
      },
      45_000,
      100,
    );
    expect(picked.lines[0]!.state).toBe('PICKED');

    // Exactly one pick: stock at the line's location fell by exactly 2, the reservation was
    // consumed, and no other position of the SKU moved.
    const after = await stockOf(h2, sku!);
    const location = picked.lines[0]!.location;
    const was = before.find((p) => p.location === location)!;
    const now = after.find((p) => p.location === location)!;
    expect(now.onHand).toBe(was.onHand - 2);
    expect(now.reserved).toBe(was.reserved);
    for (const p of after.filter((q) => q.location !== location)) {
      expect(p.onHand).toBe(before.find((b) => b.location === p.location)!.onHand);
    }

    const timeline = (await (await h2.api(`/api/v1/orders/${order.id}/timeline`)).json()) as {
      events: { type: string; at: string; aggregateId: string; data: { lineId?: string; quantity?: number } }[];
    };
    const picks = timeline.events.filter((e) => e.type === 'stock.picked' && e.data.lineId === line.id);
    expect(picks).toHaveLength(1);
    expect(picks[0]!.data.quantity).toBe(2);
    // The scenario really happened: the pick was journaled by the second core, after the stop.
    expect(Date.parse(picks[0]!.at)).toBeGreaterThanOrEqual(stoppedAt);
    expect(timeline.events.filter((e) => e.aggregateId === line.id && e.type === 'line.picked')).toHaveLength(1);
  }, 90_000);
});
