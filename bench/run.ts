/**
 * `npm run bench`: runs every benchmark, prints one JSON line per result, and rewrites
 * BENCHMARKS.md with the figures, the machine and the date. Never a pass/fail gate.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchIngest, benchIntake } from './core-under-load.js';
import { benchDashboard } from './dashboard-fps.js';
import { benchDispatch } from './dispatch-latency.js';
import { runMicro } from './micro.js';
import { benchSimSpeed } from './sim-speed.js';
import { benchStoreHistory } from './store-history.js';
import type { BenchResult } from './result.js';

const results: BenchResult[] = [];
const record = (batch: BenchResult[]): void => {
  for (const r of batch) {
    results.push(r);
    console.log(JSON.stringify({ bench: r.name, value: Number(r.value.toFixed(2)), unit: r.unit, ...(r.note ? { note: r.note } : {}) }));
  }
};

// `npm run bench -- dispatch ingest`: only the named benchmarks; BENCHMARKS.md keeps the other rows.
const only = process.argv.slice(2);
const wanted = (key: string): boolean => only.length === 0 || only.includes(key);
if (wanted('micro')) record(runMicro());
if (wanted('intake')) record(await benchIntake());
if (wanted('ingest')) record(await benchIngest());
if (wanted('dashboard')) record(await benchDashboard());
if (wanted('dispatch')) record(await benchDispatch());
if (wanted('history')) record(benchStoreHistory());
if (wanted('sim')) record(await benchSimSpeed());

const fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
writeFileSync(
  new URL('../BENCHMARKS.md', import.meta.url),
  [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} — ${machine}.`,
    'Loopback only. Figures vary by a few tens of percent between runs on a shared 2-core machine.',
    '',
    '| benchmark | value | unit | note |',
    '| --- | ---: | --- | --- |',
    ...(only.length > 0 ? keptRows(results) : []),
    ...results.map((r) => `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.note ?? ''} |`),
    '',
  ].join('\n'),
);
console.log('wrote BENCHMARKS.md');

/** On a filtered run, the rows of BENCHMARKS.md this run did not measure again. */
function keptRows(fresh: BenchResult[]): string[] {
  const file = new URL('../BENCHMARKS.md', import.meta.url);
  if (!existsSync(file)) return [];
  const names = new Set(fresh.map((r) => r.name));
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| benchmark |') && !l.startsWith('| ---'))
    .filter((l) => !names.has(l.slice(2, l.indexOf(' | '))));
}
