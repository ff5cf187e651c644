/**
 * The Prometheus endpoint of a running core (issue 4, item 9), scraped over HTTP after a real
 * pick on the simulated site: messages in and out by topic kind, decode failures, dispatch
 * latency (line released -> first command published), open lines by state, exceptions by type.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vdaTopic } from '../protocols/index.js';
import { EXCEPTION_TYPES } from '../src/domain/records.js';
import { orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

/** The value of one series in Prometheus text, e.g. `name{a="b"}`; undefined if absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    if (line.slice(0, cut) === series) return Number(line.slice(cut + 1));
  }
  return undefined;
}

describe('GET /metrics after a pick on the simulated site', () => {
  let h: Harness;
  let text = '';
  const scrape = async (): Promise<string> => {
    const res = await fetch(`${h.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return res.text();
  };

  beforeAll(async () => {
    h = await startHarness({ speed: 8 });
    const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
    const sku = h.core.layout.stock.find((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 2)!.sku;
    const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku, quantity: 1 }])) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor('the order to be picked', async () => ((await (await h.api(`/api/v1/orders/${id}`)).json()) as { fulfilment: string }).fulfilment === 'PICKED' || undefined, 60_000, 200);

    // One undecodable vehicle state: a decode failure, dropped and counted.
    const amr = h.core.layout.devices.amrs[0]!;
    const client = await mqtt.connectAsync(h.core.mqttUrl, { clientId: 'metrics-test-garbage', protocolVersion: 4 });
    await client.publishAsync(vdaTopic({ interfaceName: h.core.config.mqttInterface, manufacturer: amr.manufacturer, serialNumber: amr.serialNumber }, 'state'), Buffer.from('{not json'), { qos: 1 });
    await client.endAsync();

    // Lines and open exceptions by state/type are refreshed every couple of seconds.
    text = await waitFor(
      'lines by state to show the picked line',
      async () => {
        const t = await scrape();
        return (sample(t, 'pickwire_lines_by_state{state="PICKED"}') ?? 0) >= 1 && (sample(t, 'pickwire_mqtt_messages_rejected_total{family="vda5050",topic="state",reason="decode"}') ?? 0) >= 1 ? t : undefined;
      },
      20_000,
      250,
    );
  }, 90_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('counts inbound messages by family and topic kind, and decode failures', () => {
    expect(sample(text, 'pickwire_mqtt_messages_received_total{family="vda5050",topic="state"}')).toBeGreaterThan(0);
    expect(sample(text, 'pickwire_mqtt_messages_received_total{family="wcs",topic="connection"}')).toBeGreaterThan(0);
    expect(sample(text, 'pickwire_mqtt_messages_rejected_total{family="vda5050",topic="state",reason="decode"}')).toBe(1);
  });

  it('counts outbound commands by family and topic kind', () => {
    expect(sample(text, 'pickwire_mqtt_messages_published_total{family="vda5050",topic="order"}')).toBeGreaterThanOrEqual(1);
    // Full topic paths never become label values.
    expect(text).not.toMatch(/pickwire_mqtt_messages_published_total\{[^}]*\//);
  });

  it('records the dispatch latency of the released line, in sub-millisecond buckets', () => {
    expect(sample(text, 'pickwire_dispatch_latency_seconds_count')).toBe(1);
    const sum = sample(text, 'pickwire_dispatch_latency_seconds_sum')!;
    expect(sum).toBeGreaterThan(0);
    expect(sample(text, 'pickwire_dispatch_latency_seconds_bucket{le="0.0001"}')).toBeDefined();
    expect(sample(text, 'pickwire_dispatch_latency_seconds_bucket{le="+Inf"}')).toBe(1);
  });

  it('reports lines by state and exceptions by type', () => {
    expect(sample(text, 'pickwire_lines_by_state{state="PICKED"}')).toBe(1);
    for (const type of EXCEPTION_TYPES) expect(sample(text, `pickwire_exceptions_open{type="${type}"}`)).toBe(0);
    expect(text).toContain('# TYPE pickwire_exceptions_raised_total counter');
  });
});
