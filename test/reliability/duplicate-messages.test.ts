/**
 * Duplicated, reordered and stale device messages (issue 7, item 3): the same scenario runs twice
 * on the simulated demo site, once clean and once with a fault-injecting MQTT client between the
 * devices and the core that publishes device messages again: duplicated at once, delayed past
 * newer ones, and old states replayed seconds later. The final state — every line, every stock
 * position, every task — must be identical, with no unit picked twice.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultStats } from '../support/fault-proxy.js';
import { orderBody, startHarness, waitFor, type Harness } from '../support/harness.js';
import { checkInvariants } from '../support/invariants.js';
import { counterSum, fetchMetrics } from '../support/metrics-text.js';
import { listStock, type StockView } from '../support/orders.js';
import type { SiteLayout } from '../../src/domain/site-layout.js';

const SPEED = 8;
const ACTIVE = ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED'] as const;

interface FinalState {
  lines: { externalId: string; sku: string; quantity: number; state: string; picked: number }[];
  stock: StockView[];
  /** Per line, the device steps that finished and any that failed or were canceled. */
  tasks: Record<string, string[]>;
  /** Per line: how many pick events the journal holds and how many units they took. */
  picks: Record<string, { events: number; units: number }>;
}

/** Fixed orders over both storage zones (AMR shelves and the AS/RS), the same in both runs. */
function scenario(layout: SiteLayout): Record<string, unknown>[] {
  const zoneOf = new Map(layout.locations.map((l) => [l.id, l.zone]));
  const pick = (zone: string, n: number): string[] => [...new Set(layout.stock.filter((s) => s.onHand > 10 && zoneOf.get(s.location) === zone).map((s) => s.sku))].slice(0, n);
  const [a0, a1, a2] = pick('amr', 3);
  const [s0, s1, s2] = pick('asrs', 3);
  return [
    [{ sku: a0!, quantity: 2 }, { sku: s0!, quantity: 1 }],
    [{ sku: a1!, quantity: 1 }],
    [{ sku: s1!, quantity: 2 }, { sku: a2!, quantity: 1 }],
    [{ sku: s2!, quantity: 1 }],
  ].map((lines, i) => orderBody(lines, { externalId: `dup-${i}` }));
}

