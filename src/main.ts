/**
 * The process entry of `npm start`: configuration, the core, the HTTP listener, and — with
 * `--simulate` — the simulated site in a child process that reaches the core only over MQTT and
 * HTTP, exactly as real devices and sales channels do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';
import { createCore, type Core } from './core.js';
import { resolveSitePath } from './adapters/site-loader.js';
import { PickwireError } from './errors.js';
import { createLogger } from './logger.js';
import { installShutdown } from './shutdown.js';

const SIMULATOR_ENTRY = fileURLToPath(new URL('../simulators/live.ts', import.meta.url));

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env });
  } catch (err) {
    if (err instanceof PickwireError) {
      process.stderr.write(`pickwire: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const simToken = config.simulate ? randomBytes(24).toString('base64url') : undefined;
  const core = await createCore(config, {
    logger,
    extraTokens: simToken ? [{ name: 'sim-feed', role: 'channel', token: simToken }] : [],
  });
  let simulator: ChildProcess | undefined;
  // Installed before anything else starts, so a signal during start-up still stops cleanly.
  installShutdown({
    logger,
    timeoutMs: config.shutdownTimeoutMs,
    stop: async (reason) => {
      if (simulator) await stopChild(simulator, 3000);
      await core.stop(reason);
    },
  });
  const httpUrl = await core.listen();
  if (config.simulate && simToken) simulator = startSimulator(core.mqttUrl, httpUrl, simToken, config, core.mqttDeviceLogins);

  // A wildcard bind is reachable as localhost; a specific address only as itself.
  const wildcard = config.httpHost === '0.0.0.0' || config.httpHost === '::';
  const publicUrl = wildcard ? `${new URL(httpUrl).protocol}//localhost:${new URL(httpUrl).port}` : httpUrl;
  const feedRate = config.orderFeedRate ?? core.layout.orderFeed?.ordersPerMinute ?? 0;
  const token = core.tokens.adminToken;
  process.stdout.write(
    [
      '',
      `  Pickwire is running: site ${core.layout.site.name}`,
      `  Dashboard:   ${publicUrl}/${token ? `#token=${token}` : '  (sign in with a token from PICKWIRE_TOKENS)'}`,
      token ? `  Admin token: ${token}${core.tokens.adminTokenCreated ? '  (new; kept in ' + config.dataDir + '/admin-token)' : ''}` : '',
      `  API:         ${publicUrl}/api/v1   OpenAPI: ${publicUrl}/docs`,
      `  MQTT:        ${core.mqttUrl}${config.mqttUrl ? '' : '  (embedded broker)'}`,
      config.simulate
        ? `  Simulation:  ${core.layout.devices.amrs.length} AMRs, ${core.layout.devices.asrs.length} AS/RS, ${core.layout.devices.conveyors.length} conveyor(s), ${core.layout.devices.arms.length} arms, ${feedRate > 0 ? `order feed ${feedRate}/min` : 'order feed off'}`
        : '',
      '',
    ]
      .filter((l, i, all) => l !== '' || i === 0 || i === all.length - 1)
      .join('\n') + '\n',
  );
}

function startSimulator(mqttUrl: string, httpUrl: string, token: string, config: ReturnType<typeof loadConfig>, mqttLogins: Core['mqttDeviceLogins']): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', SIMULATOR_ENTRY], {
    // The IPC channel is how the simulator learns that the core died: it disconnects then.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      PICKWIRE_SIM_MQTT_URL: mqttUrl,
      PICKWIRE_SIM_HTTP_URL: httpUrl,
      PICKWIRE_SIM_TOKEN: token,
      PICKWIRE_SIM_SITE: resolveSitePath(config.site),
      PICKWIRE_SIM_INTERFACE: config.mqttInterface,
      PICKWIRE_SIM_LOG_LEVEL: config.logLevel,
      // The devices' generated MQTT logins; a child's environment is readable by its own user only.
      ...(mqttLogins ? { PICKWIRE_SIM_MQTT_LOGINS: JSON.stringify(mqttLogins) } : {}),
      // A self-signed certificate of the core must be trusted by the simulated site too.
      ...(config.tls ? { NODE_EXTRA_CA_CERTS: config.tls.certFile } : {}),
      ...(config.orderFeedRate !== undefined ? { PICKWIRE_SIM_ORDER_RATE: String(config.orderFeedRate) } : {}),
    },
  });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM') process.stderr.write(`pickwire: the simulated site exited (code ${code}, signal ${signal})\n`);
  });
  return child;
}

async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

main().catch((err: unknown) => {
  process.stderr.write(`pickwire: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
