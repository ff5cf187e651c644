/**
 * The simulation report as one self-contained HTML page: inline CSS and SVG only, no scripts and
 * no external requests. Shows the KPI table (mean ± 95 % CI over replications), the analytic
 * bounds, throughput over time, the cycle-time distribution, utilization by resource kind and by
 * resource, and for a sweep the throughput-vs-robots curve with its congestion knee.
 */
import { estimate, histogram, kneeOf, mean, percentile, type Knee } from './stats.js';
import { escapeHtml, fmt, histogramChart, lineChart, sweepChart, stackedShareBars, type Series } from './svg-charts.js';
import type { Estimate, ResourceUtilization, ScenarioResult, SimReport } from './types.js';

/** The knee of a sweep: where one more robot adds less than half the units/h the first ones did. */
export const KNEE_FRACTION = 0.5;
const MAX_HISTOGRAMS = 12;

export function sweepKnee(report: SimReport): Knee | undefined {
  if (!report.sweep) return undefined;
  return kneeOf(report.scenarios.map((s) => ({ x: s.robots, y: s.summary.unitsPerHour.mean })), KNEE_FRACTION);
}

const est = (e: Estimate, digits = 0, scale = 1, unit = ''): string =>
  !Number.isFinite(e.mean) ? '–' : e.n > 1 ? `${fmt(e.mean * scale, digits)} ± ${fmt(e.halfWidth95 * scale, digits)}${unit}` : `${fmt(e.mean * scale, digits)}${unit}`;

