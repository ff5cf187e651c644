import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('createMetrics', () => {
  it('gives every core its own registry, so two can live in one process', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.ordersAccepted.inc({ channel: 'shop' });
    a.ordersAccepted.inc({ channel: 'shop' });
    b.ordersAccepted.inc({ channel: 'shop' });
    expect(await a.registry.metrics()).toContain('pickwire_orders_accepted_total{channel="shop"} 2');
    expect(await b.registry.metrics()).toContain('pickwire_orders_accepted_total{channel="shop"} 1');
  });

  it('exposes the series the core updates, in Prometheus text', async () => {
    const m = createMetrics({ processMetrics: false });
    m.mqttMessagesReceived.inc({ family: 'vda5050', topic: 'state' });
    m.mqttMessagesRejected.inc({ family: 'wcs', topic: 'jobState', reason: 'decode' });
    m.httpRequests.inc({ route: '/api/v1/orders', method: 'POST', status: '201' });
    m.outboxPending.set(3);
    m.linesByState.set({ state: 'PICKING' }, 7);
    const text = await m.registry.metrics();
    expect(text).toContain('pickwire_mqtt_messages_received_total{family="vda5050",topic="state"} 1');
    expect(text).toContain('pickwire_mqtt_messages_rejected_total{family="wcs",topic="jobState",reason="decode"} 1');
    expect(text).toContain('pickwire_http_requests_total{route="/api/v1/orders",method="POST",status="201"} 1');
    expect(text).toContain('pickwire_outbox_pending 3');
    expect(text).toContain('pickwire_lines_by_state{state="PICKING"} 7');
    expect(m.registry.contentType).toMatch(/^text\/plain/);
  });

  it('adds process metrics unless told not to', async () => {
    const m = createMetrics();
    expect(await m.registry.metrics()).toContain('process_cpu_user_seconds_total');
    expect(await createMetrics({ processMetrics: false }).registry.metrics()).not.toContain('process_cpu');
  });
});
