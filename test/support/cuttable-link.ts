/**
 * A TCP relay between one device and its broker whose cable the test can pull: `cut()` drops
 * every connection at once without an MQTT DISCONNECT (the broker then publishes the device's
 * last will, as after a Wi-Fi dropout), `block()` refuses new connections until `restore()`.
 * The device's own MQTT client reconnects by itself once the link is restored, with its memory
 * intact — unlike a reboot.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface CuttableLink {
  /** The URL the device dials instead of the broker's. */
  readonly url: string;
  /** Connections relayed so far (the first plus every reconnect). */
  readonly connections: number;
  cut(): void;
  block(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableLink(target: { host: string; port: number }): Promise<CuttableLink> {
  const pairs = new Set<[Socket, Socket]>();
  let blocked = false;
  let connections = 0;
  const server = createServer({ noDelay: true }, (device) => {
    if (blocked) {
      device.destroy();
      return;
    }
    connections++;
    const broker = connect({ host: target.host, port: target.port, noDelay: true });
    const pair: [Socket, Socket] = [device, broker];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      device.destroy();
      broker.destroy();
    };
    device.on('error', drop).on('close', drop);
    broker.on('error', drop).on('close', drop);
    device.pipe(broker);
    broker.pipe(device);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const cut = (): void => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    cut,
    block: () => {
      blocked = true;
    },
    restore: () => {
      blocked = false;
    },
    close: async () => {
      blocked = true;
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
