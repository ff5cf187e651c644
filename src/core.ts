/**
 * createCore wires the parts of DESIGN §1 together: store, broker and transport, the use cases,
 * the HTTP API. Overrides swap ports (clock, transport, logger) for tests and simulation.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { coreStateTopic, encodeCorePresence, encodeVda, vdaSubscription, vdaTopic, wcsSubscription } from '../protocols/index.js';
import type { EmbeddedBroker } from './adapters/mqtt/embedded-broker.js';
import { setUpMqtt, type DeviceLogins } from './adapters/mqtt/mqtt-setup.js';
import { MqttTransport } from './adapters/mqtt/mqtt-transport.js';
import { SqliteStore } from './adapters/sqlite/sqlite-store.js';
import { loadSiteLayout } from './adapters/site-loader.js';
import { systemClock } from './adapters/system-clock.js';
import { buildApp, type PickwireApp } from './api/app.js';
import { deviceResource, floorRoutes } from './api/routes/floor.js';
import { inventoryRoutes } from './api/routes/inventory.js';
import { orderRoutes } from './api/routes/orders.js';
import { cancellationRoutes } from './api/routes/cancellation.js';
import { CancellationService } from './app/cancellation.js';
import { deviceCommandRoutes } from './api/routes/device-commands.js';
import { DeviceCommandService } from './app/device-commands.js';
import { holdsRoutes } from './api/routes/holds.js';
import { HoldsService } from './app/holds-service.js';
import { KpiService } from './app/kpis.js';
import { kpiRoutes } from './api/routes/kpis.js';
import { meRoutes } from './api/routes/me.js';
import { EtaService } from './app/eta-service.js';
import { DEFAULT_RISK_CONFIG } from './domain/risk.js';
import { shopifyRoutes } from './api/routes/shopify.js';
import { createLocalNotifier } from './api/stream.js';
import type { AppContext } from './app/context.js';
import { DeviceRegistry, type DeviceView } from './app/device-registry.js';
import { Dispatcher } from './app/dispatcher.js';
import { FleetProfiles } from './app/fleet-profiles.js';
import { ReleasePlanner } from './app/release-planner.js';
import { EXCEPTION_TYPES } from './domain/records.js';
import { SourcingService } from './app/sourcing-service.js';
import { ExceptionService } from './app/exception-service.js';
import { ExecutionWatchdog } from './app/execution-watchdog.js';
import { ChargingPolicy } from './app/charging-policy.js';
import { JamPolicy } from './app/jam-policy.js';
import { StationReroute } from './app/station-reroute.js';
import { TaskControlService } from './app/task-control.js';
import { taskRoutes } from './api/routes/tasks.js';
import { exceptionRoutes } from './api/routes/exceptions.js';
import { Ingest } from './app/ingest.js';
import { OrderIntake } from './app/intake.js';
import { InventoryService } from './app/inventory-service.js';
import { LineService } from './app/line-service.js';
import { OutboxPublisher } from './app/outbox-publisher.js';
import { seedFromLayout } from './app/site-seed.js';
import { TaskProgressService } from './app/task-progress.js';
import { PackService } from './app/pack-service.js';
import { shipmentRoutes } from './api/routes/shipments.js';
import { TelemetryRecorder } from './app/telemetry-recorder.js';
import { TrafficController } from './app/traffic-controller.js';
import { InfluxSink } from './adapters/telemetry/influx-sink.js';
import { MemorySink } from './adapters/telemetry/memory-sink.js';
import type { Config } from './config.js';
import { buildInstantActions } from './domain/commands.js';
import { RouteGraph } from './domain/route-graph.js';
import type { SiteLayout } from './domain/site-layout.js';
import { createLogger, rateLimitedLog } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Clock, Notifier, TelemetrySink, Transport } from './ports.js';
import { loadTokens, type TokenTable } from './tokens.js';

export const CORE_VERSION = '0.1.0';

export interface CoreOverrides {
  clock?: Clock;
  logger?: Logger;
  layout?: SiteLayout;
  metrics?: Metrics;
  /**
   * The core's MQTT side, e.g. the in-memory bus of a fast simulation run: no MQTT client and no
   * embedded broker are started then (`mqttUrl` is empty).
   */
  transport?: Transport;
  /**
   * Periods (ms) of display-only work: live ETA refresh (1 s by default) and device telemetry
   * (1 s). A fast simulation run has no one watching and stretches them; control is unaffected.
   */
  displayTicks?: { etaMs?: number; telemetryMs?: number };
  /**
   * A fast simulation run, whose results must depend on its seed alone, never on how busy the
   * machine is: no wall-clock work budgets (a dispatch pass or ETA tick does all its work), and
   * intake commits sync inline instead of on the thread pool, whose completion time would
   * otherwise decide at which virtual instant an order is acknowledged.
   */
  deterministic?: boolean;
  /**
   * Keep the store in memory (same SQLite code and schema, no file): a fast simulation run, whose
   * store must not survive it, then pays no WAL writes and syncs per commit.
   */
  inMemoryStore?: boolean;
  /** Extra tokens beside the configured ones (the simulated order feed's channel token). */
  extraTokens?: { name: string; role: 'channel' | 'operator' | 'viewer' | 'admin'; token: string }[];
}

