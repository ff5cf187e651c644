/**
 * An in-process MQTT broker for discrete-event runs (DESIGN §5). Clients publish encoded
 * payloads exactly as they would over a socket; the bus delivers a copy of the bytes to every
 * matching subscription as an event on the clock, `latencyMs` later, so a fast run exercises the
 * same codecs and the same asynchrony as a live one.
 *
 * MQTT behaviour kept because the core and devices depend on it: `+`/`#` filters, retained
 * messages (an empty retained payload clears the topic; new subscriptions get matching retained
 * messages), last wills published when a client drops without a DISCONNECT, clean sessions (a
 * disconnected client misses what is published meanwhile, QoS 0 or 1 alike) and MQTT 5 message
 * expiry for retained messages. In-process delivery cannot be lost, so QoS 1 needs no
 * acknowledgement round trip: a publish resolves once the bus has taken the message.
 */
import type { Clock } from '../../ports.js';
import { topicMatches, validFilter } from './topic-match.js';

export interface BusMessageOptions {
  qos: 0 | 1;
  retain?: boolean;
  expirySeconds?: number;
}

export interface BusWill extends BusMessageOptions {
  topic: string;
  payload: Uint8Array | string;
}

export interface MemoryBusOptions {
  clock: Clock;
  /** One-way delivery delay in milliseconds; 1 by default. */
  latencyMs?: number;
}

export type BusHandler = (topic: string, payload: Buffer) => void;

interface Retained {
  payload: Buffer;
  expiresAt: number | undefined;
}

export interface BusStats {
  published: number;
  delivered: number;
  /** Deliveries skipped because the subscriber had disconnected by the time they fell due. */
  dropped: number;
  /** Message handlers that threw; the message is lost for that handler, as with a socket client. */
  handlerErrors: number;
}

export class MemoryBus {
  readonly latencyMs: number;
  private readonly clock: Clock;
  private readonly clients = new Map<string, BusClient>();
  private readonly retained = new Map<string, Retained>();
  /** Subscribers per topic, rebuilt when a subscription or connection changes. */
  private routes = new Map<string, BusClient[]>();
  readonly stats: BusStats = { published: 0, delivered: 0, dropped: 0, handlerErrors: 0 };
  /** Told about every handler that threw (the runner logs them); silent by default. */
  onHandlerError: ((err: unknown, clientId: string, topic: string) => void) | undefined;

  constructor(opts: MemoryBusOptions) {
    this.clock = opts.clock;
    this.latencyMs = opts.latencyMs ?? 1;
  }

  /** Connects a client; a client id already connected is taken over (its session ends, no will). */
  connect(clientId: string, will?: BusWill): BusClient {
    this.clients.get(clientId)?.end(false);
    const client = new BusClient(this, clientId, will);
    this.clients.set(clientId, client);
    this.routes.clear();
    return client;
  }

  /** Retained payload of a topic (tests, debugging). */
  retainedOf(topic: string): Buffer | undefined {
    return this.retained.get(topic)?.payload;
  }

  /** @internal */
  publishFrom(topic: string, payload: Uint8Array | string, opts: BusMessageOptions): void {
    if (topic.length === 0 || topic.includes('+') || topic.includes('#')) throw new TypeError(`invalid MQTT topic name "${topic}"`);
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
    this.stats.published++;
    const now = this.clock.now();
    if (opts.retain === true) {
      if (bytes.length === 0) this.retained.delete(topic);
      else this.retained.set(topic, { payload: bytes, expiresAt: opts.expirySeconds !== undefined ? now + opts.expirySeconds * 1000 : undefined });
    }
    const targets = this.subscribersOf(topic);
    if (targets.length === 0) return;
    const expiresAt = opts.expirySeconds !== undefined ? now + opts.expirySeconds * 1000 : Infinity;
    // A message nobody else holds (not retained, one subscriber) is handed over without a copy.
    const owned = opts.retain !== true && targets.length === 1;
    this.clock.setTimer(this.latencyMs, () => {
      if (this.clock.now() > expiresAt) return;
      for (const c of targets) this.deliver(c, topic, bytes, owned);
    });
  }

  /** @internal */
  subscribed(client: BusClient, filters: string[]): void {
    this.routes.clear();
    const now = this.clock.now();
    const matches: [string, Buffer][] = [];
    for (const [topic, r] of this.retained) {
      if (r.expiresAt !== undefined && r.expiresAt < now) {
        this.retained.delete(topic);
        continue;
      }
      if (filters.some((f) => topicMatches(f, topic))) matches.push([topic, r.payload]);
    }
    if (matches.length === 0) return;
    this.clock.setTimer(this.latencyMs, () => {
      for (const [topic, payload] of matches) this.deliver(client, topic, payload);
    });
  }

  /** @internal */
  disconnected(client: BusClient, will: BusWill | undefined): void {
    if (this.clients.get(client.clientId) === client) this.clients.delete(client.clientId);
    this.routes.clear();
    if (will !== undefined) this.publishFrom(will.topic, will.payload, will);
  }

  private deliver(client: BusClient, topic: string, payload: Buffer, owned = false): void {
    if (!client.connected) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    // Each subscriber gets its own copy, as it would from a socket: no one can mutate another's.
    const handlers = client.handlerList;
    const single = owned && handlers.length === 1;
    for (const h of handlers) {
      try {
        h(topic, single ? payload : Buffer.from(payload));
      } catch (err) {
        this.stats.handlerErrors++;
        this.onHandlerError?.(err, client.clientId, topic);
      }
    }
  }

  private subscribersOf(topic: string): BusClient[] {
    let list = this.routes.get(topic);
    if (list === undefined) {
      list = [...this.clients.values()].filter((c) => c.matches(topic));
      this.routes.set(topic, list);
    }
    return list;
  }
}

/** One connection to the bus: what a socket plus an MQTT client library would be. */
export class BusClient {
  private readonly filters = new Set<string>();
  private readonly handlers: BusHandler[] = [];
  private open = true;

  constructor(
    private readonly bus: MemoryBus,
    readonly clientId: string,
    private readonly will: BusWill | undefined,
  ) {}

  get connected(): boolean {
    return this.open;
  }

  publish(topic: string, payload: Uint8Array | string, opts: BusMessageOptions): Promise<void> {
    if (!this.open) return Promise.reject(new Error(`client ${this.clientId} is disconnected`));
    try {
      this.bus.publishFrom(topic, payload, opts);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return Promise.resolve();
  }

  subscribe(filters: string[]): Promise<void> {
    if (!this.open) return Promise.reject(new Error(`client ${this.clientId} is disconnected`));
    const bad = filters.find((f) => !validFilter(f));
    if (bad !== undefined) return Promise.reject(new TypeError(`invalid MQTT topic filter "${bad}"`));
    const added = filters.filter((f) => !this.filters.has(f));
    for (const f of added) this.filters.add(f);
    if (added.length > 0) this.bus.subscribed(this, added);
    return Promise.resolve();
  }

  onMessage(handler: BusHandler): void {
    this.handlers.push(handler);
  }

  /** `abrupt`: the connection drops without a DISCONNECT, so the bus publishes the last will. */
  end(abrupt: boolean): void {
    if (!this.open) return;
    this.open = false;
    this.bus.disconnected(this, abrupt ? this.will : undefined);
  }

  /** @internal */
  matches(topic: string): boolean {
    if (!this.open) return false;
    for (const f of this.filters) if (topicMatches(f, topic)) return true;
    return false;
  }

  /** @internal */
  get handlerList(): readonly BusHandler[] {
    return this.handlers;
  }
}
