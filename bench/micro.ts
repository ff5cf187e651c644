/** In-process micro benchmarks of the hot paths: codecs and pure machine transitions. */
import { decodeVda, decodeWcs, encodeVda, encodeWcs } from '../protocols/index.js';
import { VDA_SAMPLES } from '../protocols/testdata/vda5050-samples.js';
import { WCS_V1_SAMPLES } from '../protocols/testdata/wcs-v1-samples.js';
import { lineMachine } from '../src/domain/line-machine.js';
import { applyEvent, startMachine } from '../src/domain/machine-runner.js';
import type { BenchResult } from './result.js';

/** Runs `fn` repeatedly for about `ms` and returns operations per second (after a warm-up). */
export function opsPerSecond(fn: () => void, ms = 1500): number {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) fn();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

export function runMicro(): BenchResult[] {
  const job = WCS_V1_SAMPLES.job;
  const jobBytes = encodeWcs('job', job);
  const stateJson = encodeVda('state', VDA_SAMPLES.state);
  const results: BenchResult[] = [
    { name: 'wcs job encode+decode', value: opsPerSecond(() => decodeWcs('job', encodeWcs('job', job))), unit: 'msg/s', note: `${jobBytes.length} bytes` },
    { name: 'wcs job decode (validated)', value: opsPerSecond(() => decodeWcs('job', jobBytes)), unit: 'msg/s' },
    { name: 'vda state decode (JSON + schema)', value: opsPerSecond(() => decodeVda('state', stateJson)), unit: 'msg/s', note: `${stateJson.length} bytes` },
  ];
  let line = startMachine(lineMachine, { lineId: 'L', orderId: 'O', sku: 'S', quantity: 1 });
  const sourced = applyEvent(lineMachine, line, { type: 'line.source', site: 's', location: 'l' }).next;
  results.push({
    name: 'line machine pure transition (restore + transition + persist)',
    value: opsPerSecond(() => {
      line = applyEvent(lineMachine, sourced, { type: 'line.release' }).next;
    }),
    unit: 'transitions/s',
    note: `${JSON.stringify(sourced).length} bytes persisted per line`,
  });
  return results;
}
