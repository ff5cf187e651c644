/**
 * The conformance suite's stand-in for the core: a plain MQTT client that records everything a
 * device publishes and can wait for a message that satisfies a predicate. It is deliberately
 * not the core: conformance is judged on the wire.
 */
import type { Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface Recorded {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** Milliseconds (wall clock) when the probe received it. */
  at: number;
}

export interface ProbeOptions {
  url: string;
  username?: string;
  password?: string;
  /** Topic filters to record; the device's topics. */
  topics: string[];
}

export class Probe {
  readonly messages: Recorded[] = [];
  private readonly waiters: { match: (m: Recorded) => boolean; resolve: (m: Recorded) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m: Recorded = { topic, payload, retain: packet.retain, at: Date.now() };
      this.messages.push(m);
      for (const w of [...this.waiters]) {
        if (!w.match(m)) continue;
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    });
  }

  static async connect(opts: ProbeOptions): Promise<Probe> {
    const o: IClientOptions = { protocolVersion: 4, clientId: `pw-conformance-${Math.random().toString(36).slice(2, 10)}`, reconnectPeriod: 0, clean: true };
    if (opts.username !== undefined) o.username = opts.username;
    if (opts.password !== undefined) o.password = opts.password;
    const client = await mqtt.connectAsync(opts.url, o);
    (client.stream as Partial<Socket>).setNoDelay?.(true);
    const probe = new Probe(client);
    if (opts.topics.length > 0) await client.subscribeAsync(opts.topics, { qos: 1 });
    return probe;
  }

  /** Messages on `topic` recorded so far, oldest first. */
  on(topic: string): Recorded[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /**
   * The first message (already recorded after `since`, or still to come) on `topic` that
   * satisfies `predicate`; rejects with `what` after `timeoutMs`.
   */
  waitFor(topic: string, what: string, predicate: (payload: Buffer, m: Recorded) => boolean, timeoutMs: number, since = 0): Promise<Recorded> {
    const match = (m: Recorded): boolean => {
      if (m.topic !== topic || m.at < since) return false;
      try {
        return predicate(m.payload, m);
      } catch {
        return false;
      }
    };
    const seen = this.messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<Recorded>((resolve, reject) => {
      const w = {
        match,
        resolve: (m: Recorded): void => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on ${topic}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  async publish(topic: string, payload: Uint8Array | string, qos: 0 | 1 = 1): Promise<void> {
    await this.client.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), { qos });
  }

  /** Clears a retained message (publishing an empty retained payload). */
  async clearRetained(topic: string): Promise<void> {
    await this.client.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Fresh subscription: what the broker holds retained on `topic` right now (undefined after `waitMs`). */
export async function retainedOn(opts: Omit<ProbeOptions, 'topics'>, topic: string, waitMs = 1000): Promise<Buffer | undefined> {
  const probe = await Probe.connect({ ...opts, topics: [topic] });
  try {
    const m = await probe.waitFor(topic, 'a retained message', (p, r) => r.retain && p.length > 0, waitMs).catch(() => undefined);
    return m?.payload;
  } finally {
    await probe.close();
  }
}
