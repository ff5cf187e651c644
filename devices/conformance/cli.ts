/**
 * Runs the conformance suite against a real device (or anything on a broker) from a JSON file:
 *
 *   npm run conformance -- path/to/device.json [--json]
 *
 * The file names the protocol (`vda` or `wcs`), the broker and the device, the route or jobs to
 * try, and optionally shell commands that start, kill (abruptly: power, network, `kill -9`) and
 * stop the device; without them the device must already be running and the last-will and
 * OFFLINE checks are left out. See devices/conformance/README.md. Exit code 1 when a check fails.
 */
import { exec } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { runSuite, type CheckResult } from './checks.js';
import { vdaConformanceSuite, type VdaDeviceTarget } from './vda.js';
import { wcsConformanceSuite, type WcsDeviceTarget } from './wcs.js';

type Commands = { startCommand?: string; killCommand?: string; stopCommand?: string; settleMs?: number };
type FileTarget = ({ protocol: 'vda' } & Omit<VdaDeviceTarget, 'start' | 'kill' | 'stop'> & Commands) | ({ protocol: 'wcs' } & Omit<WcsDeviceTarget, 'start' | 'kill' | 'stop'> & Commands);

const run = promisify(exec);

function lifecycle(c: Commands): { start: () => Promise<void>; kill?: () => Promise<void>; stop?: () => Promise<void> } {
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, c.settleMs ?? 3000));
  const l: { start: () => Promise<void>; kill?: () => Promise<void>; stop?: () => Promise<void> } = {
    start: async () => {
      if (c.startCommand === undefined) return;
      await run(c.startCommand);
      await settle();
    },
  };
  if (c.killCommand !== undefined) {
    const cmd = c.killCommand;
    l.kill = async () => {
      await run(cmd);
    };
  }
  if (c.stopCommand !== undefined) {
    const cmd = c.stopCommand;
    l.stop = async () => {
      await run(cmd);
    };
  }
  return l;
}

async function main(): Promise<void> {
  const [file, ...flags] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: npm run conformance -- <device.json> [--json]\n');
    process.exit(2);
  }
  const target = JSON.parse(readFileSync(file, 'utf8')) as FileTarget;
  const suite = target.protocol === 'vda' ? vdaConformanceSuite({ ...target, ...lifecycle(target) }) : wcsConformanceSuite({ ...target, ...lifecycle(target) });
  const results: CheckResult[] = await runSuite(suite);
  if (flags.includes('--json')) process.stdout.write(`${JSON.stringify({ suite: suite.name, results }, null, 2)}\n`);
  else {
    process.stdout.write(`${suite.name}\n`);
    for (const r of results) process.stdout.write(`${r.passed ? 'PASS' : 'FAIL'}  ${r.id.padEnd(30)} ${r.passed ? '' : r.error ?? ''}\n`);
    const failed = results.filter((r) => !r.passed).length;
    process.stdout.write(`${results.length - failed}/${results.length} checks passed\n`);
  }
  process.exit(results.every((r) => r.passed) ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
