/**
 * Writes a simulation report to a directory: `report.json` (every replication's KPIs, for
 * further analysis) and `report.html` (the self-contained page). Creates the directory.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderHtmlReport } from './html-report.js';
import type { SimReport } from './types.js';

export async function writeReport(dir: string, report: SimReport): Promise<{ json: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'report.json');
  const html = join(dir, 'report.html');
  // NaN (a KPI no replication could measure) has no JSON form: write it as null explicitly.
  await writeFile(json, `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  await writeFile(html, renderHtmlReport(report));
  return { json, html };
}
