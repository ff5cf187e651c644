/**
 * The core's telemetry path end to end: with `influx.url` configured, device metrics and KPIs of
 * a running site arrive at an InfluxDB 2 write endpoint as line protocol.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from './support/influx-receiver.js';
import { orderBody, startHarness, waitFor, type Harness } from './support/harness.js';

const INFLUX_TOKEN = 'influx-test-token-42';

describe('telemetry to InfluxDB', () => {
  let influx: Receiver;
  let h: Harness;
  beforeAll(async () => {
    influx = await startReceiver(INFLUX_TOKEN);
    h = await startHarness({ speed: 6, env: { PICKWIRE_INFLUX_URL: influx.url, PICKWIRE_INFLUX_TOKEN: INFLUX_TOKEN, PICKWIRE_INFLUX_BUCKET: 'floor' } });
  });
  afterAll(async () => {
    await h?.stop();
    await influx?.close();
  });

  it('writes device points for every simulated device and counts accepted orders and picked lines', async () => {
    const zoneOf = new Map(h.core.layout.locations.map((l) => [l.id, l.zone]));
    const sku = h.core.layout.stock.find((s) => zoneOf.get(s.location) === 'amr' && s.onHand > 5)!.sku;
    const res = await h.api('/api/v1/orders', { method: 'POST', body: JSON.stringify(orderBody([{ sku, quantity: 2 }])) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await waitFor('the order to be picked', async () => ((await (await h.api(`/api/v1/orders/${id}`)).json()) as { fulfilment: string }).fulfilment === 'PICKED' || undefined, 60_000, 200);
    await h.core.stop('flush telemetry');

    const devices = new Set(influx.points.filter((p) => p.measurement === 'device').map((p) => p.tags.device));
    const expected = [...h.core.layout.devices.amrs.map((a) => a.serialNumber), ...h.core.layout.devices.asrs.map((a) => a.id), ...h.core.layout.devices.arms.map((a) => a.id)];
    for (const d of expected) expect(devices).toContain(d);
    expect(influx.requests.every((r) => r.bucket === 'floor' && r.org === 'pickwire' && r.precision === 'ms')).toBe(true);
    const accepted = influx.points.filter((p) => p.measurement === 'orders').reduce((s, p) => s + Number(p.fields.accepted ?? 0), 0);
    const units = influx.points.filter((p) => p.measurement === 'lines').reduce((s, p) => s + Number(p.fields.units ?? 0), 0);
    expect(accepted).toBe(1);
    expect(units).toBe(2);
  });
});