function kpiTable(report: SimReport): string {
  const head = ['scenario', 'robots', 'orders in /h', 'n', 'orders/h', 'lines/h', 'units/h', 'cycle p50 s', 'cycle p95 s', 'cycle p99 s', 'on time', 'blocked s', 'robot util.', 'station util.'];
  const rows = report.scenarios.map((s) => {
    const m = s.summary;
    const cells = [
      escapeHtml(s.label),
      fmt(s.robots),
      fmt(s.orderRatePerHour),
      fmt(s.replications.length),
      est(m.ordersPerHour),
      est(m.linesPerHour),
      est(m.unitsPerHour),
      est(m.cycleP50, 1),
      est(m.cycleP95, 1),
      est(m.cycleP99, 1),
      est(m.onTimeRate, 1, 100, ' %'),
      est(m.congestionSeconds),
      est(m.robotUtilization, 1, 100, ' %'),
      est(m.stationUtilization, 1, 100, ' %'),
    ];
    return `<tr>${cells.map((c, i) => (i === 0 ? `<th scope="row">${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`;
  });
  return `<div class="scroll"><table class="kpi"><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function detailTable(report: SimReport): string {
  const types = [...new Set(report.scenarios.flatMap((s) => s.replications.flatMap((r) => Object.keys(r.exceptionsByType))))].sort();
  const head = ['scenario', 'dispatch p50 ms', 'dispatch p99 ms', ...types.map((t) => `exceptions: ${t}`), 'wall s / replication', 'speed-up'];
  const rows = report.scenarios.map((s) => {
    const reps = s.replications;
    const cells = [
      est(estimate(reps.map((r) => r.dispatchLatencyMs.p50)), 1),
      est(estimate(reps.map((r) => r.dispatchLatencyMs.p99)), 1),
      ...types.map((t) => est(estimate(reps.map((r) => r.exceptionsByType[t] ?? 0)), 1)),
      fmt(mean(reps.map((r) => r.wallSeconds)), 1),
      `${fmt(mean(reps.map((r) => r.speedup)))}x`,
    ];
    return `<tr><th scope="row">${escapeHtml(s.label)}</th>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return `<div class="scroll"><table class="kpi"><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

/** Mean units/h per time bucket across a scenario's replications (buckets matched by index). */
function meanThroughput(s: ScenarioResult): { x: number; y: number }[] {
  const longest = Math.max(0, ...s.replications.map((r) => r.throughput.length));
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < longest; i++) {
    const samples = s.replications.map((r) => r.throughput[i]).filter((t) => t !== undefined);
    if (samples.length === 0) continue;
    out.push({ x: mean(samples.map((t) => t.t)) / 3600, y: mean(samples.map((t) => t.unitsPerHour)) });
  }
  return out;
}

function throughputSection(report: SimReport): string {
  const single = report.scenarios.length === 1 ? report.scenarios[0] : undefined;
  const series: Series[] =
    single && single.replications.length > 1
      ? [
          { name: 'mean', points: meanThroughput(single) },
          ...single.replications.slice(0, 9).map((r) => ({ name: `seed ${r.seed}`, points: r.throughput.map((t) => ({ x: t.t / 3600, y: t.unitsPerHour })) })),
        ]
      : report.scenarios.map((s) => ({ name: s.label, points: meanThroughput(s) }));
  const unitsBound = Math.min(...report.bounds.filter((b) => b.unit === 'units/h').map((b) => b.value));
  return lineChart({
    kind: 'throughput',
    title: 'Throughput over time (units/h)',
    xLabel: 'simulated hours',
    yLabel: 'units/h',
    series,
    shade: { from: 0, to: report.warmupHours, label: 'warm-up (excluded)' },
    hLines: Number.isFinite(unitsBound) ? [{ y: unitsBound, label: `bound ${fmt(unitsBound)} units/h` }] : [],
  });
}

function cycleSection(report: SimReport): string {
  const shown = report.scenarios.slice(-MAX_HISTOGRAMS);
  const charts = shown.map((s) => {
    const times = s.replications.flatMap((r) => r.cycleTimes);
    if (times.length === 0) return `<p class="empty">${escapeHtml(s.label)}: no completed orders.</p>`;
    const p50 = percentile(times, 50);
    const p95 = percentile(times, 95);
    const p99 = percentile(times, 99);
    return histogramChart({
      kind: 'cycle-time',
      title: `Cycle time, ${s.label} (${fmt(times.length)} orders)`,
      xLabel: 'seconds from intake to picked',
      bins: histogram(times, 30, p99),
      markers: [
        { x: p50, label: `p50 ${fmt(p50)} s` },
        { x: p95, label: `p95 ${fmt(p95)} s` },
      ],
    });
  });
  const omitted = report.scenarios.length - shown.length;
  const note = `<p>Seconds from intake until the order was picked, pooled over replications; the last bin holds everything above p99.${omitted > 0 ? ` ${omitted} earlier scenarios omitted; their figures are in report.json.` : ''}</p>`;
  return `${note}<div class="grid">${charts.join('')}</div>`;
}

const PARTS = ['busy', 'idle', 'charging', 'blocked'] as const;
const parts = (u: Pick<ResourceUtilization, (typeof PARTS)[number]>): number[] => PARTS.map((p) => u[p]);

function utilizationSection(s: ScenarioResult): string {
  const byKind = new Map<string, number[]>();
  const byResource = new Map<string, { kind: string; sums: number[] }>();
  for (const r of s.replications) {
    for (const u of r.utilization) {
      const k = byKind.get(u.kind) ?? [0, 0, 0, 0];
      parts(u).forEach((v, i) => (k[i] = (k[i] ?? 0) + v));
      byKind.set(u.kind, k);
      const res = byResource.get(u.id) ?? { kind: u.kind, sums: [0, 0, 0, 0] };
      parts(u).forEach((v, i) => (res.sums[i] = (res.sums[i] ?? 0) + v));
      byResource.set(u.id, res);
    }
  }
  if (byKind.size === 0) return '<p class="empty">No utilization was recorded.</p>';
  const kinds = stackedShareBars({ kind: 'utilization-kind', title: `Utilization by resource kind, ${s.label}`, partNames: [...PARTS], rows: [...byKind].map(([label, p]) => ({ label, parts: p })) });
  const resources = stackedShareBars({
    kind: 'utilization-resource',
    title: `Utilization by resource, ${s.label}`,
    partNames: [...PARTS],
    rows: [...byResource].sort(([a, x], [b, y]) => x.kind.localeCompare(y.kind) || a.localeCompare(b, 'en', { numeric: true })).map(([label, r]) => ({ label, parts: r.sums })),
  });
  return `${kinds}${resources}`;
}

function sweepSection(report: SimReport, knee: Knee | undefined): string {
  if (!report.sweep) return '';
  const unitsBound = Math.min(...report.bounds.filter((b) => b.unit === 'units/h').map((b) => b.value));
  const chart = sweepChart({
    title: 'Throughput vs robots (units/h, mean ± 95 % CI)',
    xLabel: 'robots',
    yLabel: 'units/h',
    points: report.scenarios.map((s) => ({ x: s.robots, mean: s.summary.unitsPerHour.mean, half: s.summary.unitsPerHour.halfWidth95 })),
    ...(knee ? { knee: { x: knee.x, y: knee.y } } : {}),
    ...(Number.isFinite(unitsBound) ? { bound: { y: unitsBound, label: `bound ${fmt(unitsBound)} units/h` } } : {}),
  });
  const text = knee
    ? `Congestion knee at <b>${fmt(knee.x)} robots</b> (${fmt(knee.y)} units/h): beyond it one more robot adds ${fmt(knee.slope, 1)} units/h, less than ${fmt(KNEE_FRACTION * 100)} % of the ${fmt(knee.initialSlope, 1)} units/h per robot the first step added.`
    : `No knee: the marginal units/h per added robot never fell below ${fmt(KNEE_FRACTION * 100)} % of the first step's (or the sweep has fewer than three points).`;
  return `<section><h2>Sweep: ${escapeHtml(report.sweep.parameter)} = ${escapeHtml(report.sweep.values.join(', '))}</h2>${chart}<p>${text}</p></section>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}th[scope=row]{text-align:left}
thead th{background:#f2f2f2}.meta td,.meta th{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:12px}.grid svg.chart{width:calc(50% - 8px);min-width:420px}
svg.chart{font:11px system-ui,sans-serif;background:#fff;border:1px solid #e3e3e3;margin:6px 0;max-width:100%;height:auto}
.ct{font-size:13px;font-weight:600}.al{fill:#555}.gl{stroke:#eee}.axis{stroke:#888}
.shade{fill:#999;opacity:.12}.bound{stroke:#d62728;stroke-dasharray:6 4}.marker{stroke:#d62728;stroke-dasharray:3 3}.note{fill:#b22}
.bar{fill:#1f77b4}.whisker line{stroke:#1f77b4}.inbar{fill:#fff;font-weight:600}
.scroll{overflow-x:auto}.p0{fill:#2ca02c}.p1{fill:#c7c7c7}.p2{fill:#ff7f0e}.p3{fill:#d62728}.empty{color:#777}`;

export function renderHtmlReport(report: SimReport): string {
  const knee = sweepKnee(report);
  const primary = (knee ? report.scenarios[knee.index] : undefined) ?? report.scenarios[report.scenarios.length - 1];
  const meta: [string, string][] = [
    ['site', report.site],
    ['mode', report.mode],
    ['simulated hours', `${fmt(report.hours, 2)} (warm-up ${fmt(report.warmupHours, 2)} h excluded from KPIs)`],
    ['base seed', String(report.baseSeed)],
    ['scenarios', String(report.scenarios.length)],
    ['created', report.createdAt],
  ];
  const bounds = report.bounds.length
    ? `<table class="meta"><thead><tr><th>analytic bound</th><th>value</th></tr></thead><tbody>${report.bounds.map((b) => `<tr><td>${escapeHtml(b.name)}</td><td>${escapeHtml(`${fmt(b.value, 1)} ${b.unit}`)}</td></tr>`).join('')}</tbody></table>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(`Pickwire simulation report: ${report.site}`)}</title><style>${CSS}</style></head>
<body>
<h1>${escapeHtml(`Simulation report: ${report.site}`)}</h1>
<table class="meta"><tbody>${meta.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</tbody></table>
${bounds}
<section><h2>KPIs (mean ± 95 % confidence interval over replications, Student t)</h2>${kpiTable(report)}${detailTable(report)}</section>
${sweepSection(report, knee)}
<section><h2>Throughput over time</h2>${throughputSection(report)}</section>
<section><h2>Cycle-time distribution</h2>${cycleSection(report)}</section>
<section><h2>Utilization${primary ? escapeHtml(` (${primary.label})`) : ''}</h2>${primary ? utilizationSection(primary) : '<p class="empty">No scenarios.</p>'}</section>
<footer><p class="note">Generated by Pickwire's simulator. Figures per replication and every cycle time are in report.json.</p></footer>
</body></html>
`;
}

