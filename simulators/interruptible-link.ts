/**
 * A DeviceLink a simulated device can lose on purpose: the `disconnect` fault. While down, the
 * device hears nothing and what it sends at QoS 1 waits for the reconnect (as mqtt.js queues
 * it); QoS 0 is lost. Going down publishes the device's last will through the underlying link
 * exactly as a broker does when a socket dies, so the core sees CONNECTIONBROKEN; coming back
 * runs the device's reconnect handlers, which announce it ONLINE again and resend its state.
 *
 * It wraps any link (MQTT or in-memory), so the fault behaves the same in live and fast runs.
 */
import type { DeviceLink, LastWill, PublishOptions } from '../devices/index.js';

/** Publishes held while down, at most; older ones are dropped (a real client's queue is bounded too). */
const HELD_MAX = 200;

interface Held {
  topic: string;
  payload: Uint8Array | string;
  opts: PublishOptions;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class InterruptibleLink implements DeviceLink {
  private down = false;
  private held: Held[] = [];
  private readonly connectHandlers: (() => void)[] = [];
  /** Times the link went down. */
  interruptions = 0;

  constructor(
    private readonly inner: DeviceLink,
    private readonly will: LastWill,
  ) {
    inner.onConnect(() => {
      if (!this.down) for (const h of this.connectHandlers) h();
    });
  }

  get connected(): boolean {
    return !this.down && this.inner.connected;
  }

  get isDown(): boolean {
    return this.down;
  }

  publish(topic: string, payload: Uint8Array | string, opts: PublishOptions): Promise<void> {
    if (!this.down) return this.inner.publish(topic, payload, opts);
    if (opts.qos === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.held.push({ topic, payload, opts, resolve, reject });
      if (this.held.length > HELD_MAX) this.held.shift()?.reject(new Error('dropped while disconnected'));
    });
  }

  subscribe(topics: string[], qos: 0 | 1): Promise<void> {
    return this.inner.subscribe(topics, qos);
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): void {
    this.inner.onMessage((topic, payload) => {
      if (!this.down) handler(topic, payload);
    });
  }

  onConnect(handler: () => void): void {
    this.connectHandlers.push(handler);
  }

  close(abrupt?: boolean): Promise<void> {
    for (const h of this.held.splice(0)) h.reject(new Error('link closed'));
    return this.inner.close(abrupt);
  }

  /** Drops the connection: the last will goes out, nothing is heard until `restore()`. */
  interrupt(): void {
    if (this.down) return;
    this.down = true;
    this.interruptions++;
    this.inner.publish(this.will.topic, this.will.payload, { qos: this.will.qos, retain: this.will.retain }).catch(() => undefined);
  }

  /** Reconnects: held publishes go out in order, then the device re-announces itself. */
  restore(): void {
    if (!this.down) return;
    this.down = false;
    for (const h of this.held.splice(0)) this.inner.publish(h.topic, h.payload, h.opts).then(h.resolve, h.reject);
    for (const h of this.connectHandlers) h();
  }
}
