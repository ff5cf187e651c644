/**
 * Garbage on every inbound topic: the core keeps running, counts each bad message, and the
 * devices it damages nothing for keep working (an order is still picked afterwards).
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, orderBody, type Harness } from './support/harness.js';

const VDA_TOPICS = ['state', 'visualization', 'connection', 'factsheet', 'order', 'instantActions'];
const WCS_TOPICS = ['jobState', 'telemetry', 'connection', 'factsheet', 'job', 'instantActions'];

function rejectedCount(metricsText: string): number {
  return metricsText
    .split('\n')
    .filter((l) => l.startsWith('pickwire_mqtt_messages_rejected_total{'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('garbage on every inbound topic', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ speed: 6 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('is counted and dropped, and the floor keeps working', async () => {
    const client = await mqtt.connectAsync(h.core.mqttUrl, { clientId: 'vandal', protocolVersion: 4 });
    const site = h.core.layout.site.id;
    const amr = h.core.layout.devices.amrs[0]!;
    const topics = [
      ...VDA_TOPICS.map((t) => `uagv/v2/${amr.manufacturer}/${amr.serialNumber}/${t}`),
      ...VDA_TOPICS.map((t) => `uagv/v2/intruder/ghost-1/${t}`),
      ...WCS_TOPICS.map((t) => `wcs/v1/${site}/asrs/asrs-1/${t}`),
      ...WCS_TOPICS.map((t) => `wcs/v1/${site}/arm/arm-1/${t}`),
      ...WCS_TOPICS.map((t) => `wcs/v1/${site}/conveyor/no-such/${t}`),
      `wcs/v1/${site}/robot/x/state`,
      'uagv/v1/m/s/state',
    ];
    const payloads = [
      Buffer.alloc(0),
      randomBytes(1),
      randomBytes(64),
      randomBytes(4096),
      Buffer.from('{"headerId": "not a number"}'),
      Buffer.from('null'),
      Buffer.from('[]'),
      Buffer.from('{'.repeat(5000)),
      Buffer.from(JSON.stringify({ headerId: 1, timestamp: 'x', version: '2.0.0', manufacturer: amr.manufacturer, serialNumber: 'someone-else' })),
    ];
    const before = rejectedCount(await (await fetch(`${h.baseUrl}/metrics`)).text());
    let sent = 0;
    for (const topic of topics) {
      for (const p of payloads) {
        await client.publishAsync(topic, p, { qos: 1 });
        sent++;
      }
    }
    await client.endAsync();

    // The core subscribes only to what devices send; garbage on its own command topics or on
    // foreign topics never reaches it. Everything that does reach it must be counted, once.
    const inbound = topics.filter((t) => /^(uagv\/v2|wcs\/v1\/demo\/(asrs|conveyor|arm))\/.+\/(state|visualization|connection|factsheet|jobState|telemetry)$/.test(t));
    const expected = inbound.length * payloads.length;
    const after = await waitFor('rejections counted', async () => {
      const n = rejectedCount(await (await fetch(`${h.baseUrl}/metrics`)).text());
      return n - before >= expected ? n : undefined;
    });
    expect(after - before).toBe(expected);
    expect(sent).toBeGreaterThan(expected);
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);

    const sku = h.core.layout.stock.find((s) => s.onHand > 10 && h.core.layout.locations.find((l) => l.id === s.location)?.zone === 'amr')!.sku;
    const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku, quantity: 1 }])) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      'the order to be picked after the garbage',
      async () => ((await (await h.api(`/api/v1/orders/${id}`)).json()) as { fulfilment: string }).fulfilment === 'PICKED' || undefined,
      60_000,
      200,
    );
  });
});
