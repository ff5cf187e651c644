/**
 * An external Mosquitto (Debian's package, started by the test) restarted mid-run (issue 7): the
 * core and the simulated site run against it, a sales channel posts orders, and while device
 * tasks are in flight the broker is stopped, left down a few seconds, and started again on the
 * same port with no memory (persistence off: no sessions, no retained messages).
 *
 * The core and every device must reconnect and resubscribe on their own (the core's retained
 * presence and the devices' announcements are published again), commands the core wrote while
 * the broker was away, or whose echo was lost with it, go out again from the outbox, and nothing
 * is lost or doubled: every acknowledged order is there once, no pick is booked twice, stock is
 * conserved. Lines that do not settle in time after the outage are a known gap (RELIABILITY.md),
 * counted in the figures; each must still be held by a task of the floor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHarness, waitFor, type Harness } from '../support/harness.js';
import { MOSQUITTO_SKIP_REASON, mosquittoBinary, startMosquitto, type RunningMosquitto } from '../support/mosquitto.js';
import { listStock } from '../support/orders.js';
import { checkInvariants, describeVehicles, floorDump, linesWithOpenException, onHandBySku, PICKED_OR_LATER, unsettledLines, OrderPoster, pickSkus, printFigures, readLedger, tasksInFlight, topUp } from '../support/reliability.js';

const hasMosquitto = mosquittoBinary() !== undefined;
if (!hasMosquitto) console.warn(`SKIPPED: ${MOSQUITTO_SKIP_REASON}`);

/** `BROKER_RESTART_HEAVY=1` runs the heavier load (2 orders/s of up to 2 lines, so trips are batched). */
const HEAVY = process.env.BROKER_RESTART_HEAVY === '1';
const DOWN_MS = 3000;
const ORDER_RATE = HEAVY ? 2 : 1;
const MAX_LINES_PER_ORDER = HEAVY ? 2 : 1;
const TASK_TIMEOUT_S = 20;
/** How long the floor gets to settle every line after the fault. */
const SETTLE_MS = 60_000;
/** Acknowledged orders before the broker goes down, and again after it is back. */
const ORDERS_PER_PHASE = 6;

