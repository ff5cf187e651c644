/**
 * The one transport seam of the device SDK. `WcsDevice` and `VdaVehicle` depend only on this
 * interface, so the same classes run over MQTT in live mode and over an in-memory link in
 * discrete-event simulations.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Socket } from 'node:net';

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
  /** MQTT 5 message expiry: stale commands and states die in the broker instead of arriving late. */
  expirySeconds?: number;
}

export interface DeviceLink {
  /** False while the broker is unreachable; QoS 1 publishes then wait for the reconnect. */
  readonly connected: boolean;
  publish(topic: string, payload: Uint8Array | string, opts: PublishOptions): Promise<void>;
  subscribe(topics: string[], qos: 0 | 1): Promise<void>;
  onMessage(handler: (topic: string, payload: Buffer) => void): void;
  /** Called after every (re)connect, once subscriptions are restored. */
  onConnect(handler: () => void): void;
  /**
   * `abrupt` drops the connection without an MQTT DISCONNECT, as a crash or a lost network
   * would: the broker then publishes the last will. Otherwise a polite disconnect.
   */
  close(abrupt?: boolean): Promise<void>;
}

export interface LastWill {
  topic: string;
  payload: Uint8Array | string;
  qos: 0 | 1;
  retain: boolean;
}

export interface MqttLinkOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  will: LastWill;
  /** Milliseconds between reconnect attempts; 1 s by default. */
  reconnectPeriod?: number;
  /**
   * MQTT protocol version. 'auto' (default) tries 5 and falls back to 3.1.1 when the broker
   * refuses it: aedes 1.x, the embedded broker, speaks only 3.1.1.
   */
  protocolVersion?: 'auto' | 4 | 5;
}

/** A link that can also tell which MQTT version it negotiated. */
export interface MqttDeviceLink extends DeviceLink {
  /** 5, or 4 (3.1.1) when the broker refused MQTT 5; message expiry needs 5. */
  readonly protocolVersion: 4 | 5;
}

/**
 * Connects with a clean session. Subscriptions are remembered here and renewed on every
 * connect, because a clean session forgets them broker-side.
 */
export async function connectMqttLink(opts: MqttLinkOptions): Promise<MqttDeviceLink> {
  const wanted = opts.protocolVersion ?? 'auto';
  if (wanted !== 'auto') return connectWith(opts, wanted);
  try {
    return await connectWith(opts, 5);
  } catch (err) {
    if (!refusedVersion(err)) throw err;
    return connectWith(opts, 4);
  }
}

function refusedVersion(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  // 1: MQTT 3.1.1 "unacceptable protocol version"; 132: the MQTT 5 reason code for the same.
  return code === 1 || code === 132 || /protocol version/i.test(String((err as Error).message));
}

async function connectWith(opts: MqttLinkOptions, protocolVersion: 4 | 5): Promise<MqttDeviceLink> {
  const clientOpts: IClientOptions = {
    clientId: opts.clientId,
    protocolVersion,
    clean: true,
    // We resubscribe ourselves on every connect (below), so mqtt.js must not do it twice.
    resubscribe: false,
    reconnectPeriod: opts.reconnectPeriod ?? 1000,
    connectTimeout: 10_000,
    will: {
      topic: opts.will.topic,
      payload: toBuffer(opts.will.payload),
      qos: opts.will.qos,
      retain: opts.will.retain,
    },
  };
  if (opts.username !== undefined) clientOpts.username = opts.username;
  if (opts.password !== undefined) clientOpts.password = opts.password;

  const client = mqtt.connect(opts.url, clientOpts);
  const subscriptions = new Map<string, 0 | 1>();
  const connectHandlers: (() => void)[] = [];

  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void => {
      client.off('connect', ok);
      client.end(true);
      reject(err);
    };
    const ok = (): void => {
      client.off('error', fail);
      resolve();
    };
    client.once('error', fail);
    client.once('connect', ok);
  });
  setNoDelay(client);

  // Reconnects after the first connect: a new socket, so TCP_NODELAY again, then restore
  // subscriptions and tell the device so it can announce itself ONLINE again.
  client.on('connect', () => {
    setNoDelay(client);
    const resubscribe = subscriptions.size > 0 ? client.subscribeAsync(Object.fromEntries([...subscriptions].map(([topic, qos]) => [topic, { qos }]))) : Promise.resolve();
    resubscribe
      .then(() => {
        for (const h of connectHandlers) h();
      })
      .catch(() => {
        // The connection dropped again while resubscribing; the next connect retries.
      });
  });
  // Errors after connecting (e.g. a refused reconnect) are retried by mqtt.js; without a
  // listener an EventEmitter 'error' would crash the process.
  client.on('error', () => undefined);

  return {
    protocolVersion,
    async publish(topic, payload, pubOpts) {
      const o: mqtt.IClientPublishOptions = { qos: pubOpts.qos, retain: pubOpts.retain ?? false };
      if (pubOpts.expirySeconds !== undefined && protocolVersion === 5) o.properties = { messageExpiryInterval: pubOpts.expirySeconds };
      await client.publishAsync(topic, toBuffer(payload), o);
    },
    async subscribe(topics, qos) {
      for (const t of topics) subscriptions.set(t, qos);
      if (topics.length === 0) return;
      await client.subscribeAsync(topics, { qos });
    },
    onMessage(handler) {
      client.on('message', (topic, payload) => handler(topic, payload));
    },
    onConnect(handler) {
      connectHandlers.push(handler);
    },
    get connected() {
      return client.connected;
    },
    async close(abrupt = false) {
      if (abrupt) (client.stream as Partial<Socket>).destroy?.();
      // With no broker, a polite disconnect would wait for queued packets forever.
      await client.endAsync(abrupt || !client.connected);
    },
  };
}

/**
 * Nagle plus delayed ACK turns a loopback QoS 1 round trip from ~0.2 ms into ~88 ms, and the
 * socket is new after every reconnect, so this runs on each connect.
 */
function setNoDelay(client: MqttClient): void {
  (client.stream as Partial<Socket>).setNoDelay?.(true);
}

function toBuffer(payload: Uint8Array | string): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** How long a closing device waits to announce OFFLINE before it just disconnects. */
export const CLOSE_ANNOUNCE_MS = 2000;

/** Waits for `work` at most `ms`; a late or failed result is ignored (used on the way out). */
export async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** What a device needs to get a link: one passed in (tests, simulation) or a broker to dial. */
export interface LinkSource {
  link?: DeviceLink;
  url?: string;
  username?: string;
  password?: string;
}

/** The given link, or a new MQTT connection with this client id and last will. */
export async function linkFrom(source: LinkSource, clientId: string, will: LastWill): Promise<DeviceLink> {
  if (source.link !== undefined) return source.link;
  if (source.url === undefined) throw new TypeError(`device ${clientId} needs a link or a broker url`);
  const opts: MqttLinkOptions = { url: source.url, clientId, will };
  if (source.username !== undefined) opts.username = source.username;
  if (source.password !== undefined) opts.password = source.password;
  return connectMqttLink(opts);
}
