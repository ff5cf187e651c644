import { describe, expect, it } from 'vitest';
import { createLocalNotifier } from '../api/stream.js';
import type { LineRecord, TaskRecord } from '../domain/records.js';
import type { Clock, LiveEvent } from '../ports.js';
import { DeviceRegistry } from './device-registry.js';
import { KpiService, quantile } from './kpis.js';

const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);

function setup() {
  let now = T0;
  const clock: Clock = { now: () => now, setTimer: () => () => undefined };
  const notifier = createLocalNotifier();
  const lines = new Map<string, Pick<LineRecord, 'state' | 'quantity'>>();
  const tasks = new Map<string, Pick<TaskRecord, 'createdAt'>>();
  const registry = new DeviceRegistry({ watchdogMs: 15_000 });
  registry.declare('amr-1', 'amr');
  registry.declare('conv-1', 'conveyor');
  let queries = 0;
  const kpis = new KpiService(
    {
      store: {
        getLine: (id) => lines.get(id) as LineRecord | undefined,
        getTask: (id) => tasks.get(id) as TaskRecord | undefined,
        countOpenExceptionsByType: () => ({ 'short-pick': 2, mispick: 0 }),
      },
      queries: {
        openOrdersByFulfilment: () => {
          queries++;
          return { PICKING: 3, SOURCED: 1 };
        },
        ordersByPromise: () => ({ late: 1, atRisk: 2 }),
      },
      registry,
      notifier,
      clock,
    },
    { cacheMs: 1000 },
  );
  const publish = (type: string, data: Record<string, unknown>, at = now): void => notifier.publish({ type, at, data } satisfies LiveEvent);
  return {
    kpis,
    publish,
    lines,
    tasks,
    advance: (ms: number) => (now += ms),
    queries: () => queries,
  };
}

describe('KpiService', () => {
  it('counts orders received, orders completed once, and lines picked once each', () => {
    const s = setup();
    s.publish('order.created', { id: 'O-1', status: 'OPEN', fulfilment: 'SOURCED' });
    s.publish('order.created', { id: 'O-2', status: 'OPEN', fulfilment: 'SOURCED' });
    s.lines.set('O-1-L1', { state: 'PICKED', quantity: 3 });
    s.publish('task.updated', { id: 'T-1', state: 'FINISHED', lineId: 'O-1-L1' });
    // A second finished step of the same line is not a second line.
    s.publish('task.updated', { id: 'T-2', state: 'FINISHED', lineId: 'O-1-L1' });
    // A finished step whose line is not picked yet counts nothing.
    s.lines.set('O-2-L1', { state: 'PICKING', quantity: 1 });
    s.publish('task.updated', { id: 'T-3', state: 'FINISHED', lineId: 'O-2-L1' });
    s.publish('order.updated', { id: 'O-1', status: 'OPEN', fulfilment: 'PICKED', lines: [{ id: 'O-1-L1', sku: 'A', quantity: 3, state: 'PICKED' }] });
    s.publish('order.updated', { id: 'O-1', status: 'OPEN', fulfilment: 'PACKED', lines: [{ id: 'O-1-L1', sku: 'A', quantity: 3, state: 'PACKED' }] });
    const k = s.kpis.kpis();
    expect(k.throughput).toEqual({ ordersPerHour: 1, ordersReceivedPerHour: 2, linesPerHour: 1, unitsPerHour: 3 });
    // A line seen picked in an order update counts at once, before its trip ends.
    s.publish('order.updated', { id: 'O-2', status: 'OPEN', fulfilment: 'PICKING', lines: [{ id: 'O-2-L1', quantity: 1, state: 'PICKING' }, { id: 'O-2-L2', quantity: 4, state: 'PICKED' }] });
    expect(s.kpis.kpis().throughput).toMatchObject({ linesPerHour: 2, unitsPerHour: 7, ordersPerHour: 1 });
  });

  it('measures dispatch latency from creation, or from the end of the previous step', () => {
    const s = setup();
    s.tasks.set('T-1', { createdAt: T0 });
    s.advance(200);
    s.publish('task.updated', { id: 'T-1', state: 'DISPATCHED', lineId: 'L1' });
    s.tasks.set('T-2', { createdAt: T0 });
    s.advance(5000);
    s.publish('task.updated', { id: 'T-1', state: 'FINISHED', lineId: 'L1' });
    s.lines.set('L1', { state: 'PICKING', quantity: 1 });
    s.advance(50);
    s.publish('task.updated', { id: 'T-2', state: 'DISPATCHED', lineId: 'L1' });
    const k = s.kpis.kpis();
    expect(k.dispatchLatency).toEqual({ count: 2, p50Ms: 50, p95Ms: 200, maxMs: 200 });
  });

  it('keeps an hour of one-minute buckets, oldest first, and forgets older ones', () => {
    const s = setup();
    s.publish('order.created', { id: 'O-1' });
    s.advance(30 * 60_000);
    s.publish('order.created', { id: 'O-2' });
    let k = s.kpis.kpis();
    expect(k.series.buckets).toHaveLength(60);
    expect(k.series.buckets.reduce((n, b) => n + b.ordersReceived, 0)).toBe(2);
    expect(k.series.buckets.at(-1)?.ordersReceived).toBe(1);
    expect(k.window.since).toBe(new Date(T0).toISOString());
    s.advance(45 * 60_000);
    k = s.kpis.kpis();
    expect(k.throughput.ordersReceivedPerHour).toBe(1);
    expect(new Date(k.window.since).getTime()).toBe(T0 + 75 * 60_000 - 3600_000);
  });

  it('reads states at most once per cache period and sums them', () => {
    const s = setup();
    const k = s.kpis.kpis();
    expect(k.orders).toEqual({ open: 4, byState: { PICKING: 3, SOURCED: 1 }, late: 1, atRisk: 2, atRiskWithinMinutes: 60 });
    expect(k.exceptions).toEqual({ open: 2, byType: { 'short-pick': 2, mispick: 0 } });
    expect(k.devices.total).toBe(2);
    expect(k.devices.byClass).toEqual({ amr: { unknown: 1 }, conveyor: { unknown: 1 } });
    s.kpis.kpis();
    expect(s.queries()).toBe(1);
    s.advance(1500);
    s.kpis.kpis();
    expect(s.queries()).toBe(2);
  });

  it('stops counting once stopped', () => {
    const s = setup();
    s.kpis.stop();
    s.publish('order.created', { id: 'O-1' });
    expect(s.kpis.kpis().throughput.ordersReceivedPerHour).toBe(0);
  });
});

describe('quantile', () => {
  it('is the nearest rank', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.95)).toBe(4);
    expect(quantile([7], 0.95)).toBe(7);
  });
});