describe.runIf(hasMosquitto)('an external Mosquitto restarted mid-run', () => {
  let broker: RunningMosquitto;
  let h: Harness;
  beforeAll(async () => {
    broker = await startMosquitto();
    // As in core-crash.test.ts: a trip without progress for TASK_TIMEOUT_S is retried elsewhere;
    // after the outage traffic control does not always pick up every drive (see RELIABILITY.md).
    h = await startHarness({ mqttUrl: broker.url, speed: 6, env: { PICKWIRE_TASK_TIMEOUT_SECONDS: String(TASK_TIMEOUT_S) } });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await broker?.stop();
  }, 60_000);

  it(
    'reconnects core and devices, re-sends outbox commands, loses or doubles nothing and accounts for every line',
    async () => {
      const t0 = Date.now();
      const phase = (what: string): void => console.info(`broker-restart +${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
      const get = (path: string): Promise<Response> => h.api(path);
      const post = (path: string, body: unknown): Promise<Response> => h.api(path, { method: 'POST', body: JSON.stringify(body) });
      const layout = h.core.layout;
      const devices = h.core.registry.list().map((d) => d.id);
      const reachable = (): boolean => h.core.registry.list().every((d) => h.core.registry.isReachable(d, Date.now()));
      await waitFor('every device reporting in', () => reachable() || undefined, 30_000, 100);

      const skus = pickSkus(layout, 10, 2);
      await topUp(post, get, skus, 1000);
      const initialOnHand = onHandBySku((await listStock(get)).filter((p) => skus.includes(p.sku)));
      const run = `broker-restart-${Date.now()}`;
      const poster = new OrderPoster({ layout, skus, seed: 11, token: ADMIN_TOKEN, run, baseUrl: () => h.baseUrl, maxLinesPerOrder: MAX_LINES_PER_ORDER });
      poster.start(ORDER_RATE);

      await waitFor('orders before the fault', () => poster.acknowledged().length >= ORDERS_PER_PHASE || undefined, 60_000, 100);
      const inFlight = await waitFor('tasks in flight', async () => {
        const n = await tasksInFlight(get);
        return n >= 3 ? n : undefined;
      }, 30_000, 100);
      const acknowledgedBefore = poster.acknowledged().length;
      const downAt = Date.now();
      await broker.restart(DOWN_MS);
      const upAt = Date.now();
      phase(`broker down for ${upAt - downAt} ms with ${inFlight} tasks in flight, ${acknowledgedBefore} orders acknowledged before`);

      // Core: connected again (readiness says so), presence re-published; devices: heard from anew.
      await waitFor('the core reconnected', async () => ((await fetch(`${h.baseUrl}/readyz`)).status === 200 ? true : undefined), 30_000, 100);
      await waitFor('every device heard from after the restart', () => h.core.registry.list().every((d) => (d.lastSeenAt ?? 0) > upAt && h.core.registry.isReachable(d, Date.now())) || undefined, 30_000, 100);
      phase(`core and ${devices.length} devices reconnected`);

      await waitFor('orders after the fault', () => poster.acknowledged().length >= acknowledgedBefore + ORDERS_PER_PHASE || undefined, 60_000, 100);
      await poster.stop();
      const retry = await poster.retryUnanswered();
      expect(poster.keysWith('refused'), 'no order refused').toEqual([]);
      expect(poster.keysWith('unanswered'), 'every key answered').toEqual([]);

      const acknowledged = poster.acknowledged();
      const ids = acknowledged.map((a) => a.orderId);
      // Nothing lost or doubled, right away; then the floor must carry every order through.
      const early = await checkInvariants(get, { acknowledged, keyPrefix: run, skus, initialOnHand, ledger: () => readLedger(h.dataDir) });
      expect(early.problems).toEqual([]);
      expect(early.orders).toBe(acknowledged.length);
      // Every line should settle: picked, or (retries used up) handed to the operator with an open
      // exception. KNOWN GAP (RELIABILITY.md): after the fault, traffic control does not always
      // resume every drive, and a trip with goods on board is never timed out, so some lines
      // stall. Those are counted (linesStalled) rather than failed on; each must still be owned by
      // the floor — a live task of its line — never orphaned.
      const settled = await waitFor('every acknowledged line picked or handed to the operator', async () => {
        const u = await unsettledLines(get, ids);
        return u.open.length === 0 ? u : undefined;
      }, SETTLE_MS, 500).catch(() => unsettledLines(get, ids));
      const owned = new Set<string>();
      for (const state of ['CREATED', 'DISPATCHED', 'RUNNING', 'PAUSED']) {
        const items = ((await (await get(`/api/v1/tasks?state=${state}`)).json()) as { items: { lineId: string }[] }).items;
        for (const t of items) owned.add(t.lineId);
      }
      const orphaned = settled.open.filter((l) => !owned.has(l.slice(0, l.indexOf(':'))));
      expect(orphaned, `lines neither settled nor held by a task\n${await floorDump(get)}`).toEqual([]);
      if (settled.open.length > 0) {
        const vehicles = new Map((h.site?.devices.amrs ?? []).map((a) => [a.serialNumber, a.vehicle.state]));
        const drives = [...vehicles.keys()].map((id) => `${id}: ${JSON.stringify(h.core.traffic.driveOf(id) ?? null)} holds ${JSON.stringify(h.core.traffic.reservedNodes(id))}`).join('\n');
        console.warn(`KNOWN GAP: ${settled.open.length} lines stalled after the fault: ${settled.open.join(', ')}\n${await floorDump(get)}\n--- vehicles as they report ---\n${describeVehicles(vehicles)}\n--- traffic control's drives ---\n${drives}`);
      }
      const told = await linesWithOpenException(get);
      expect(settled.gaveUp.filter((l) => !told.has(l)), 'every line given up has an open exception').toEqual([]);
      phase(`lines: ${settled.gaveUp.length} handed to the operator, ${settled.open.length} stalled`);

      // Commands and echoes flow again: tasks finished after the broker was back.
      const finishedAfter = h.core.store.tasksInStates(['FINISHED']).filter((t) => t.updatedAt > upAt).length;
      expect(finishedAfter).toBeGreaterThan(0);
      const ledger = readLedger(h.dataDir, ['task.failed']);
      const report = await checkInvariants(get, { acknowledged, keyPrefix: run, skus, initialOnHand, ledger });
      expect(report.problems).toEqual([]);
      expect(report.orders).toBe(acknowledged.length);
      // A stalled drive may leave an order update unechoed; with every line settled, nothing may be.
      // The last commands may still be on their way to their devices: echoed within a resend or two.
      if (settled.open.length === 0) await waitFor('every command echoed by its device', () => readLedger(h.dataDir, ['task.failed']).unconfirmedCommands === 0 || undefined, 15_000, 250);

      printFigures({
        test: 'broker-restart',
        faultsInjected: 1,
        ordersAcknowledged: acknowledged.length,
        ordersCompleted: report.all.filter((o) => o.lines.every((l) => PICKED_OR_LATER.includes(l.state))).length,
        ordersLost: report.lost,
        duplicates: report.duplicates,
        seconds: Math.round((Date.now() - t0) / 100) / 10,
        brokerDownMs: upAt - downAt,
        tasksInFlightAtStop: inFlight,
        linesPicked: report.lines - settled.gaveUp.length - settled.open.length,
        linesHandedToOperator: settled.gaveUp.length,
        linesStalled: settled.open.length,
        unitsPicked: report.unitsPicked,
        commandsResent: ledger.resentCommands,
        commandsUnconfirmed: ledger.unconfirmedCommands,
        tasksFailed: ledger.events['task.failed'],
        tripsTimedOutAndRetried: ledger.exceptions['task-timeout'] ?? 0,
        tripsTakenBackUnreachable: ledger.exceptions['device-unreachable'] ?? 0,
        rePosted: retry.retried,
        tasksFinishedAfterRestart: finishedAfter,
      });
    },
    180_000,
  );
});
