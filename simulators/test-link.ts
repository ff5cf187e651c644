/**
 * A synchronous in-process DeviceLink for unit tests on a virtual clock: records what a device
 * publishes and lets the test deliver messages as the core would. (The discrete-event
 * transport with latency is a separate, later piece.)
 */
import type { DeviceLink, PublishOptions } from '../devices/index.js';

export class LoopbackLink implements DeviceLink {
  readonly published: { topic: string; payload: Buffer; opts: PublishOptions }[] = [];
  readonly subscriptions = new Set<string>();
  private readonly handlers: ((topic: string, payload: Buffer) => void)[] = [];
  readonly connected = true;

  publish(topic: string, payload: Uint8Array | string, opts: PublishOptions): Promise<void> {
    this.published.push({ topic, payload: Buffer.from(payload), opts });
    return Promise.resolve();
  }

  subscribe(topics: string[]): Promise<void> {
    for (const t of topics) this.subscriptions.add(t);
    return Promise.resolve();
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): void {
    this.handlers.push(handler);
  }

  onConnect(): void {
    // A loopback never reconnects.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  deliver(topic: string, payload: Uint8Array | string): void {
    for (const h of this.handlers) h(topic, Buffer.from(payload));
  }

  /** Payloads published on topics ending with `/${name}`, oldest first. */
  on(name: string): Buffer[] {
    return this.published.filter((p) => p.topic.endsWith(`/${name}`)).map((p) => p.payload);
  }
}
