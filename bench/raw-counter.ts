/**
 * The raw broker rate for the ingest benchmark: a bare MQTT subscriber in its own process that
 * counts vehicle `state` messages and does nothing else (no decoding), so its rate is what the
 * broker delivers when the consumer costs nothing.
 *
 *   tsx bench/raw-counter.ts <mqttUrl> <interfaceName>
 * Prints `{"ready":true}` once subscribed; stdin commands: `start` (reset), `report` (prints
 * {"count":n,"firstMs":t0,"lastMs":t1} on this process's monotonic clock), `stop`.
 */
import { createInterface } from 'node:readline';
import mqtt from 'mqtt';
import { vdaSubscription } from '../protocols/index.js';

const [url, interfaceName] = process.argv.slice(2);
if (!url || !interfaceName) throw new Error('usage: raw-counter <mqttUrl> <interfaceName>');
const client = await mqtt.connectAsync(url, { clientId: `bench-raw-counter-${process.pid}`, protocolVersion: 4 });
(client.stream as unknown as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
let count = 0;
let firstMs = 0;
let lastMs = 0;
client.on('message', () => {
  const t = performance.now();
  if (count === 0) firstMs = t;
  lastMs = t;
  count++;
});
await client.subscribeAsync(vdaSubscription(interfaceName, 'state'), { qos: 0 });
console.log(JSON.stringify({ ready: true }));

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = line.trim();
  if (cmd === 'start') count = firstMs = lastMs = 0;
  else if (cmd === 'report') console.log(JSON.stringify({ count, firstMs, lastMs }));
  else if (cmd === 'stop') break;
}
await client.endAsync();
process.exit(0);
