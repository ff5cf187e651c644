import mqtt, { type MqttClient } from 'mqtt';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { MessageHandler, PublishOptions, Transport } from '../../ports.js';
import { settleWithin } from '../../settle-within.js';

export interface MqttTransportOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /**
   * For mqtts: `ca` trusts a private CA or a self-signed certificate. `pinnedCert` is the core
   * reaching its own embedded broker: that one certificate is trusted whatever name it carries,
   * since the core dials 127.0.0.1 while the certificate names the host devices use.
   */
  tls?: { ca?: Buffer; pinnedCert?: boolean };
  /** Published by the broker if the core vanishes (DESIGN §2.3 presence). */
  will?: { topic: string; payload: string | Buffer; qos: 0 | 1; retain: boolean };
  logger: Logger;
}

/**
 * The core's MQTT link, the same code for the embedded broker and an external one. MQTT 5 for
 * message expiry; subscriptions are renewed on every reconnect; TCP_NODELAY on every socket.
 */
export class MqttTransport implements Transport {
  private readonly client: MqttClient;
  private readonly subscriptions = new Map<string, 0 | 1>();
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly connectHandlers: (() => void)[] = [];
  private closed = false;

  private constructor(
    opts: MqttTransportOptions,
    readonly protocolVersion: 4 | 5,
  ) {
    this.client = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      protocolVersion,
      // Subscriptions are renewed by us on every connect; mqtt.js must not do it a second time.
      resubscribe: false,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.will ? { will: { ...opts.will } } : {}),
      ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
      ...(opts.tls?.pinnedCert ? { checkServerIdentity: () => undefined } : {}),
    });
    this.client.on('connect', () => {
      (this.client.stream as Socket).setNoDelay?.(true);
      void this.renewSubscriptions().then(
        () => {
          for (const h of this.connectHandlers) h();
        },
        (err: unknown) => opts.logger.error({ err }, 'resubscribe failed'),
      );
    });
    this.client.on('message', (topic, payload) => {
      for (const h of this.messageHandlers) h(topic, payload);
    });
    this.client.on('reconnect', () => opts.logger.info('MQTT reconnecting'));
    this.client.on('offline', () => opts.logger.warn('MQTT offline'));
    this.client.on('error', (err) => {
      // Errors while closing (e.g. "write after end" from in-flight traffic) are expected noise.
      if (!refusedVersion(err) && !this.closed) opts.logger.warn({ err: err.message }, 'MQTT error');
    });
  }

  /**
   * Connects with MQTT 5 (for message expiry) and falls back to 3.1.1 when the broker refuses
   * it — the embedded aedes 1.x speaks only 3.1.1. Resolves on the first CONNACK.
   */
  static async connect(opts: MqttTransportOptions, timeoutMs = 15_000): Promise<MqttTransport> {
    try {
      return await MqttTransport.attempt(opts, 5, timeoutMs);
    } catch (err) {
      if (!refusedVersion(err)) throw err;
      opts.logger.info('broker refused MQTT 5; using MQTT 3.1.1 (commands carry no broker-side expiry)');
      return MqttTransport.attempt(opts, 4, timeoutMs);
    }
  }

  private static async attempt(opts: MqttTransportOptions, version: 4 | 5, timeoutMs: number): Promise<MqttTransport> {
    const t = new MqttTransport(opts, version);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no MQTT connection to ${opts.url} within ${timeoutMs} ms`)), timeoutMs);
        t.client.once('connect', () => {
          clearTimeout(timer);
          resolve();
        });
        t.client.once('error', (err) => {
          if (!refusedVersion(err)) return;
          clearTimeout(timer);
          reject(err);
        });
      });
    } catch (err) {
      t.closed = true;
      await t.client.endAsync(true);
      throw err;
    }
    return t;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  async publish(topic: string, payload: Uint8Array | string, opts: PublishOptions): Promise<void> {
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), {
      qos: opts.qos,
      retain: opts.retain ?? false,
      ...(opts.expirySeconds !== undefined && this.protocolVersion === 5 ? { properties: { messageExpiryInterval: opts.expirySeconds } } : {}),
    });
  }

  async subscribe(patterns: string[], qos: 0 | 1): Promise<void> {
    for (const p of patterns) this.subscriptions.set(p, qos);
    if (this.client.connected) await this.client.subscribeAsync(patterns, { qos });
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  onConnect(handler: () => void): void {
    this.connectHandlers.push(handler);
  }

  async close(opts: { beforeDisconnect?: () => Promise<void> } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (opts.beforeDisconnect && this.client.connected) await settleWithin(opts.beforeDisconnect(), CLOSE_ANNOUNCE_MS);
    // With no broker, a polite disconnect would wait for queued packets forever.
    await this.client.endAsync(!this.client.connected);
  }

  private async renewSubscriptions(): Promise<void> {
    const byQos = new Map<0 | 1, string[]>();
    for (const [p, q] of this.subscriptions) byQos.set(q, [...(byQos.get(q) ?? []), p]);
    for (const [qos, patterns] of byQos) await this.client.subscribeAsync(patterns, { qos });
  }
}

/** How long a closing core waits to announce itself offline before it just disconnects. */
const CLOSE_ANNOUNCE_MS = 2000;

function refusedVersion(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 1 || code === 132 || /protocol version/i.test(String((err as Error).message));
}
