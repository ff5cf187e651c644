/**
 * Prometheus metrics of one core. Each core owns its own Registry (never prom-client's global
 * one) so tests and simulation runs can host several cores in one process without the
 * "metric already registered" clash.
 *
 * Label values are kept low-cardinality on purpose: `topic` is the message kind (`state`,
 * `jobState`, ...), never the full topic path, and `route` is the route pattern, never the URL.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** Inbound MQTT messages; `family` is `vda5050` | `wcs`, `topic` the message kind. */
  readonly mqttMessagesReceived: Counter<'family' | 'topic'>;
  /** Inbound messages dropped; `reason` e.g. `decode`, `schema`, `unknown-device`, `stale`. */
  readonly mqttMessagesRejected: Counter<'family' | 'topic' | 'reason'>;
  readonly mqttMessagesPublished: Counter<'family' | 'topic'>;
  readonly mqttConnected: Gauge;
  /** Clients and messages the embedded broker turned away: `bad-credentials`, `publish-denied`, `subscribe-denied`. */
  readonly mqttRefused: Counter<'reason'>;
  readonly ordersAccepted: Counter<'channel'>;
  readonly ordersRejected: Counter<'channel' | 'code'>;
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpRequestDuration: Histogram<'route' | 'method'>;
  readonly outboxPending: Gauge;
  /** Time from publishing a command to the device echoing it in its state. */
  readonly commandAckSeconds: Histogram<'family'>;
  /** Time from a line's release to the floor to its first device command handed to the broker. */
  readonly dispatchLatencySeconds: Histogram;
  /** Work time of finished device steps (stalls excluded): what the ETA service learns durations from. */
  readonly stepSeconds: Histogram<'class' | 'kind'>;
  readonly storeCommitSeconds: Histogram;
  readonly storeCommitBatchSize: Histogram;
  readonly linesByState: Gauge<'state'>;
  readonly exceptionsRaised: Counter<'type' | 'status'>;
  readonly exceptionsOpen: Gauge<'type'>;
  readonly tasksByState: Gauge<'state'>;
  readonly devicesByState: Gauge<'class' | 'state'>;
  readonly devicesConnected: Gauge<'class'>;
  readonly wsClients: Gauge;
  /** Snapshots sent instead of deltas because a client fell behind. */
  readonly wsResyncs: Counter;
}

export interface MetricsOptions {
  /** Process metrics (CPU, heap, event-loop lag). Off in tests that build many cores. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    mqttMessagesReceived: new Counter({
      name: 'pickwire_mqtt_messages_received_total',
      help: 'Inbound MQTT messages by protocol family and message kind',
      labelNames: ['family', 'topic'],
      registers,
    }),
    mqttMessagesRejected: new Counter({
      name: 'pickwire_mqtt_messages_rejected_total',
      help: 'Inbound MQTT messages dropped as invalid, by family, message kind and reason',
      labelNames: ['family', 'topic', 'reason'],
      registers,
    }),
    mqttMessagesPublished: new Counter({
      name: 'pickwire_mqtt_messages_published_total',
      help: 'MQTT messages published by the core',
      labelNames: ['family', 'topic'],
      registers,
    }),
    mqttConnected: new Gauge({
      name: 'pickwire_mqtt_connected',
      help: '1 while the core is connected to its MQTT broker',
      registers,
    }),
    mqttRefused: new Counter({
      name: 'pickwire_mqtt_refused_total',
      help: 'Logins, publishes and subscriptions refused by the embedded broker (authentication and ACL), by reason',
      labelNames: ['reason'],
      registers,
    }),
    ordersAccepted: new Counter({
      name: 'pickwire_orders_accepted_total',
      help: 'Orders acknowledged to their channel (durable)',
      labelNames: ['channel'],
      registers,
    }),
    ordersRejected: new Counter({
      name: 'pickwire_orders_rejected_total',
      help: 'Orders refused at intake, by error code',
      labelNames: ['channel', 'code'],
      registers,
    }),
    httpRequests: new Counter({
      name: 'pickwire_http_requests_total',
      help: 'HTTP requests by route pattern, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'pickwire_http_request_duration_seconds',
      help: 'HTTP request latency by route pattern',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    outboxPending: new Gauge({
      name: 'pickwire_outbox_pending',
      help: 'Device commands written to the outbox and not yet confirmed by the broker',
      registers,
    }),
    dispatchLatencySeconds: new Histogram({
      name: 'pickwire_dispatch_latency_seconds',
      help: 'Time from a line being released to the floor to its first device command being published on the MQTT connection (core processing time)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    commandAckSeconds: new Histogram({
      name: 'pickwire_command_ack_seconds',
      help: 'Time from publishing an order/job to the device echoing it in its state',
      labelNames: ['family'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    stepSeconds: new Histogram({
      name: 'pickwire_step_duration_seconds',
      help: 'Work time of finished device steps (device standstill excluded), by device class and task kind; the ETA service learns its durations from these',
      labelNames: ['class', 'kind'],
      buckets: [1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600],
      registers,
    }),
    storeCommitSeconds: new Histogram({
      name: 'pickwire_store_commit_seconds',
      help: 'Duration of one store transaction (group commit)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    }),
    storeCommitBatchSize: new Histogram({
      name: 'pickwire_store_commit_batch_size',
      help: 'Requests committed together in one group commit',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    exceptionsRaised: new Counter({
      name: 'pickwire_exceptions_raised_total',
      help: 'Exceptions raised, by type and by how they were left (handled automatically or open for operators)',
      labelNames: ['type', 'status'],
      registers,
    }),
    exceptionsOpen: new Gauge({
      name: 'pickwire_exceptions_open',
      help: 'Exceptions waiting for an operator, by type',
      labelNames: ['type'],
      registers,
    }),
    linesByState: new Gauge({
      name: 'pickwire_lines_by_state',
      help: 'Order lines by state',
      labelNames: ['state'],
      registers,
    }),
    tasksByState: new Gauge({
      name: 'pickwire_tasks_by_state',
      help: 'Device tasks by state',
      labelNames: ['state'],
      registers,
    }),
    devicesByState: new Gauge({
      name: 'pickwire_devices_by_state',
      help: 'Devices by class and state',
      labelNames: ['class', 'state'],
      registers,
    }),
    devicesConnected: new Gauge({
      name: 'pickwire_devices_connected',
      help: 'Devices currently reachable, by class',
      labelNames: ['class'],
      registers,
    }),
    wsClients: new Gauge({
      name: 'pickwire_ws_clients',
      help: 'Open live-stream WebSocket connections',
      registers,
    }),
    wsResyncs: new Counter({
      name: 'pickwire_ws_resyncs_total',
      help: 'Snapshots sent in place of queued deltas to clients that fell behind',
      registers,
    }),
  };
}
