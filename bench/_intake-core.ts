import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCore, createLogger, loadConfig } from '../src/index.js';
const dataDir = mkdtempSync(join(tmpdir(), 'pw-perf-'));
const config = loadConfig({ argv: ['--http-port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'error'], env: { PICKWIRE_TOKENS: 'a:admin:aaaaaaaaaaaa' } });
const core = await createCore(config, { logger: createLogger({ level: 'error' }) });
const intake = (core as unknown as { intake?: unknown }).intake;
void intake;
const url = await core.listen();
const skus = core.layout.stock.filter((s) => s.onHand >= 100).map((s) => s.sku);
const N = Number(process.argv[2] ?? 3000);
let next = 0;
const t0 = performance.now();
const lat: number[] = [];
await Promise.all(Array.from({ length: 64 }, async () => {
  while (next < N) {
    const n = next++;
    const body = { channel: 'b', customer: { id: 'c' }, shipTo: { name: 'B', line1: '1', city: 'X', postalCode: '1', country: 'DE' }, lines: [0, 1, 2].map((k) => ({ sku: skus[(n * 3 + k) % skus.length]!, quantity: 1 })) };
    const s = performance.now();
    const r = await fetch(`${url}/api/v1/orders`, { method: 'POST', headers: { authorization: 'Bearer aaaaaaaaaaaa', 'content-type': 'application/json', 'idempotency-key': `k${n}` }, body: JSON.stringify(body) });
    await r.arrayBuffer();
    lat.push(performance.now() - s);
  }
}));
const secs = (performance.now() - t0) / 1000;
lat.sort((a, b) => a - b);
console.log(JSON.stringify({ ordersPerSec: N / secs, p50: lat[Math.floor(lat.length / 2)], p99: lat[Math.floor(lat.length * 0.99)] }));
await core.stop();