async function runScenario(faulty: boolean, live: Harness[]): Promise<{ state: FinalState; faults: FaultStats | undefined; staleDropped: number; ms: number }> {
  const h = await startHarness({ speed: SPEED });
  live.push(h);
  const started = Date.now();
  const iface = h.core.config.mqttInterface;
  const site = h.core.layout.site.id;
  const proxy = faulty
    ? await startFaultProxy({
        mqttUrl: h.core.mqttUrl,
        topics: [...['state', 'visualization', 'connection'].map((t) => `${iface}/v2/+/+/${t}`), ...['jobState', 'telemetry', 'connection'].map((t) => `wcs/v1/${site}/+/+/${t}`)],
        seed: 5050,
        staleEveryMs: 100,
      })
    : undefined;
  const ids: string[] = [];
  for (const body of scenario(h.core.layout)) {
    const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(body) });
    expect(res.status).toBe(201);
    ids.push(((await res.json()) as { id: string }).id);
  }
  const store = h.core.store;
  await waitFor(
    `every line picked (${faulty ? 'faulty' : 'clean'} run)`,
    () => ids.every((id) => store.linesOf(id).every((l) => l.state === 'PICKED')) && store.tasksInStates(ACTIVE).length === 0,
    120_000,
    200,
  ).catch((err: Error) => {
    // What is stuck, for the report: lines not picked and the tasks still open, with their devices.
    const lines = ids.flatMap((id) => store.linesOf(id)).filter((l) => l.state !== 'PICKED').map((l) => `${l.id}:${l.state}`);
    const tasks = store.tasksInStates(ACTIVE).map((t) => `${t.id}:${t.kind}:${t.state}@${t.deviceId ?? '-'} progress=${JSON.stringify(t.progress)} device=${JSON.stringify(t.deviceId ? h.core.registry.get(t.deviceId) : undefined)}`);
    throw new Error(`${err.message}\nlines not picked: ${lines.join(', ')}\nopen tasks:\n${tasks.join('\n')}`);
  });
  // Stale replays keep coming after the work is done: they must not undo or redo any of it.
  await new Promise((r) => setTimeout(r, 2000));
  await proxy?.stop();
  await new Promise((r) => setTimeout(r, 500));

  const state: FinalState = { lines: [], stock: [], tasks: {}, picks: {} };
  for (const id of ids) {
    const order = store.getOrder(id)!;
    for (const line of store.linesOf(id)) {
      const key = `${order.externalId}/${line.sku}`;
      const view = (line.snapshot as { context?: { picked?: number } }).context;
      state.lines.push({ externalId: order.externalId!, sku: line.sku, quantity: line.quantity, state: line.state, picked: view?.picked ?? 0 });
      state.tasks[key] = store.tasksOfLine(line.id).map((t) => `${t.step}:${t.kind}:${t.deviceClass}:${t.state}`);
      const picks = store.orderEvents(id).filter((e) => e.type === 'stock.picked' && e.data.lineId === line.id);
      state.picks[key] = { events: picks.length, units: picks.reduce((s, e) => s + Number(e.data.quantity), 0) };
    }
  }
  state.stock = await listStock((p) => h.api(p));
  expect((await checkInvariants((p) => h.api(p))).problems).toEqual([]);
  // Replays older than what the core already applied are dropped at the door (src/app/ingest.ts).
  const staleDropped = counterSum(await fetchMetrics(h.baseUrl), 'pickwire_mqtt_messages_rejected_total', { reason: 'stale' });
  const ms = Date.now() - started;
  await h.stop();
  live.splice(live.indexOf(h), 1);
  return { state, faults: proxy?.stats, staleDropped, ms };
}

describe('duplicated, reordered and stale device messages', () => {
  const live: Harness[] = [];
  afterAll(async () => {
    for (const h of live) await h.stop();
  });

  it('end in the same state as a clean run, with no duplicate picks', async () => {
    const clean = await runScenario(false, live);
    const faulty = await runScenario(true, live);

    // The faults really happened, in numbers.
    expect(faulty.faults!.duplicated).toBeGreaterThan(20);
    expect(faulty.faults!.delayed).toBeGreaterThan(10);
    expect(faulty.faults!.stale).toBeGreaterThan(10);
    expect(clean.staleDropped, 'a clean run has nothing stale').toBe(0);
    expect(faulty.staleDropped, 'stale replays were recognised').toBeGreaterThan(0);

    for (const l of clean.state.lines) {
      expect(l.state).toBe('PICKED');
      expect(l.picked).toBe(l.quantity);
    }
    for (const [line, p] of Object.entries(faulty.state.picks)) {
      const quantity = faulty.state.lines.find((l) => `${l.externalId}/${l.sku}` === line)!.quantity;
      expect(p.units, `units picked for ${line}`).toBe(quantity);
    }
    expect(faulty.state.lines).toEqual(clean.state.lines);
    expect(faulty.state.picks).toEqual(clean.state.picks);
    expect(faulty.state.tasks).toEqual(clean.state.tasks);
    expect(faulty.state.stock).toEqual(clean.state.stock);

    const f = faulty.faults!;
    const units = clean.state.lines.reduce((s, l) => s + l.quantity, 0);
    console.log(
      `[duplicate-messages] orders=4 lines=${clean.state.lines.length} units=${units}; faults injected: device messages seen=${f.seen} duplicated=${f.duplicated} delayed/reordered=${f.delayed} stale replays=${f.stale} (dropped as stale by the core: ${faulty.staleDropped}); ` +
        `final state identical to the clean run (lines, stock positions, tasks); duplicate picks=0; clean ${clean.ms} ms, faulty ${faulty.ms} ms`,
    );
  }, 300_000);
});
