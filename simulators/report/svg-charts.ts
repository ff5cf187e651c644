/**
 * Inline SVG charts for the self-contained HTML report: no scripts, no fonts, no requests, so
 * the page opens from a file, in a mail attachment or a CI artifact viewer alike. Every string
 * that reaches the markup goes through `escapeHtml`.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

const W = 640;
const H = 300;
const M = { left: 64, right: 16, top: 28, bottom: 44 };

/** Round the axis to 1, 2 or 5 x 10^k steps. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max <= min) max = min + 1;
  const raw = (max - min) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let i = Math.floor(min / step); i * step <= max + step * 1e-9; i++) ticks.push(Number((i * step).toPrecision(12)));
  if ((ticks[ticks.length - 1] ?? max) < max) ticks.push(Number(((ticks[ticks.length - 1] ?? 0) + step).toPrecision(12)));
  return ticks;
}

export function fmt(v: number, digits = 0): string {
  if (!Number.isFinite(v)) return '–';
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

interface Frame {
  x: (v: number) => number;
  y: (v: number) => number;
  svg: string[];
}

function frame(title: string, xTicks: number[], yTicks: number[], xLabel: string, yLabel: string, tickFmt: (v: number) => string = (v) => fmt(v, 1).replace(/\.0$/, '')): Frame {
  const x0 = xTicks[0] ?? 0;
  const x1 = xTicks[xTicks.length - 1] ?? 1;
  const y0 = yTicks[0] ?? 0;
  const y1 = yTicks[yTicks.length - 1] ?? 1;
  const x = (v: number): number => M.left + ((v - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const y = (v: number): number => H - M.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const svg = [`<text x="${M.left}" y="16" class="ct">${escapeHtml(title)}</text>`];
  for (const t of yTicks) svg.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="gl"/><text x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${escapeHtml(tickFmt(t))}</text>`);
  for (const t of xTicks) svg.push(`<text x="${x(t).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeHtml(tickFmt(t))}</text>`);
  svg.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" class="axis"/><line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" class="axis"/>`);
  svg.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle" class="al">${escapeHtml(xLabel)}</text>`);
  svg.push(`<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" class="al">${escapeHtml(yLabel)}</text>`);
  return { x, y, svg };
}

function wrap(kind: string, label: string, body: string[], height = H): string {
  return `<svg class="chart" data-chart="${escapeHtml(kind)}" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeHtml(label)}" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(label)}</title>${body.join('')}</svg>`;
}

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export function lineChart(opts: { kind: string; title: string; xLabel: string; yLabel: string; series: Series[]; shade?: { from: number; to: number; label: string }; hLines?: { y: number; label: string }[] }): string {
  const pts = opts.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const hl = (opts.hLines ?? []).filter((l) => Number.isFinite(l.y));
  const xs = pts.map((p) => p.x);
  const ys = [...pts.map((p) => p.y), ...hl.map((l) => l.y)];
  const f = frame(opts.title, niceTicks(Math.min(0, ...xs), Math.max(1, ...xs)), niceTicks(0, Math.max(1, ...ys) * 1.05), opts.xLabel, opts.yLabel);
  if (opts.shade && opts.shade.to > opts.shade.from) {
    const a = f.x(opts.shade.from);
    const b = f.x(opts.shade.to);
    f.svg.push(`<rect x="${a.toFixed(1)}" y="${M.top}" width="${(b - a).toFixed(1)}" height="${H - M.top - M.bottom}" class="shade"/><text x="${(a + 4).toFixed(1)}" y="${H - M.bottom - 6}" class="note">${escapeHtml(opts.shade.label)}</text>`);
  }
  for (const l of hl) f.svg.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${f.y(l.y).toFixed(1)}" y2="${f.y(l.y).toFixed(1)}" class="bound"/><text x="${W - M.right - 4}" y="${(f.y(l.y) - 4).toFixed(1)}" text-anchor="end" class="note">${escapeHtml(l.label)}</text>`);
  opts.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const d = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p, j) => `${j === 0 ? 'M' : 'L'}${f.x(p.x).toFixed(1)},${f.y(p.y).toFixed(1)}`).join('');
    if (d) f.svg.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"/>`);
    // Legend below the plot, four entries a row, so it never hides a curve.
    const lx = M.left + (i % 4) * 140;
    const ly = H + 2 + Math.floor(i / 4) * 14;
    f.svg.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${ly + 9}">${escapeHtml(s.name)}</text>`);
  });
  return wrap(opts.kind, opts.title, f.svg, H + 6 + Math.ceil(opts.series.length / 4) * 14);
}

export function histogramChart(opts: { kind: string; title: string; xLabel: string; bins: { from: number; to: number; count: number }[]; markers?: { x: number; label: string }[] }): string {
  const maxCount = Math.max(1, ...opts.bins.map((b) => b.count));
  const lo = opts.bins[0]?.from ?? 0;
  const hi = opts.bins[opts.bins.length - 1]?.to ?? 1;
  const f = frame(opts.title, niceTicks(lo, hi), niceTicks(0, maxCount), opts.xLabel, 'orders');
  for (const b of opts.bins) {
    const x = f.x(b.from);
    const w = Math.max(0.5, f.x(b.to) - x - 1);
    f.svg.push(`<rect x="${x.toFixed(1)}" y="${f.y(b.count).toFixed(1)}" width="${w.toFixed(1)}" height="${(H - M.bottom - f.y(b.count)).toFixed(1)}" class="bar"><title>${escapeHtml(`${fmt(b.from)}–${fmt(b.to)} s: ${b.count}`)}</title></rect>`);
  }
  for (const m of opts.markers ?? []) {
    if (!Number.isFinite(m.x)) continue;
    const x = f.x(m.x);
    f.svg.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top}" y2="${H - M.bottom}" class="marker"/><text x="${(x + 3).toFixed(1)}" y="${M.top + 10}" class="note">${escapeHtml(m.label)}</text>`);
  }
  return wrap(opts.kind, opts.title, f.svg);
}

/** Horizontal stacked bars of shares (each row's parts are normalized to 1). */
export function stackedShareBars(opts: { kind: string; title: string; partNames: string[]; rows: { label: string; parts: number[] }[] }): string {
  const rowH = 16;
  const left = 130;
  const width = W - left - M.right;
  const height = M.top + 22 + opts.rows.length * (rowH + 4) + 8;
  const svg = [`<text x="8" y="16" class="ct">${escapeHtml(opts.title)}</text>`];
  opts.partNames.forEach((name, i) => {
    svg.push(`<rect x="${left + i * 110}" y="${M.top - 6}" width="10" height="10" class="p${i}"/><text x="${left + 14 + i * 110}" y="${M.top + 3}">${escapeHtml(name)}</text>`);
  });
  opts.rows.forEach((row, r) => {
    const y = M.top + 16 + r * (rowH + 4);
    const total = row.parts.reduce((a, b) => a + b, 0);
    svg.push(`<text x="${left - 6}" y="${y + 12}" text-anchor="end">${escapeHtml(row.label)}</text>`);
    let x = left;
    row.parts.forEach((p, i) => {
      const w = total > 0 ? (p / total) * width : 0;
      if (w > 0) svg.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH}" class="p${i}"><title>${escapeHtml(`${row.label} ${opts.partNames[i] ?? ''}: ${fmt((p / total) * 100, 1)} %`)}</title></rect>`);
      x += w;
    });
    if (total > 0) svg.push(`<text x="${left + 4}" y="${y + 12}" class="inbar">${escapeHtml(`${fmt(((row.parts[0] ?? 0) / total) * 100)} %`)}</text>`);
  });
  return `<svg class="chart" data-chart="${escapeHtml(opts.kind)}" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeHtml(opts.title)}" xmlns="http://www.w3.org/2000/svg"><title>${escapeHtml(opts.title)}</title>${svg.join('')}</svg>`;
}

