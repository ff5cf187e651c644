/**
 * Decides how the core meets its broker: the embedded one (with which logins, whether TLS) or an
 * external one (with which login and CA), and what the core itself presents.
 *
 *   - `mqttUsersFile` set: the embedded broker requires those logins and enforces the ACL.
 *   - no file but `simulate` (`npm start`): every device of the layout gets a generated login,
 *     handed to the simulated site, so the demo runs with authentication and ACLs on; clients
 *     without a username may watch as read-only observers.
 *   - neither: the embedded broker accepts anonymous clients, and says so loudly at every start.
 * The core always logs in to its embedded broker with a generated, in-memory login of role core.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../../config.js';
import { MqttAcl } from '../../domain/mqtt-acl.js';
import type { SiteLayout } from '../../domain/site-layout.js';
import { PickwireError } from '../../errors.js';
import { rateLimitedLog } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import { startEmbeddedBroker, type BrokerSecurity, type EmbeddedBroker } from './embedded-broker.js';
import { MqttCredentials, generateSiteCredentials, loadMqttUsersFile } from './mqtt-credentials.js';
import type { MqttTransportOptions } from './mqtt-transport.js';

export type DeviceLogins = Readonly<Record<string, { username: string; password: string }>>;

export interface MqttSetup {
  broker: EmbeddedBroker | undefined;
  url: string;
  /** What the core's own MQTT client presents. */
  login: Pick<MqttTransportOptions, 'username' | 'password' | 'tls'>;
  /** Generated logins of the simulated devices (key `amr:AMR-01`), when the demo generated them. */
  deviceLogins: DeviceLogins | undefined;
  authEnforced: boolean;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new PickwireError('PW_ERR_CONFIG_INVALID', `${what} ${file}: ${(err as Error).message}`);
  }
}

export async function setUpMqtt(opts: { config: Config; layout: SiteLayout; logger: Logger; metrics: Metrics; now: () => number }): Promise<MqttSetup> {
  const { config, logger } = opts;
  const log = logger.child({ component: 'broker' });
  if (config.mqttUrl) {
    if (config.mqttUsersFile) log.warn('mqttUsersFile applies to the embedded broker only; the external broker enforces its own logins and ACL (see deploy/mosquitto/)');
    return {
      broker: undefined,
      url: config.mqttUrl,
      login: {
        // A username without a password would be refused by a broker that has a password file.
        ...(config.mqttPassword !== undefined ? { username: config.mqttUsername, password: config.mqttPassword } : {}),
        ...(config.mqttCaFile ? { tls: { ca: readPem(config.mqttCaFile, 'mqttCaFile') } } : {}),
      },
      deviceLogins: undefined,
      authEnforced: config.mqttPassword !== undefined,
    };
  }

  const tls = config.tls ? { cert: readPem(config.tls.certFile, 'tls.certFile'), key: readPem(config.tls.keyFile, 'tls.keyFile') } : undefined;
  let security: BrokerSecurity | undefined;
  let deviceLogins: DeviceLogins | undefined;
  let login: MqttSetup['login'] = {};
  if (config.mqttUsersFile || config.simulate) {
    const credentials = new MqttCredentials();
    if (config.mqttUsersFile) {
      const n = loadMqttUsersFile(config.mqttUsersFile, credentials);
      log.info({ users: n, file: config.mqttUsersFile }, 'MQTT logins loaded');
    } else {
      deviceLogins = generateSiteCredentials(opts.layout, credentials);
      log.info(
        { devices: Object.keys(deviceLogins).length },
        'generated MQTT logins for the simulated devices; anonymous clients may only read (development; set mqttUsersFile for real devices)',
      );
    }
    const core = credentials.generate(config.mqttUsername, 'core');
    login = { username: core.username, password: core.password };
    security = {
      credentials,
      acl: new MqttAcl(config.mqttInterface),
      onRefused: (reason) => opts.metrics.mqttRefused.inc({ reason }),
      log: rateLimitedLog(log, 'mqtt.refused', 60_000, opts.now),
      // The demo stays watchable without setup; a configured site admits logins only.
      anonymousObservers: deviceLogins !== undefined,
    };
  } else {
    log.warn(
      'MQTT AUTHENTICATION IS OFF: the embedded broker accepts anonymous clients, so anyone who can reach the MQTT port can impersonate devices and send them commands. Set mqttUsersFile (see README, Security).',
    );
  }
  const broker = await startEmbeddedBroker({ host: config.mqttHost, port: config.mqttPort, logger: log, ...(security ? { security } : {}), ...(tls ? { tls } : {}) });
  if (tls) login = { ...login, tls: { ca: tls.cert, pinnedCert: true } };
  return { broker, url: broker.url, login, deviceLogins, authEnforced: security !== undefined };
}
