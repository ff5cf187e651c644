/**
 * A fleet of lightweight VDA 5050 vehicles for the dispatch benchmark, run as its own process so
 * its CPU does not count against the core's. Each vehicle is a `VdaVehicle` (devices/) on its own
 * MQTT connection, parked on its spur of `fleetLayout(count)`: it announces itself, answers
 * state requests and accepts orders (the state echo is the helper's), but never drives — the
 * benchmark measures the core up to the first command, not the floor.
 *
 *   tsx bench/vda-fleet.ts <mqttUrl> <interfaceName> <count>
 * Prints `{"ready":n}` once every vehicle is connected, then reads commands from stdin, one a line:
 *   chatter <hz>     every vehicle publishes its state <hz> times a second (0: back to every 5 s)
 *   flood <ms>       every vehicle publishes states back to back for <ms>; prints {"flooded":n,"ms":t}
 *   stop             closes the links and exits
 */
import { createInterface } from 'node:readline';
import { connectMqttLink, VdaVehicle } from '../devices/index.js';
import { amrFactsheet, DEFAULT_AMR_PHYSICS } from '../simulators/index.js';
import { fleetLayout, FLEET_MODEL } from './fleet-layout.js';

const [url, interfaceName, countArg] = process.argv.slice(2);
if (!url || !interfaceName || !countArg) throw new Error('usage: vda-fleet <mqttUrl> <interfaceName> <count>');
const layout = fleetLayout(Number(countArg));
const nodeById = new Map(layout.graph.nodes.map((n) => [n.id, n]));
const factsheet = amrFactsheet(FLEET_MODEL, DEFAULT_AMR_PHYSICS);

const vehicles: VdaVehicle[] = [];

/** Periodic state of every connected vehicle, as VDA 5050 asks (the core judges liveness by it). */
let chatter: NodeJS.Timeout | undefined;
function setChatter(hz: number): void {
  clearInterval(chatter);
  chatter = undefined;
  if (hz <= 0) return;
  // Spread over the period so the core sees a steady stream, not one burst per period.
  const tickMs = 10;
  let next = 0;
  let owed = 0;
  chatter = setInterval(() => {
    owed += (vehicles.length * hz * tickMs) / 1000;
    for (; owed >= 1 && vehicles.length > 0; owed--) {
      const v = vehicles[next++ % vehicles.length]!;
      void v.publishState().catch(() => undefined);
    }
  }, tickMs);
}
// The factsheet's defaultStateInterval (5 s), from the first connect on.
const IDLE_HZ = 0.2;
setChatter(IDLE_HZ);
// Connect in small groups: 500 simultaneous CONNECTs would only measure the listen backlog.
const GROUP = 50;
const connectStarted = performance.now();
for (let i = 0; i < layout.devices.amrs.length; i += GROUP) {
  const group = layout.devices.amrs.slice(i, i + GROUP);
  vehicles.push(
    ...(await Promise.all(
      group.map(async (a) => {
        const start = nodeById.get(a.startNode)!;
        const opts = {
          interfaceName,
          manufacturer: a.manufacturer,
          serialNumber: a.serialNumber,
          factsheet,
          initial: { lastNodeId: a.startNode, agvPosition: { x: start.x, y: start.y, theta: 0, mapId: layout.site.mapId, positionInitialized: true }, batteryCharge: 90 },
        };
        const link = await connectMqttLink({ url, clientId: `bench-${a.serialNumber}`, will: VdaVehicle.lastWill(opts), protocolVersion: 4 });
        return VdaVehicle.connect({ ...opts, link });
      }),
    )),
  );
}
console.log(JSON.stringify({ ready: vehicles.length, connectMs: Math.round(performance.now() - connectStarted) }));


async function flood(ms: number): Promise<{ flooded: number; ms: number }> {
  const started = performance.now();
  let sent = 0;
  // One state per vehicle per round, awaited as a round (QoS 1): the broker's acks pace us.
  while (performance.now() - started < ms) {
    await Promise.all(vehicles.map((v) => v.publishState().catch(() => undefined)));
    sent += vehicles.length;
  }
  return { flooded: sent, ms: performance.now() - started };
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd === 'chatter') setChatter(Number(arg) > 0 ? Number(arg) : IDLE_HZ);
  else if (cmd === 'flood') {
    setChatter(0);
    console.log(JSON.stringify(await flood(Number(arg))));
    setChatter(IDLE_HZ);
  }
  else if (cmd === 'stop') break;
}
setChatter(0);
await Promise.all(vehicles.map((v) => v.close(false).catch(() => undefined)));
process.exit(0);
