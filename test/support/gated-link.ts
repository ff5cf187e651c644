/**
 * A device's MQTT link with a gate on what reaches the device: the test decides, message by
 * message, whether a command is delivered now or held back, and can hand a held one over later —
 * a network that lost a message, or delivered it late, on exactly the message a test is about.
 * Everything that arrives is recorded, delivered or not. Real MQTT underneath (the SDK's link).
 */
import { connectMqttLink, type DeviceLink, type LastWill } from '../../devices/index.js';

export interface Arrival {
  topic: string;
  payload: Buffer;
}

/** What to do with a message that arrived for the device. */
export type GateVerdict = 'deliver' | 'hold';

export interface GatedLinks {
  /** For startSimulatedSite's `linkFactory`. */
  factory: (clientId: string, will: LastWill) => Promise<DeviceLink>;
  /** Every message that arrived for the devices, in order, delivered or held. */
  readonly arrived: Arrival[];
  /** Messages held back so far and not handed over. */
  readonly held: Arrival[];
  /** Hands a held message to the device it came for, now. */
  deliver(message: Arrival): void;
}

type Handler = (topic: string, payload: Buffer) => void;

export function gatedLinks(opts: { url: string; gate: (m: Arrival) => GateVerdict }): GatedLinks {
  const arrived: Arrival[] = [];
  const held: Arrival[] = [];
  // Each held message remembers its device's handlers, so it reaches that device alone.
  const heldFor = new Map<Arrival, Handler[]>();
  return {
    arrived,
    held,
    deliver(message) {
      const i = held.indexOf(message);
      if (i >= 0) held.splice(i, 1);
      for (const h of heldFor.get(message) ?? []) h(message.topic, message.payload);
      heldFor.delete(message);
    },
    async factory(clientId, will) {
      // Reconnects quickly: the tests that gate messages restart the broker under the device.
      const link = await connectMqttLink({ url: opts.url, clientId, will, reconnectPeriod: 200 });
      const handlers: Handler[] = [];
      link.onMessage((topic, payload) => {
        const m = { topic, payload };
        arrived.push(m);
        if (opts.gate(m) === 'deliver') {
          for (const h of handlers) h(topic, payload);
          return;
        }
        held.push(m);
        heldFor.set(m, handlers);
      });
      return {
        get connected() {
          return link.connected;
        },
        publish: (topic, payload, publishOpts) => link.publish(topic, payload, publishOpts),
        subscribe: (topics, qos) => link.subscribe(topics, qos),
        onMessage: (handler) => void handlers.push(handler),
        onConnect: (handler) => link.onConnect(handler),
        close: (abrupt) => link.close(abrupt),
      };
    },
  };
}
