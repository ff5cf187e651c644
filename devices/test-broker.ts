/**
 * A real MQTT broker (aedes) on a free loopback port for device and simulator tests, plus a
 * plain mqtt.js client that plays the core. Not part of the SDK's public surface.
 */
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';

export interface TestBroker {
  url: string;
  server: net.Server;
  /** Destroys a client's socket without a DISCONNECT, as a crash or cable pull would. */
  kill(clientId: string): void;
  close(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  // noDelay: without it every QoS 1 round trip waits for the delayed ACK (DESIGN.md §2.3).
  const server = net.createServer({ noDelay: true }, broker.handle);
  const clients = new Map<string, { destroy(): void }>();
  broker.on('client', (client) => clients.set(client.id, client.conn));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    server,
    kill: (clientId) => clients.get(clientId)?.destroy(),
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A client that records every message per topic and can wait for one matching a predicate.
 * aedes 1.x speaks MQTT 3.1.1 only, hence protocolVersion 4 for this stand-in core.
 */
export interface Recorder {
  client: MqttClient;
  messages: { topic: string; payload: Buffer }[];
  waitFor(topic: string, predicate?: (payload: Buffer) => boolean, timeoutMs?: number): Promise<Buffer>;
  /** Forgets what was recorded so far, so the next waitFor only sees newer messages. */
  clear(): void;
  close(): Promise<void>;
}

export async function connectRecorder(url: string, topics: string[]): Promise<Recorder> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `core-${Math.random().toString(36).slice(2)}`, reconnectPeriod: 0 });
  (client.stream as net.Socket).setNoDelay(true);
  const messages: { topic: string; payload: Buffer }[] = [];
  const waiters: { topic: string; predicate: (p: Buffer) => boolean; resolve: (p: Buffer) => void }[] = [];
  client.on('message', (topic, payload) => {
    messages.push({ topic, payload });
    for (const w of [...waiters]) {
      if (w.topic === topic && w.predicate(payload)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(payload);
      }
    }
  });
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    messages,
    waitFor: (topic, predicate = () => true, timeoutMs = 3000) => {
      // Retained or earlier messages count too, so callers need not race the subscription.
      const seen = messages.find((m) => m.topic === topic && predicate(m.payload));
      if (seen !== undefined) return Promise.resolve(seen.payload);
      return new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${topic}`)), timeoutMs);
        waiters.push({ topic, predicate, resolve: (p) => { clearTimeout(timer); resolve(p); } });
      });
    },
    clear: () => {
      messages.length = 0;
    },
    close: async () => {
      await client.endAsync(true);
    },
  };
}
