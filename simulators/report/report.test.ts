import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../random.js';
import { renderHtmlReport, sweepKnee } from './html-report.js';
import { estimate, histogram, kneeOf, percentile, percentiles, sampleStdDev, tQuantile975 } from './stats.js';
import { summarizeScenario } from './summarize.js';
import { escapeHtml, niceTicks } from './svg-charts.js';
import type { RunKpis, SimReport } from './types.js';
import { writeReport } from './write-report.js';

/** A plausible replication: throughput that saturates with robots, noisy by seed. */
function syntheticRun(seed: number, robots: number): RunKpis {
  const rng = createRng(seed * 1000 + robots);
  const units = 2400 * (1 - Math.exp(-robots / 25)) * (0.97 + 0.06 * rng.next());
  const cycleTimes = Array.from({ length: 400 }, () => 60 + rng.exponential(240));
  const [p50, p95, p99] = percentiles(cycleTimes, [50, 95, 99]) as [number, number, number];
  return {
    seed,
    robots,
    measuredSeconds: 7 * 3600,
    warmupSeconds: 3600,
    ordersCompleted: Math.round((units / 2.2) * 7),
    linesCompleted: Math.round((units / 1.4) * 7),
    unitsPicked: Math.round(units * 7),
    ordersPerHour: units / 2.2,
    linesPerHour: units / 1.4,
    unitsPerHour: units,
    cycleTimeSeconds: { p50, p95, p99 },
    cycleTimes,
    onTimeRate: 0.9 + 0.05 * rng.next(),
    utilization: [
      ...Array.from({ length: 3 }, (_, i) => ({ id: `amr-0${i + 1}`, kind: 'amr' as const, busy: 5000 + 100 * i, idle: 1000, charging: 800, blocked: 400 })),
      { id: 'st-1', kind: 'station' as const, busy: 6000, idle: 1200, charging: 0, blocked: 0 },
    ],
    congestionSeconds: robots * 30 * (1 + rng.next()),
    dispatchLatencyMs: { p50: 2 + rng.next(), p99: 9 + rng.next() },
    exceptionsByType: { mispick: Math.floor(rng.next() * 4), 'amr.blocked': 2 },
    throughput: Array.from({ length: 16 }, (_, i) => ({ t: (i + 1) * 1800, ordersPerHour: units / 2.2, linesPerHour: units / 1.4, unitsPerHour: i < 2 ? units * 0.6 : units })),
    wallSeconds: 20,
    speedup: (8 * 3600) / 20,
  };
}

function report(robots: number[], label = (r: number) => `${r} robots`): SimReport {
  return {
    site: 'rmfs-large',
    mode: 'fast',
    hours: 8,
    warmupHours: 1,
    baseSeed: 1,
    createdAt: '2026-11-27T05:00:00.000Z',
    scenarios: robots.map((r) => summarizeScenario(label(r), r, 900, [1, 2, 3].map((seed) => syntheticRun(seed, r)))),
    ...(robots.length > 1 ? { sweep: { parameter: 'robots' as const, values: robots } } : {}),
    bounds: [{ name: 'pick capacity', value: 2520, unit: 'units/h' }],
  };
}

