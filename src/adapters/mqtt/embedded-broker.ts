/**
 * The embedded MQTT broker of `npm start`: core, simulators and real devices connect to it as to
 * any broker. It runs aedes (./aedes-server.ts) on a worker thread of its own: every device
 * message is parsed and routed by the broker before the core's client parses it again, and on
 * the core's thread that work and its garbage competed with dispatch passes (issue 4's latency)
 * and with the core's own message handling. In its own thread it uses the second core and its
 * own heap. Logins and ACLs are enforced there; refusals come back to be counted and logged here.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { MqttAcl } from '../../domain/mqtt-acl.js';
import type { RateLimitedLog } from '../../logger.js';
import type { MqttRefusal } from './aedes-server.js';
import type { BrokerWorkerData, FromBrokerWorker, ToBrokerWorker } from './broker-worker-messages.js';
import type { MqttCredentials } from './mqtt-credentials.js';

export type { MqttRefusal } from './aedes-server.js';

export interface EmbeddedBroker {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export interface BrokerSecurity {
  credentials: MqttCredentials;
  acl: MqttAcl;
  onRefused: (reason: MqttRefusal) => void;
  /** Rate-limited: a misconfigured device retries every second. */
  log: RateLimitedLog;
  /**
   * Development only (`npm start` without a users file): a client without a username is let in
   * as a read-only observer, so MQTT Explorer and tests can watch the demo. Never for devices:
   * an observer publishes nothing.
   */
  anonymousObservers?: boolean;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Authentication and ACLs; undefined leaves the broker open (a loud warning is the caller's job). */
  security?: BrokerSecurity;
  /** PEM certificate chain and key: the broker then speaks MQTT over TLS only (`mqtts://`). */
  tls?: { cert: Buffer; key: Buffer };
}

/** How long a closing broker may take to let its clients go before its thread is stopped. */
const CLOSE_TIMEOUT_MS = 5000;

export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const data: BrokerWorkerData = {
    host: opts.host,
    port: opts.port,
    ...(opts.tls ? { tls: opts.tls } : {}),
    ...(opts.security
      ? { security: { credentials: opts.security.credentials.toData(), vdaInterface: opts.security.acl.vdaInterface, anonymousObservers: opts.security.anonymousObservers === true } }
      : {}),
    reportClientErrors: opts.logger.isLevelEnabled('debug'),
  };
  const worker = new Worker(new URL('./broker-worker-entry.js', import.meta.url), { workerData: data });
  let closing = false;
  let onClosed: (() => void) | undefined;
  const listening = new Promise<number>((resolve, reject) => {
    worker.on('message', (m: FromBrokerWorker) => {
      switch (m.kind) {
        case 'listening':
          resolve(m.port);
          break;
        case 'failed':
          reject(Object.assign(new Error(`embedded MQTT broker could not listen on ${opts.host}:${opts.port}: ${m.message}`), m.code !== undefined ? { code: m.code } : {}));
          break;
        case 'refused':
          opts.security?.onRefused(m.reason);
          opts.security?.log(m.key, m.msg, m.fields);
          break;
        case 'clientError':
          opts.logger.debug({ clientId: m.clientId, err: m.message }, 'mqtt client error');
          break;
        case 'closed':
          if (m.error !== undefined) opts.logger.warn({ err: m.error }, 'embedded MQTT broker closed with an error');
          onClosed?.();
          break;
      }
    });
    worker.once('error', (err) => {
      reject(err);
      if (!closing) opts.logger.error({ err }, 'embedded MQTT broker thread failed; devices and the core are disconnected');
    });
    worker.once('exit', (code) => {
      reject(new Error(`embedded MQTT broker thread exited (code ${code}) before it listened`));
      if (!closing) opts.logger.error({ code }, 'embedded MQTT broker thread exited; devices and the core are disconnected');
      onClosed?.();
    });
  });
  let port: number;
  try {
    port = await listening;
  } catch (err) {
    closing = true;
    await worker.terminate();
    throw err;
  }
  const connectHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  opts.logger.info({ port, host: opts.host, tls: opts.tls !== undefined, auth: opts.security !== undefined }, 'embedded MQTT broker listening (own thread)');
  return {
    port,
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://${connectHost}:${port}`,
    async close() {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => (onClosed = resolve));
      worker.postMessage({ kind: 'close' } satisfies ToBrokerWorker);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
      clearTimeout(timer);
      await worker.terminate();
    },
  };
}
