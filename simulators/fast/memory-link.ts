/**
 * A device's DeviceLink over the in-memory bus: what `connectMqttLink` is in live runs. Each
 * device gets its own bus connection with its own last will, so an abrupt close leaves
 * CONNECTIONBROKEN behind exactly as a dropped socket would.
 */
import type { DeviceLink, LastWill, PublishOptions } from '../../devices/index.js';
import type { MemoryBus } from '../../src/index.js';

export function connectMemoryLink(bus: MemoryBus, clientId: string, will: LastWill): DeviceLink {
  const client = bus.connect(clientId, will);
  return {
    get connected() {
      return client.connected;
    },
    publish: (topic: string, payload: Uint8Array | string, opts: PublishOptions) => client.publish(topic, payload, opts),
    subscribe: (topics: string[]) => client.subscribe(topics),
    onMessage: (handler) => client.onMessage(handler),
    // A bus connection never drops on its own, so there is no reconnect to report.
    onConnect: () => undefined,
    close: (abrupt = false) => {
      client.end(abrupt);
      return Promise.resolve();
    },
  };
}

/** The link factory site-sim takes: one memory link per device. */
export function memoryLinkFactory(bus: MemoryBus): (clientId: string, will: LastWill) => Promise<DeviceLink> {
  return (clientId, will) => Promise.resolve(connectMemoryLink(bus, clientId, will));
}
