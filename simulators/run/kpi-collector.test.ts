import { describe, expect, it } from 'vitest';
import type { Core, LiveEvent } from '../../src/index.js';
import { MeasuredOccupancy } from '../fast/measured-occupancy.js';
import { KpiCollector, quantile } from './kpi-collector.js';

/** Just enough of a core for the collector: a notifier, two reads and an empty site. */
function fakeCore(orders: Record<string, { createdAt: number; promisedBy?: number }>, tasks: Record<string, number>) {
  const listeners: ((e: LiveEvent) => void)[] = [];
  const core = {
    notifier: { publish: (e: LiveEvent) => listeners.forEach((l) => l(e)), subscribe: (l: (e: LiveEvent) => void) => (listeners.push(l), () => undefined) },
    store: { getOrder: (id: string) => orders[id], getTask: (id: string) => (tasks[id] !== undefined ? { createdAt: tasks[id] } : undefined) },
    registry: { get: () => undefined, status: () => 'idle' },
    traffic: { driveOf: () => undefined },
    layout: { devices: { amrs: [{ serialNumber: 'r1' }], asrs: [], conveyors: [] }, stations: [{ id: 'pack-1', kind: 'pack', nodeId: 'p' }] },
  } as unknown as Pick<Core, 'notifier' | 'store' | 'registry' | 'layout' | 'traffic'>;
  return core;
}

describe('KpiCollector', () => {
  it('counts completions after the warm-up only, with cycle times, promises and blocked time', () => {
    let now = 0;
    const core = fakeCore({ late: { createdAt: 0, promisedBy: 50_000 }, ontime: { createdAt: 20_000, promisedBy: 500_000 }, early: { createdAt: 0 } }, { t1: 90_000 });
    const occupancy = new MeasuredOccupancy(() => now);
    const k = new KpiCollector({ core, occupancy, now: () => now, startAt: 0, warmupEndAt: 60_000, bucketMs: 60_000 });
    const pub = (e: LiveEvent): void => core.notifier.publish(e);
    pub({ type: 'order.created', at: 0, data: { id: 'early' } });
    pub({ type: 'order.updated', at: 30_000, data: { id: 'early', fulfilment: 'PICKED', lines: [{ id: 'e1', state: 'PICKED', quantity: 2 }] } });
    pub({ type: 'order.created', at: 0, data: { id: 'late' } });
    pub({ type: 'order.created', at: 20_000, data: { id: 'ontime' } });
    pub({ type: 'order.updated', at: 100_000, data: { id: 'late', fulfilment: 'PICKED', lines: [{ id: 'l1', state: 'PICKED', quantity: 3 }, { id: 'l2', state: 'PICKED', quantity: 1 }] } });
    // A repeat of the same completion counts once.
    pub({ type: 'order.updated', at: 110_000, data: { id: 'late', fulfilment: 'PACKED', lines: [{ id: 'l1', state: 'PACKED', quantity: 3 }] } });
    pub({ type: 'order.updated', at: 120_000, data: { id: 'ontime', status: 'CLOSED', fulfilment: 'SHIPPED', lines: [{ id: 'o1', state: 'SHIPPED', quantity: 5 }] } });
    pub({ type: 'task.updated', at: 100_000, data: { id: 't1', state: 'DISPATCHED' } });
    pub({ type: 'exception.updated', at: 100_000, data: { id: 'E1', type: 'mispick' } });
    pub({ type: 'exception.updated', at: 101_000, data: { id: 'E1', type: 'mispick' } });
    now = 70_000;
    occupancy.recordConflict('r1', 'n1');
    k.sample(70_000);
    now = 80_000;
    k.sample(80_000);
    occupancy.enter('r1', 'n1');
    now = 120_000;
    const r = k.finish(120_000, { seed: 1, robots: 1, wallSeconds: 2 });
    expect(r.ordersCompleted).toBe(2);
    expect(r.linesCompleted).toBe(3);
    expect(r.unitsPicked).toBe(9);
    expect(r.ordersPerHour).toBe(120);
    expect(r.cycleTimes).toEqual([100, 100]);
    expect(r.onTimeRate).toBe(0.5);
    expect(r.dispatchLatencyMs.p50).toBe(10_000);
    expect(r.exceptionsByType).toEqual({ mispick: 1 });
    expect(r.congestionSeconds).toBe(10);
    const robot = r.utilization.find((u) => u.id === 'r1');
    // Utilization is sampled: each interval counts in the state seen when it ends.
    expect(robot).toMatchObject({ kind: 'amr', blocked: 20, idle: 40 });
    expect(r.utilization.find((u) => u.id === 'pack-1')).toMatchObject({ kind: 'station', busy: 0, idle: 60 });
    expect(r.throughput.map((b) => b.t)).toEqual([0, 60]);
    expect(r.speedup).toBe(60);
  });

  it('takes nearest-rank quantiles', () => {
    expect(quantile([], 0.5)).toBe(0);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
  });
});