export interface Core {
  readonly config: Config;
  readonly logger: Logger;
  readonly app: PickwireApp;
  readonly layout: SiteLayout;
  readonly tokens: TokenTable;
  readonly store: SqliteStore;
  readonly registry: DeviceRegistry;
  readonly traffic: TrafficController;
  readonly metrics: Metrics;
  /** Order intake, for in-process channels (the fast simulation runner has no HTTP). */
  readonly intake: OrderIntake;
  /** Live events (orders, lines, tasks, devices) as the dashboard stream sees them. */
  readonly notifier: Notifier;
  /** The broker URL devices should use (the embedded one's, or the configured external one). */
  readonly mqttUrl: string;
  /** Generated MQTT logins of the simulated devices (key `amr:AMR-01`); set when `simulate` runs without mqttUsersFile. */
  readonly mqttDeviceLogins: DeviceLogins | undefined;
  /** Set once `listen()` ran. */
  httpUrl: string | undefined;
  listen(): Promise<string>;
  stop(reason?: string): Promise<void>;
}

/** Time between dispatch passes when nothing kicks them (devices freeing up, watchdogs). */
const DISPATCH_TICK_MS = 500;
/** Traffic control's retry of waiting vehicles and deadlock check. */
const TRAFFIC_TICK_MS = 500;
const DEVICE_PERSIST_MS = 2000;
/** How often held tasks are checked against their devices' liveness and the task timeout. */
const WATCHDOG_TICK_MS = 1000;
const OUTBOX_PRUNE_MS = 60_000;
const TELEMETRY_TICK_MS = 1000;
/** Running steps' ETAs move with the clock; once a second is as fine as the ETA is published. */
const ETA_TICK_MS = 1000;

