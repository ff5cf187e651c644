/**
 * Benchmarks against a real core: order intake over HTTP (group commit, fsync per batch), and
 * device-state ingest over the embedded MQTT broker. Loopback only, bounded in count and time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { encodeVda, vdaTopic } from '../protocols/index.js';
import { VDA_SAMPLES } from '../protocols/testdata/vda5050-samples.js';
import { createCore, createLogger, loadConfig, type Core } from '../src/index.js';
import type { BenchResult } from './result.js';

const TOKEN = 'bench-admin-token-0123456789';

async function withCore<T>(fn: (core: Core, baseUrl: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pickwire-bench-'));
  const config = loadConfig({
    argv: ['--http-port', '0', '--mqtt-port', '0', '--http-host', '127.0.0.1', '--mqtt-host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'error'],
    env: { PICKWIRE_TOKENS: `bench:admin:${TOKEN}` },
  });
  const core = await createCore(config, { logger: createLogger({ level: 'error' }) });
  try {
    return await fn(core, await core.listen());
  } finally {
    await core.stop('bench done');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** N orders posted by `concurrency` clients; every 201 is durable on disk (synchronous=FULL). */
export async function benchIntake(total = 3000, concurrency = 32): Promise<BenchResult[]> {
  return withCore(async (core, baseUrl) => {
    const skus = core.layout.stock.filter((s) => s.onHand >= 100).map((s) => s.sku);
    const latencies: number[] = [];
    let next = 0;
    let failed = 0;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < total) {
        const n = next++;
        const body = {
          channel: 'bench',
          customer: { id: `c-${n % 97}` },
          shipTo: { name: 'Bench', line1: '1 Loop Rd', city: 'Localhost', postalCode: '12345', country: 'DE' },
          // Stock would run out long before `total` if every order took units: cycle over SKUs.
          lines: [{ sku: skus[n % skus.length]!, quantity: 1 }],
        };
        const t0 = performance.now();
        const res = await fetch(`${baseUrl}/api/v1/orders`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': `bench-${n}` },
          body: JSON.stringify(body),
        });
        await res.arrayBuffer();
        if (res.status !== 201) failed++;
        latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return [
      { name: `order intake over HTTP (${total} orders, ${concurrency} clients, durable)`, value: total / seconds, unit: 'orders/s', note: `${failed} non-201` },
      { name: 'order intake latency p50', value: percentile(latencies, 50), unit: 'ms' },
      { name: 'order intake latency p99', value: percentile(latencies, 99), unit: 'ms' },
    ];
  });
}

/** VDA `state` messages from one publisher, counted as the core validates and applies them. */
export async function benchIngest(total = 20_000): Promise<BenchResult[]> {
  return withCore(async (core) => {
    const amr = core.layout.devices.amrs[0]!;
    const client = await mqtt.connectAsync(core.mqttUrl, { clientId: 'bench-vehicle', protocolVersion: 4 });
    (client.stream as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    const topic = vdaTopic({ interfaceName: core.config.mqttInterface, manufacturer: amr.manufacturer, serialNumber: amr.serialNumber }, 'state');
    const received = async (): Promise<number> =>
      (await core.metrics.mqttMessagesReceived.get()).values.filter((v) => v.labels.topic === 'state').reduce((sum, v) => sum + v.value, 0);
    const base = await received();
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const state = { ...VDA_SAMPLES.state, headerId: i, manufacturer: amr.manufacturer, serialNumber: amr.serialNumber, orderId: '', lastNodeId: amr.startNode };
      client.publish(topic, encodeVda('state', state), { qos: 0 });
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    const deadline = Date.now() + 60_000;
    while ((await received()) - base < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - started) / 1000;
    const got = (await received()) - base;
    await client.endAsync();
    return [{ name: 'VDA state ingest through the embedded broker (QoS 0, validated, registry updated)', value: got / seconds, unit: 'msg/s', note: `${got}/${total} delivered` }];
  });
}