describe('statistics', () => {
  it('computes the 95 % interval with Student t for few replications', () => {
    const e = estimate([1, 2, 3, 4, 5]);
    expect(e.mean).toBe(3);
    expect(e.n).toBe(5);
    // t(0.975, 4) = 2.776445, s = sqrt(2.5): half-width = 2.776445 * 1.5811388 / sqrt(5)
    expect(e.halfWidth95).toBeCloseTo(1.963243, 5);
    expect(sampleStdDev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.13809, 5);
    expect(estimate([10, 12]).halfWidth95).toBeCloseTo((12.706205 * Math.SQRT2) / Math.SQRT2, 5);
  });

  it('knows t quantiles from the table and beyond it', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.7062, 4);
    expect(tQuantile975(9)).toBeCloseTo(2.2622, 4);
    expect(tQuantile975(30)).toBeCloseTo(2.0423, 4);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 4);
    expect(tQuantile975(120)).toBeCloseTo(1.9799, 4);
    expect(tQuantile975(1e6)).toBeCloseTo(1.96, 3);
    expect(() => tQuantile975(0)).toThrow();
  });

  it('handles one, none and non-finite replications', () => {
    expect(estimate([42])).toEqual({ mean: 42, halfWidth95: 0, n: 1 });
    const none = estimate([]);
    expect(none.n).toBe(0);
    expect(none.mean).toBeNaN();
    expect(estimate([1, NaN, 3, Infinity])).toMatchObject({ mean: 2, n: 2 });
  });

  it('interpolates percentiles like numpy (type 7)', () => {
    const xs = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(percentile(xs, 50)).toBe(5.5);
    expect(percentile(xs, 95)).toBeCloseTo(9.55, 10);
    expect(percentiles(xs, [0, 100])).toEqual([1, 10]);
    expect(percentile([], 50)).toBeNaN();
  });

  it('bins a histogram, clamping values above the range into the last bin', () => {
    const bins = histogram([0, 1, 2, 3, 4, 100], 4, 4);
    expect(bins.map((b) => b.count)).toEqual([1, 1, 1, 3]);
    expect(bins[0]).toMatchObject({ from: 0, to: 1 });
  });

  it('rounds axis ticks to 1-2-5 steps', () => {
    expect(niceTicks(0, 2520)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe('congestion knee', () => {
  it('finds where the marginal gain falls below half the initial slope', () => {
    const capped = [10, 20, 30, 40, 50, 60].map((x) => ({ x, y: Math.min(100 * x, 3000) }));
    expect(kneeOf(capped)).toMatchObject({ x: 30, y: 3000, index: 2, slope: 0, initialSlope: 100 });
    // Saturating curve 3000 (1 - e^(-x/25)): slopes 64.7, 43.4, 29.1 ... first below 32.4 is 30 -> 40.
    const smooth = [10, 20, 30, 40, 50, 60, 70, 80].map((x) => ({ x, y: 3000 * (1 - Math.exp(-x / 25)) }));
    expect(kneeOf(smooth)?.x).toBe(30);
    expect(kneeOf(smooth, 0.25)?.x).toBe(50);
  });

  it('reports no knee for a straight line, too few points or a falling start', () => {
    expect(kneeOf([1, 2, 3, 4].map((x) => ({ x, y: 5 * x })))).toBeUndefined();
    expect(kneeOf([{ x: 1, y: 1 }, { x: 2, y: 2 }])).toBeUndefined();
    expect(kneeOf([{ x: 1, y: 5 }, { x: 2, y: 4 }, { x: 3, y: 3 }])).toBeUndefined();
  });

  it('sorts the points by x first', () => {
    const pts = [40, 10, 30, 20].map((x) => ({ x, y: Math.min(100 * x, 2000) }));
    expect(kneeOf(pts)?.x).toBe(20);
  });
});

describe('scenario summary', () => {
  it('takes mean and CI of every KPI over replications', () => {
    const reps = [syntheticRun(1, 40), syntheticRun(2, 40)];
    const s = summarizeScenario('40 robots', 40, 900, reps);
    expect(s.summary.unitsPerHour.mean).toBeCloseTo((reps[0]!.unitsPerHour + reps[1]!.unitsPerHour) / 2, 9);
    expect(s.summary.unitsPerHour.halfWidth95).toBeCloseTo(12.706205 * Math.abs(reps[0]!.unitsPerHour - reps[1]!.unitsPerHour) / 2, 6);
    expect(s.summary.robotUtilization.mean).toBeCloseTo((5000 / 7200 + 5100 / 7300 + 5200 / 7400) / 3, 9);
    expect(s.summary.stationUtilization.mean).toBeCloseTo(6000 / 7200, 9);
    expect(s.summary.cycleP95.n).toBe(2);
  });

  it('uses arm stations for station utilization where a site has no pack stations', () => {
    const run = { ...syntheticRun(1, 0), utilization: [{ id: 'arm-1', kind: 'arm' as const, busy: 30, idle: 70, charging: 0, blocked: 0 }] };
    const s = summarizeScenario('g2r', 0, 300, [run]);
    expect(s.summary.stationUtilization).toEqual({ mean: 0.3, halfWidth95: 0, n: 1 });
    expect(s.summary.robotUtilization.n).toBe(0);
  });
});

describe('HTML report', () => {
  it('is self-contained and has every chart of a sweep, with the knee marked', () => {
    const r = report([10, 20, 30, 40, 50, 60, 70, 80]);
    const html = renderHtmlReport(r);
    for (const chart of ['throughput', 'cycle-time', 'utilization-kind', 'utilization-resource', 'sweep']) expect(html).toContain(`data-chart="${chart}"`);
    const knee = sweepKnee(r);
    expect(knee).toBeDefined();
    expect(html).toContain(`knee at ${knee?.x}`);
    expect(html).toContain('Congestion knee at <b>');
    expect(html).toMatch(/± /);
    // Nothing that would make the browser fetch: no scripts, links, images, imports or URLs.
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=|href=/i);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:/);
  });

  it('escapes every string that comes from the run', () => {
    const r = report([40], () => '<script>alert("x")</script> & co');
    r.site = '<img src=x onerror=alert(1)>';
    r.scenarios[0]!.replications[0]!.exceptionsByType['<b>bad</b>'] = 1;
    const html = renderHtmlReport(r);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>bad</b>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('renders a single run without a sweep section and copes with an empty run', () => {
    const r = report([56]);
    const html = renderHtmlReport(r);
    expect(html).not.toContain('data-chart="sweep"');
    expect(html).toContain('data-chart="throughput"');
    const empty = { ...syntheticRun(1, 56), cycleTimes: [], utilization: [], throughput: [] };
    const html2 = renderHtmlReport({ ...r, scenarios: [summarizeScenario('empty', 56, 0, [empty])] });
    expect(html2).toContain('no completed orders');
    expect(html2).toContain('No utilization was recorded');
  });
});

describe('writeReport', () => {
  it('writes report.json and report.html, NaN as null', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pw-report-'));
    try {
      const r = report([20, 40, 60]);
      r.scenarios[0]!.summary.onTimeRate = { mean: NaN, halfWidth95: NaN, n: 0 };
      const out = await writeReport(join(dir, 'nested'), r);
      const json = JSON.parse(await readFile(out.json, 'utf8')) as SimReport;
      expect(json.scenarios).toHaveLength(3);
      expect(json.scenarios[0]?.summary.onTimeRate.mean).toBeNull();
      expect(json.scenarios[1]?.replications[0]?.cycleTimes.length).toBe(400);
      expect(await readFile(out.html, 'utf8')).toContain('data-chart="sweep"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
