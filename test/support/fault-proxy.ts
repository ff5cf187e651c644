/**
 * A fault-injecting MQTT client between the devices and the core: it listens to what devices
 * send and publishes copies of it again on the same topics, as a flaky network, a broker
 * redelivering QoS 1 messages, or a device replaying its buffer after a reconnect would:
 * duplicates right away, copies delayed past newer messages (reordered), and old messages
 * replayed seconds later (stale). Seeded, so a failing run can be replayed.
 */
import { createHash } from 'node:crypto';
import mqtt from 'mqtt';
import { prng } from './orders.js';

export interface FaultProxyOptions {
  mqttUrl: string;
  /** Subscriptions covering the device -> core topics to disturb. */
  topics: string[];
  seed: number;
  /** Share of messages copied again at once. */
  duplicateRate?: number;
  /** Share of messages copied again after `maxDelayMs` at most (so newer ones overtake them). */
  delayRate?: number;
  maxDelayMs?: number;
  /** Every this many ms, one message at least `staleAgeMs` old is replayed. */
  staleEveryMs?: number;
  staleAgeMs?: number;
  /** Extra connect options (e.g. credentials). */
  connect?: mqtt.IClientOptions;
}

export interface FaultStats {
  seen: number;
  duplicated: number;
  delayed: number;
  stale: number;
}

export interface FaultProxy {
  readonly stats: FaultStats;
  stop(): Promise<void>;
}

interface Seen {
  topic: string;
  payload: Buffer;
  at: number;
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const random = prng(opts.seed);
  const stats: FaultStats = { seen: 0, duplicated: 0, delayed: 0, stale: 0 };
  const client = await mqtt.connectAsync(opts.mqttUrl, { clientId: `fault-proxy-${opts.seed}`, protocolVersion: 4, ...opts.connect });
  // Our own copies come back through the subscription: recognised by content and not copied again.
  const ours = new Map<string, number>();
  const history: Seen[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const keyOf = (topic: string, payload: Buffer): string => `${topic}\u0000${createHash('sha1').update(payload).digest('base64')}`;
  const republish = (m: Seen): void => {
    if (stopped) return;
    const key = keyOf(m.topic, m.payload);
    ours.set(key, (ours.get(key) ?? 0) + 1);
    client.publish(m.topic, m.payload, { qos: 1 }, () => undefined);
  };
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  client.on('message', (topic, payload) => {
    const key = keyOf(topic, payload);
    const mine = ours.get(key) ?? 0;
    if (mine > 0) {
      if (mine === 1) ours.delete(key);
      else ours.set(key, mine - 1);
      return;
    }
    const m: Seen = { topic, payload: Buffer.from(payload), at: Date.now() };
    stats.seen++;
    history.push(m);
    if (history.length > 2000) history.splice(0, history.length - 2000);
    if (random() < (opts.duplicateRate ?? 0.5)) {
      stats.duplicated++;
      republish(m);
    }
    if (random() < (opts.delayRate ?? 0.3)) {
      stats.delayed++;
      later(Math.floor(random() * (opts.maxDelayMs ?? 1500)), () => republish(m));
    }
  });
  await client.subscribeAsync(opts.topics, { qos: 1 });

  const staleTick = (): void => {
    if (stopped) return;
    const cutoff = Date.now() - (opts.staleAgeMs ?? 3000);
    const old = history.filter((m) => m.at <= cutoff);
    const pick = old[Math.floor(random() * old.length)];
    if (pick) {
      stats.stale++;
      republish(pick);
    }
    later(opts.staleEveryMs ?? 200, staleTick);
  };
  later(opts.staleEveryMs ?? 200, staleTick);

  return {
    stats,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await client.endAsync();
    },
  };
}