/** Throughput against the swept parameter: means with 95 % whiskers, the knee and the bound marked. */
export function sweepChart(opts: { title: string; xLabel: string; yLabel: string; points: { x: number; mean: number; half: number }[]; knee?: { x: number; y: number }; bound?: { y: number; label: string } }): string {
  const pts = opts.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.mean));
  const top = Math.max(1, ...pts.map((p) => p.mean + (Number.isFinite(p.half) ? p.half : 0)), opts.bound && Number.isFinite(opts.bound.y) ? opts.bound.y : 0);
  const f = frame(opts.title, niceTicks(Math.min(0, ...pts.map((p) => p.x)), Math.max(1, ...pts.map((p) => p.x))), niceTicks(0, top * 1.05), opts.xLabel, opts.yLabel);
  if (opts.bound && Number.isFinite(opts.bound.y)) {
    const y = f.y(opts.bound.y).toFixed(1);
    f.svg.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" class="bound"/><text x="${W - M.right - 4}" y="${Number(y) - 4}" text-anchor="end" class="note">${escapeHtml(opts.bound.label)}</text>`);
  }
  const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${f.x(p.x).toFixed(1)},${f.y(p.mean).toFixed(1)}`).join('');
  if (d) f.svg.push(`<path d="${d}" fill="none" stroke="${PALETTE[0] as string}" stroke-width="2"/>`);
  for (const p of pts) {
    const x = f.x(p.x).toFixed(1);
    if (Number.isFinite(p.half) && p.half > 0) {
      const a = f.y(p.mean - p.half).toFixed(1);
      const b = f.y(p.mean + p.half).toFixed(1);
      f.svg.push(`<g class="whisker"><line x1="${x}" x2="${x}" y1="${a}" y2="${b}"/><line x1="${Number(x) - 4}" x2="${Number(x) + 4}" y1="${a}" y2="${a}"/><line x1="${Number(x) - 4}" x2="${Number(x) + 4}" y1="${b}" y2="${b}"/></g>`);
    }
    f.svg.push(`<circle cx="${x}" cy="${f.y(p.mean).toFixed(1)}" r="3.5" fill="${PALETTE[0] as string}"><title>${escapeHtml(`${fmt(p.x)}: ${fmt(p.mean)} ± ${fmt(p.half)}`)}</title></circle>`);
  }
  if (opts.knee) {
    const x = f.x(opts.knee.x).toFixed(1);
    f.svg.push(`<g class="knee"><line x1="${x}" x2="${x}" y1="${M.top}" y2="${H - M.bottom}" class="marker"/><circle cx="${x}" cy="${f.y(opts.knee.y).toFixed(1)}" r="7" fill="none" stroke="${PALETTE[1] as string}" stroke-width="2"/><text x="${Number(x) + 6}" y="${M.top + 12}" class="note">${escapeHtml(`knee at ${fmt(opts.knee.x)}`)}</text></g>`);
  }
  return wrap('sweep', opts.title, f.svg);
}