export async function createCore(config: Config, overrides: CoreOverrides = {}): Promise<Core> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel });
  const log = logger.child({ component: 'core' });
  const clock = overrides.clock ?? systemClock;
  const metrics = overrides.metrics ?? createMetrics();
  const layout = overrides.layout ?? loadSiteLayout(config.site);
  const siteId = layout.site.id;
  const tokens = withExtraTokens(loadTokens({ tokens: config.tokens, dataDir: config.dataDir }), overrides.extraTokens ?? []);
  for (const w of tokens.warnings) log.warn(w);

  const store = new SqliteStore({ dataDir: overrides.inMemoryStore === true ? ':memory:' : config.dataDir, clock });
  const seed = seedFromLayout(store, layout);
  log.info({ store: store.path, schemaVersion: store.schemaVersion, ...seed }, 'store open');

  const notifier = createLocalNotifier((err) => log.warn({ err }, 'live listener failed'));
  // Device metrics and KPIs: InfluxDB when configured, else an in-memory ring (DESIGN §6).
  const telemetrySink: TelemetrySink = config.influx
    ? new InfluxSink({ ...config.influx, logger, now: () => clock.now() })
    : new MemorySink();
  const telemetry = new TelemetryRecorder({ sink: telemetrySink, site: siteId, now: () => clock.now() });
  const ctx: AppContext = {
    telemetry,
    store,
    clock,
    layout,
    locations: new Map(layout.locations.map((l) => [l.id, l])),
    graph: new RouteGraph(layout),
    notifier,
    logger: logger.child({ component: 'execution' }),
    metrics,
    siteId,
    maxLineAttempts: 3,
  };
  const registry = new DeviceRegistry({ watchdogMs: 15_000, lowBatteryPercent: config.lowBatteryPercent });
  for (const a of layout.devices.amrs) registry.declare(a.serialNumber, 'amr', { manufacturer: a.manufacturer, serialNumber: a.serialNumber });
  for (const a of layout.devices.asrs) registry.declare(a.id, 'asrs');
  for (const c of layout.devices.conveyors) registry.declare(c.id, 'conveyor');
  for (const a of layout.devices.arms) registry.declare(a.id, 'arm');
  // Devices that joined on their own in an earlier run show up (as unknown) until they speak.
  for (const d of store.loadDevices()) if (!registry.get(d.id)) registry.restore(d.data as DeviceView);

  // Embedded or external broker, logins, ACL and TLS: src/adapters/mqtt/mqtt-setup.ts.
  const mqttSide = overrides.transport ? undefined : await setUpMqtt({ config, layout, logger, metrics, now: () => clock.now() });
  const broker: EmbeddedBroker | undefined = mqttSide?.broker;
  const mqttUrl = mqttSide?.url ?? '';
  const coreId = `pickwire-core-${siteId}-${randomBytes(4).toString('hex')}`;
  const presence = (online: boolean): string => encodeCorePresence({ online, timestamp: new Date(clock.now()).toISOString(), coreId, version: CORE_VERSION });
  const transport: Transport = overrides.transport ?? await MqttTransport.connect({
    url: mqttUrl,
    clientId: coreId,
    ...mqttSide?.login,
    will: { topic: coreStateTopic(siteId), payload: presence(false), qos: 1, retain: true },
    logger: logger.child({ component: 'mqtt' }),
  });

  const publisher = new OutboxPublisher(store, transport, clock, logger.child({ component: 'outbox' }), metrics, { resendAfterMs: 3000, batchSize: 200 });
  // The line service kicks the dispatcher, which needs the line service: tie the knot lazily.
  const kickDispatch = (): void => dispatcher.kick();
  const sourcing = new SourcingService(ctx, {
    weights: { cost: config.sourcingWeightCost, distance: config.sourcingWeightDistance, time: config.sourcingWeightTime, co2: config.sourcingWeightCo2 },
    minShipmentValue: config.minShipmentValue,
  });
  const exceptions = new ExceptionService(ctx);
  const lines = new LineService(ctx, sourcing, exceptions, kickDispatch);
  const releasePlanner = new ReleasePlanner(ctx, lines, { window: config.releaseWindow });
  const traffic = new TrafficController(ctx, registry, { interfaceName: config.mqttInterface, lookahead: config.trafficLookaheadNodes }, {
    onCommandsQueued: (committed) => (committed ? publisher.sendCommitted(committed) : publisher.kick()),
  });
  registry.useReservations((id) => traffic.reservedNodes(id));
  // Vendors' vehicle profiles (layout `vehicleProfiles`): actions, parameters, speed, watchdog.
  const fleetProfiles = new FleetProfiles(layout, 15_000);
  const dispatcher = new Dispatcher(
    ctx,
    registry,
    lines,
    { interfaceName: config.mqttInterface, jobExpirySeconds: 60, tripBatchSize: config.tripBatchSize, lowBatteryPercent: config.lowBatteryPercent, passBudgetMs: overrides.deterministic ? Infinity : undefined },
    (committed) => publisher.sendCommitted(committed),
    releasePlanner,
    traffic,
    fleetProfiles,
  );
  const progress = new TaskProgressService(ctx, registry, lines, kickDispatch, exceptions);
  // Totes at the pack station consolidate into shipments, packed and shipped on deadlines kept in the store.
  const packTiming = { baseSeconds: config.packBaseSeconds, secondsPerUnit: config.packSecondsPerUnit };
  const packs = new PackService(ctx, store.shipments, lines, sourcing.sites, {
    timing: packTiming,
    shipAtCutoff: config.shipAtCarrierCutoff,
  });
  progress.watchToteArrivals((task, after) => packs.toteArrived(task, after));
  // A vehicle's refusal is understood (who is excluded from what) before task progress fails the trip.
  progress.watchVdaStates((deviceId, _serialNumber, s) => dispatcher.observeVehicleState(deviceId, s));
  const watchdog = new ExecutionWatchdog(ctx, registry, progress, exceptions, { interfaceName: config.mqttInterface, taskTimeoutMs: config.taskTimeoutSeconds * 1000, traffic, profiles: fleetProfiles }, () => publisher.kick());
  // Both read tasks on every vehicle state or sweep: they keep them and re-read only those written.
  progress.followTaskWrites((watcher) => store.watchTaskWrites(watcher));
  watchdog.followTaskWrites((watcher) => store.watchTaskWrites(watcher));
  const intake = new OrderIntake(ctx, lines, sourcing, { maxLineQuantity: config.maxLineQuantity, risk: { ...DEFAULT_RISK_CONFIG, threshold: config.riskHoldThreshold }, syncLater: overrides.deterministic ? undefined : store });
  const cancellation = new CancellationService(ctx, registry, lines, { interfaceName: config.mqttInterface }, {
    onCommandsQueued: () => publisher.kick(),
    onTasksFreed: kickDispatch,
    onLinesCanceled: (orderId, canceled, actor, after) => packs.linesCanceled(orderId, canceled, actor, after),
  });
  const deviceCommands = new DeviceCommandService(ctx, registry, { interfaceName: config.mqttInterface, progress, traffic }, {
    onCommandsQueued: () => publisher.kick(),
    onDeviceChanged: (view) => {
      kickDispatch();
      notifier.publish({ type: 'device.updated', at: clock.now(), data: deviceResource(registry, view, clock.now()) });
    },
  });
  const charging = new ChargingPolicy(ctx, registry, deviceCommands, exceptions);
  const jams = new JamPolicy(ctx, registry, deviceCommands, exceptions);
  // Bins on their way to a blocked or dead arm station go to another one on the same conveyor.
  const stationReroute = new StationReroute(ctx, registry, exceptions, { jobExpirySeconds: 60, onCommandsQueued: () => publisher.kick() });
  progress.watchWcsJobStates((deviceId, s) => stationReroute.onWcsJobState(deviceId, s));
  const taskControl = new TaskControlService(ctx, progress, cancellation, () => publisher.kick(), kickDispatch, traffic);
  const inventory = new InventoryService(ctx, lines, sourcing);
  const holds = new HoldsService(ctx, lines, cancellation);
  const kpis = new KpiService({ store, queries: store.kpi, registry, notifier, clock });
  // Stretched ETA ticks (a fast run) also hold back the recompute on every change until the tick.
  const etas = new EtaService(ctx, registry, sourcing.sites, { releaseWindow: config.releaseWindow, packTiming, tickBudgetMs: overrides.deterministic ? Infinity : undefined, refreshOnEvents: overrides.displayTicks?.etaMs === undefined });

  const stateRequested = new Map<string, number>();
  const requestState = (view: DeviceView): void => {
    // Never send an order to a vehicle whose current state the core has not seen (DESIGN §2.1).
    const now = clock.now();
    if (!view.serialNumber || !view.manufacturer || now - (stateRequested.get(view.id) ?? 0) < 5000) return;
    stateRequested.set(view.id, now);
    const msg = buildInstantActions(
      { headerId: store.nextId(`vda:${view.serialNumber}:instantActions`), timestamp: new Date(now).toISOString() },
      { manufacturer: view.manufacturer, serialNumber: view.serialNumber },
      [{ actionId: `stateRequest-${now}`, actionType: 'stateRequest', blockingType: 'NONE' }],
    );
    const topic = vdaTopic({ interfaceName: config.mqttInterface, manufacturer: view.manufacturer, serialNumber: view.serialNumber }, 'instantActions');
    transport.publish(topic, encodeVda('instantActions', msg), { qos: 1 }).catch((err: unknown) => log.warn({ err, device: view.id }, 'stateRequest failed'));
  };
  const ingest = new Ingest(
    ctx,
    registry,
    progress,
    {
      onVehicleNeedsState: requestState,
      onVdaState: (view, s) => traffic.onVdaState(view, s),
      onDeviceChanged: (view) => {
        // Only a change a pass would act on (see Dispatcher.mattersToDispatch), not every idle state.
        if (dispatcher.mattersToDispatch(view)) kickDispatch();
        telemetry.recordDevice(view, registry.status(view, clock.now()));
        notifier.publish({ type: 'device.updated', at: clock.now(), data: deviceResource(registry, view, clock.now()) });
      },
    },
    config.mqttInterface,
    rateLimitedLog(logger.child({ component: 'ingest' }), 'mqtt.rejected', 60_000, () => clock.now()),
  );
  transport.onMessage((topic, payload) => ingest.handle(topic, payload));
  transport.onConnect(() => {
    metrics.mqttConnected.set(1);
    transport.publish(coreStateTopic(siteId), presence(true), { qos: 1, retain: true }).catch((err: unknown) => log.warn({ err }, 'presence publish failed'));
    for (const v of registry.list()) if (v.class === 'amr' && v.stateSeenAt === undefined) requestState(v);
  });
  // Only what devices send: a wildcard would also hand the core back its own commands.
  await transport.subscribe(
    [
      ...(['state', 'visualization', 'connection', 'factsheet'] as const).map((t) => vdaSubscription(config.mqttInterface, t)),
      ...(['jobState', 'telemetry', 'connection', 'factsheet'] as const).map((t) => wcsSubscription(siteId, t)),
    ],
    1,
  );
  await transport.publish(coreStateTopic(siteId), presence(true), { qos: 1, retain: true });
  metrics.mqttConnected.set(1);
  for (const v of registry.list()) if (v.class === 'amr') requestState(v);
  publisher.start();
  packs.start();

  // One slot per periodic task holding the cancel of its pending timer: each round replaces its
  // own (pushing every round kept every spent timer alive, ~8 a second: the soak's heap growth).
  const timers: (() => void)[] = [];
  const every = (ms: number, fn: () => void): void => {
    const slot = timers.length;
    const loop = (): void => {
      timers[slot] = clock.setTimer(ms, () => {
        try {
          fn();
        } catch (err) {
          log.error({ err }, 'periodic task failed');
        }
        if (!stopping) loop();
      });
    };
    loop();
  };
  let stopping = false;
  every(DISPATCH_TICK_MS, kickDispatch);
  every(TRAFFIC_TICK_MS, () => traffic.tick());
  every(WATCHDOG_TICK_MS, () => watchdog.sweep());
  every(overrides.displayTicks?.etaMs ?? ETA_TICK_MS, () => etas.tick());
  every(WATCHDOG_TICK_MS, () => charging.sweep());
  every(WATCHDOG_TICK_MS, () => jams.sweep());
  every(WATCHDOG_TICK_MS, () => stationReroute.sweep());
  every(WATCHDOG_TICK_MS, () => packs.sweep());
  every(overrides.displayTicks?.telemetryMs ?? TELEMETRY_TICK_MS, () => {
    const now = clock.now();
    for (const v of registry.list()) telemetry.recordDevice(v, registry.status(v, now));
    telemetry.tick();
  });
  every(OUTBOX_PRUNE_MS, () => {
    store.pruneOutbox(clock.now() - config.outboxRetentionMinutes * 60_000);
    store.pruneIdempotency(clock.now() - config.idempotencyRetentionHours * 3600_000);
  });
  every(DEVICE_PERSIST_MS, () => {
    const dirty = registry.takeDirty();
    if (dirty.length > 0) store.tx(() => dirty.forEach((d) => store.saveDevice({ id: d.id, class: d.class, data: d, updatedAt: clock.now() })));
    for (const [state, n] of Object.entries(store.countLinesByState())) metrics.linesByState.set({ state }, n);
    const open = store.countOpenExceptionsByType();
    for (const type of EXCEPTION_TYPES) metrics.exceptionsOpen.set({ type }, open[type] ?? 0);
  });

  const app = buildApp({
    config,
    logger,
    tokens,
    metrics,
    notifier,
    readiness: () => {
      const reasons: string[] = [];
      if (!transport.connected) reasons.push('broker not connected');
      if (stopping) reasons.push('shutting down');
      return { ready: reasons.length === 0, reasons };
    },
    snapshot: () => ({
      site: { id: siteId, name: layout.site.name },
      devices: registry.list().map((d) => deviceResource(registry, d, clock.now())),
      linesByState: store.countLinesByState(),
    }),
    routes: [orderRoutes({ intake, store, etas }), floorRoutes({ store, registry, layout, clock }), inventoryRoutes({ inventory }), shopifyRoutes({ intake, secret: config.shopifyWebhookSecret }), cancellationRoutes({ cancellation }), holdsRoutes({ holds }), exceptionRoutes({ exceptions }), taskRoutes({ tasks: taskControl }), deviceCommandRoutes({ deviceCommands, registry, clock }), kpiRoutes({ kpis }), shipmentRoutes({ packs }), meRoutes()],
    isAcceptingWork: () => !stopping,
    now: () => clock.now(),
  });

  const core: Core = {
    config,
    logger,
    app,
    layout,
    tokens,
    store,
    registry,
    traffic,
    metrics,
    intake,
    notifier,
    mqttUrl,
    mqttDeviceLogins: mqttSide?.deviceLogins,
    httpUrl: undefined,
    async listen() {
      const address = await app.listen({ port: config.httpPort, host: config.httpHost });
      core.httpUrl = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
      return core.httpUrl;
    },
    async stop(reason = 'stop') {
      if (stopping) return;
      stopping = true;
      log.info({ reason }, 'stopping: intake closed');
      for (const cancel of timers) cancel();
      dispatcher.stop();
      traffic.stop();
      kpis.stop();
      packs.stop();
      await app.close();
      const flushed = await publisher.flush(2000);
      if (!flushed) log.warn({ pending: store.unsent(1000).length }, 'outbox not fully flushed; it is durable and will be sent on the next start');
      publisher.stop();
      // A graceful stop says so; the last will only covers a crash.
      const goodbye = (): Promise<void> => transport.publish(coreStateTopic(siteId), presence(false), { qos: 1, retain: true });
      if (transport instanceof MqttTransport) await transport.close({ beforeDisconnect: goodbye });
      else await goodbye().then(() => transport.close(), () => transport.close());
      await broker?.close();
      telemetry.flushCounters();
      await telemetrySink.close();
      const dirty = registry.takeDirty();
      store.tx(() => dirty.forEach((d) => store.saveDevice({ id: d.id, class: d.class, data: d, updatedAt: clock.now() })));
      store.close();
      log.info('stopped');
    },
  };
  return core;
}

/** The configured tokens plus in-process ones (e.g. the simulated order feed's). */
function withExtraTokens(base: TokenTable, extra: NonNullable<CoreOverrides['extraTokens']>): TokenTable {
  if (extra.length === 0) return base;
  const entries = extra.map((e) => ({ principal: { name: e.name, role: e.role }, token: Buffer.from(e.token) }));
  return {
    adminToken: base.adminToken,
    adminTokenCreated: base.adminTokenCreated,
    size: base.size + extra.length,
    warnings: base.warnings,
    lookup(token) {
      const t = Buffer.from(token);
      const hit = entries.find((e) => e.token.length === t.length && timingSafeEqual(e.token, t));
      return hit ? hit.principal : base.lookup(token);
    },
  };
}
