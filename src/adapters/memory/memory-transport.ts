/**
 * The core's Transport over the in-memory bus, for discrete-event runs: the same publish,
 * subscribe and presence calls as over MQTT, with no socket and no broker process.
 */
import type { MessageHandler, PublishOptions, Transport } from '../../ports.js';
import type { BusClient, BusWill, MemoryBus } from './memory-bus.js';

export interface MemoryTransportOptions {
  bus: MemoryBus;
  clientId: string;
  will?: BusWill;
}

export class MemoryTransport implements Transport {
  private readonly client: BusClient;
  private readonly connectHandlers: (() => void)[] = [];

  constructor(opts: MemoryTransportOptions) {
    this.client = opts.bus.connect(opts.clientId, opts.will);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  publish(topic: string, payload: Uint8Array | string, opts: PublishOptions): Promise<void> {
    return this.client.publish(topic, payload, opts);
  }

  subscribe(patterns: string[], _qos: 0 | 1): Promise<void> {
    return this.client.subscribe(patterns);
  }

  onMessage(handler: MessageHandler): void {
    this.client.onMessage(handler);
  }

  /** The bus never drops a connection by itself, so this only matters to code that registers it. */
  onConnect(handler: () => void): void {
    this.connectHandlers.push(handler);
  }

  /** `beforeDisconnect` runs while still connected (e.g. a final presence message), as over MQTT. */
  async close(opts: { beforeDisconnect?: () => Promise<void>; abrupt?: boolean } = {}): Promise<void> {
    if (!this.client.connected) return;
    if (opts.beforeDisconnect !== undefined) await opts.beforeDisconnect().catch(() => undefined);
    this.client.end(opts.abrupt === true);
  }
}
