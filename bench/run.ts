/**
 * `npm run bench`: runs every benchmark, prints one JSON line per result, and rewrites
 * BENCHMARKS.md with the figures, the machine and the date. Never a pass/fail gate.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchIngest, benchIntake } from './core-under-load.js';
import { benchDashboard } from './dashboard-fps.js';
import { runMicro } from './micro.js';
import type { BenchResult } from './result.js';

const results: BenchResult[] = [];
const record = (batch: BenchResult[]): void => {
  for (const r of batch) {
    results.push(r);
    console.log(JSON.stringify({ bench: r.name, value: Number(r.value.toFixed(2)), unit: r.unit, ...(r.note ? { note: r.note } : {}) }));
  }
};

record(runMicro());
record(await benchIntake());
record(await benchIngest());
record(await benchDashboard());

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
    ...results.map((r) => `| ${r.name} | ${fmt(r.value)} | ${r.unit} | ${r.note ?? ''} |`),
    '',
  ].join('\n'),
);
console.log('wrote BENCHMARKS.md');
