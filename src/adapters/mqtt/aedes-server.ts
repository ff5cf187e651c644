/**
 * The aedes broker itself, as the embedded broker's worker thread runs it (./broker-worker.ts;
 * ./embedded-broker.ts is the core's side).
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import type { MqttAcl, MqttIdentity } from '../../domain/mqtt-acl.js';
import type { MqttCredentials } from './mqtt-credentials.js';

/** Why the broker turned a client away; the `reason` label of `pickwire_mqtt_refused_total`. */
export type MqttRefusal = 'bad-credentials' | 'publish-denied' | 'subscribe-denied';

export interface AedesSecurity {
  credentials: MqttCredentials;
  acl: MqttAcl;
  /** Each refusal, with a rate-limit key and a log line for it. */
  onRefused: (reason: MqttRefusal, key: string, msg: string, fields: Record<string, unknown>) => void;
  /**
   * Development only (`npm start` without a users file): a client without a username is let in
   * as a read-only observer, so MQTT Explorer and tests can watch the demo. Never for devices:
   * an observer publishes nothing.
   */
  anonymousObservers?: boolean;
}

export interface AedesServerOptions {
  host: string;
  port: number;
  security?: AedesSecurity;
  tls?: { cert: Buffer; key: Buffer };
  onClientError: (clientId: string, message: string) => void;
}

export interface AedesServer {
  readonly port: number;
  close(): Promise<void>;
}

const CONNACK_BAD_CREDENTIALS = 4;

/**
 * Serves MQTT with aedes. TCP_NODELAY on every accepted socket keeps a QoS 1 round trip at
 * ~0.2 ms.
 *
 * With `security`, every client proves a username and password and each publish and subscribe
 * passes the ACL of src/domain/mqtt-acl.ts. A refused publish closes the client's connection
 * (MQTT 3.1.1 has no negative PUBACK, and aedes cannot drop silently), so the message never
 * reaches a subscriber; a refused subscription is answered with the 0x80 failure code.
 */
export async function serveAedes(opts: AedesServerOptions): Promise<AedesServer> {
  const broker = await Aedes.createBroker(opts.security ? securityHooks(opts.security) : {});
  const server: Server = opts.tls
    ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, noDelay: true }, broker.handle)
    : createServer({ noDelay: true }, broker.handle);
  broker.on('clientError', (client, err) => opts.onClientError(client.id, err.message));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw err;
  }
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function securityHooks(sec: AedesSecurity): Partial<AedesOptions> {
  // Who each connection proved to be; a WeakMap so a closed client leaves nothing behind.
  const identities = new WeakMap<Client, MqttIdentity>();
  return {
    authenticate(client, username, password, done) {
      if (sec.anonymousObservers && username === undefined && password === undefined) {
        identities.set(client, { username: '(anonymous)', role: 'observer' });
        done(null, true);
        return;
      }
      sec.credentials.verify(username, password).then(
        (identity) => {
          if (identity) {
            identities.set(client, identity);
            done(null, true);
            return;
          }
          sec.onRefused('bad-credentials', `auth:${username ?? '(none)'}`, 'MQTT login refused: unknown username or wrong password', { clientId: client.id, username: username ?? null });
          done(Object.assign(new Error('bad username or password'), { returnCode: CONNACK_BAD_CREDENTIALS }), false);
        },
        (err: unknown) => done(Object.assign(err instanceof Error ? err : new Error(String(err)), { returnCode: CONNACK_BAD_CREDENTIALS }), false),
      );
    },
    authorizePublish(client, packet, done) {
      // A null client is the broker itself (e.g. $SYS); clients always have an identity here.
      if (client === null) return done(null);
      const who = identities.get(client);
      const decision = who ? sec.acl.mayPublish(who, packet.topic) : { allowed: false as const, reason: 'not authenticated' };
      if (decision.allowed) return done(null);
      sec.onRefused('publish-denied', `pub:${who?.username ?? client.id}`, 'MQTT publish refused by ACL; connection closed', { clientId: client.id, username: who?.username ?? null, topic: packet.topic, reason: decision.reason });
      done(new Error(decision.reason));
    },
    authorizeSubscribe(client, sub, done) {
      const who = identities.get(client);
      const decision = who ? sec.acl.maySubscribe(who, sub.topic) : { allowed: false as const, reason: 'not authenticated' };
      if (decision.allowed) return done(null, sub);
      sec.onRefused('subscribe-denied', `sub:${who?.username ?? client.id}`, 'MQTT subscription refused by ACL', { clientId: client.id, username: who?.username ?? null, filter: sub.topic, reason: decision.reason });
      done(null, null);
    },
  };
}
