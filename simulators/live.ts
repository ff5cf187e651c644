/**
 * The simulated site of `npm start`, run by the core as a child process. It reaches the core the
 * way real equipment and sales channels do: devices over MQTT, the order feed over HTTP.
 * Configured through environment variables set by src/main.ts.
 */
import { createLogger, loadSiteLayout } from '../src/index.js';
import { startOrderFeed } from './order-feed.js';
import { startSimulatedSite } from './site-sim.js';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; the simulated site is started by src/main.ts`);
  return v;
}

async function run(): Promise<void> {
  const logger = createLogger({ level: (process.env.PICKWIRE_SIM_LOG_LEVEL ?? 'info') as 'info' }).child({ component: 'simulator' });
  // Simulator components log pino-style: (fields, message).
  const simLog = {
    info: (fields: unknown, msg?: unknown) => logger.info(fields as object, typeof msg === 'string' ? msg : ''),
    warn: (fields: unknown, msg?: unknown) => logger.warn(fields as object, typeof msg === 'string' ? msg : ''),
  };
  const layout = loadSiteLayout(env('PICKWIRE_SIM_SITE'));
  const site = await startSimulatedSite({
    layout,
    mqttUrl: env('PICKWIRE_SIM_MQTT_URL'),
    interfaceName: process.env.PICKWIRE_SIM_INTERFACE ?? 'uagv',
    logger: simLog,
  });
  const feedSpec = layout.orderFeed ?? { ordersPerMinute: 6, maxLinesPerOrder: 3, maxUnitsPerLine: 3, seed: 1 };
  const rate = process.env.PICKWIRE_SIM_ORDER_RATE ? Number(process.env.PICKWIRE_SIM_ORDER_RATE) : feedSpec.ordersPerMinute;
  const feed =
    rate > 0
      ? startOrderFeed({
          baseUrl: env('PICKWIRE_SIM_HTTP_URL'),
          token: env('PICKWIRE_SIM_TOKEN'),
          layout,
          ordersPerMinute: rate,
          maxLinesPerOrder: feedSpec.maxLinesPerOrder,
          maxUnitsPerLine: feedSpec.maxUnitsPerLine,
          // A new seed per start: a restarted demo must not replay the idempotency keys of the last one.
          seed: feedSpec.seed * 1_000_003 + (Date.now() % 1_000_003),
          logger: simLog,
        })
      : undefined;
  logger.info({ amrs: site.devices.amrs.length, ordersPerMinute: rate }, 'simulated site running');
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await feed?.stop();
    await site.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The core owns this process: if it goes away, so do we.
  process.on('disconnect', () => void stop());
}

run().catch((err: unknown) => {
  process.stderr.write(`pickwire simulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
