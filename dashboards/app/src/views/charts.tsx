/**
 * Throughput and dispatch latency over the last hour, one point per minute, from `GET /kpis`
 * (`series`). Dispatch latency is the core's own measure: the time from a task becoming
 * dispatchable to its dispatch (src/app/kpis.ts), as p50 and p95 per minute.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { kpis } from '../state.js';
import type { Kpis } from '../types.js';

interface ChartSpec {
  title: string;
  series: { label: string; stroke: string; fill?: string; pick: (b: Kpis['series']['buckets'][number]) => number | null }[];
  unit: string;
}

const THROUGHPUT: ChartSpec = {
  title: 'Throughput per minute',
  unit: '',
  series: [
    { label: 'lines picked', stroke: '#4fb3ff', fill: 'rgba(79,179,255,0.15)', pick: (b) => b.linesPicked },
    { label: 'orders done', stroke: '#3ecf8e', pick: (b) => b.ordersCompleted },
    { label: 'orders in', stroke: '#9b7bff', pick: (b) => b.ordersReceived },
  ],
};

const LATENCY: ChartSpec = {
  title: 'Dispatch latency',
  unit: 'ms',
  series: [
    { label: 'p50 ms', stroke: '#3ecf8e', pick: (b) => b.dispatchLatencyP50Ms },
    { label: 'p95 ms', stroke: '#f5c542', pick: (b) => b.dispatchLatencyP95Ms },
  ],
};

/** Minutes before the core started counting are gaps, not zeros: nothing was measured then. */
function data(spec: ChartSpec, k: Kpis | null): uPlot.AlignedData {
  const buckets = k?.series.buckets ?? [];
  const since = k ? new Date(k.window.since).getTime() : 0;
  const bucketMs = k?.series.bucketMs ?? 60_000;
  const counted = (b: Kpis['series']['buckets'][number]) => new Date(b.at).getTime() + bucketMs > since;
  return [buckets.map((b) => new Date(b.at).getTime() / 1000), ...spec.series.map((s) => buckets.map((b) => (counted(b) ? s.pick(b) : null)))];
}

/** The plot fills its box less the legend row under it. */
function size(el: HTMLElement): { width: number; height: number } {
  const legend = el.querySelector<HTMLElement>('.u-legend')?.offsetHeight ?? 28;
  return { width: Math.max(200, el.clientWidth), height: Math.max(80, el.clientHeight - legend - 4) };
}

function Chart({ spec }: { spec: ChartSpec }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const k = kpis.value;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = { stroke: '#8a99a8', grid: { stroke: '#1f2a35', width: 1 }, ticks: { stroke: '#1f2a35', width: 1 }, font: '11px system-ui, sans-serif' };
    const clock = (_u: uPlot, splits: number[]) => splits.map((s) => new Date(s * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));
    const opts: uPlot.Options = {
      ...size(el),
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [{ ...axis, values: clock, size: 26 }, { ...axis, size: 56 }],
      series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, ...(s.fill ? { fill: s.fill } : {}), spanGaps: true, points: { show: false } }))],
    };
    const u = new uPlot(opts, data(spec, kpis.peek()), el);
    plot.current = u;
    // The legend's height is known only once it is laid out (it wraps in a narrow column).
    u.setSize(size(el));
    const ro = new ResizeObserver(() => u.setSize(size(el)));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [spec]);
  useEffect(() => {
    plot.current?.setData(data(spec, k));
  }, [k, spec]);
  return (
    <figure class="chart">
      <figcaption>{spec.title}</figcaption>
      <div class="chart-box" ref={box} role="img" aria-label={`${spec.title} over the last hour`} />
    </figure>
  );
}

export function Charts() {
  return (
    <section class="panel charts" aria-label="Charts">
      <Chart spec={THROUGHPUT} />
      <Chart spec={LATENCY} />
    </section>
  );
}
