/**
 * Starts every device of a site layout as its own MQTT client, the way real devices join a
 * broker: separate connections, own last wills, own credentials. The same device classes run
 * over the in-memory bus of a fast run when given a link factory instead of a broker URL.
 */
import type { SiteLayout } from '../src/index.js';
import { VdaVehicle } from '../devices/index.js';
import { SimulatedAmr, type SimulatedAmrOptions } from './amr.js';
import { SimulatedArm } from './arm.js';
import { SimulatedAsrs } from './asrs.js';
import { realClock, type SimClock } from './clock.js';
import { SimulatedConveyor } from './conveyor.js';
import { NodeOccupancy } from './node-occupancy.js';
import { DEFAULT_PORT_CAPACITY, PortBuffers } from './port-buffers.js';
import { createRng } from './random.js';
import type { LinkFactory, WcsSimOptions } from './wcs-connect.js';

export interface SimLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

export type SimDeviceClass = 'amr' | 'asrs' | 'conveyor' | 'arm';

/** Per-device MQTT credentials (DESIGN.md §7); undefined connects without. */
export type SimCredentials = (device: { deviceClass: SimDeviceClass; id: string }) => { username: string; password: string } | undefined;

export interface SimulatedSiteOptions {
  layout: SiteLayout;
  /** The broker devices dial; or `linkFactory` (wins) for the in-memory bus of a fast run. */
  mqttUrl?: string;
  linkFactory?: LinkFactory;
  /** VDA 5050 interface name, e.g. `uagv`. */
  interfaceName: string;
  /** Wall-clock override (e.g. scaled time) for timestamps; timers stay real. */
  now?: () => number;
  /** A complete clock (timestamps and timers); wins over `now`. */
  clock?: SimClock;
  logger?: SimLogger;
  credentials?: SimCredentials;
  /** Battery at start per AMR, percent; 100 by default. */
  initialBattery?: number;
  /** The shared node occupancy map (e.g. one that times waits); a fresh one by default. */
  occupancy?: NodeOccupancy;
  /**
   * Seeds the stations' random behaviour (arm pick-time spread, grasp failures, mispicks), one
   * stream per arm. Without it arms pick in their nominal time and never fail on their own.
   */
  seed?: number;
  /** Bins each AS/RS port holds per direction before a crane or the conveyor waits for room. */
  portCapacity?: number;
  /** AMR timing (motion tick, state and visualization periods): coarser for fast, large runs. */
  amrTiming?: Pick<SimulatedAmrOptions, 'stateIntervalMs' | 'visualizationIntervalMs'>;
}

export interface SimulatedDevices {
  amrs: SimulatedAmr[];
  asrs: SimulatedAsrs[];
  conveyors: SimulatedConveyor[];
  arms: SimulatedArm[];
}

export interface SimulatedSite {
  devices: SimulatedDevices;
  /** Where the site's AMRs stand: one robot per node, shared by all of them. */
  readonly occupancy: NodeOccupancy;
  /** How often an AMR was commanded into a node another AMR occupied (it waited instead). */
  readonly nodeConflicts: number;
  /** The AS/RS port queues shared by cranes and conveyors (their utilization per port). */
  readonly ports: PortBuffers;
  /** Gracefully disconnects every device (each announces OFFLINE). */
  stop(): Promise<void>;
}

export async function startSimulatedSite(opts: SimulatedSiteOptions): Promise<SimulatedSite> {
  const clock = opts.clock ?? realClock(opts.now);
  const { layout } = opts;
  const devices: SimulatedDevices = { amrs: [], asrs: [], conveyors: [], arms: [] };
  const occupancy = opts.occupancy ?? new NodeOccupancy();
  const ports = new PortBuffers(opts.portCapacity ?? DEFAULT_PORT_CAPACITY, clock);
  const stations = opts.seed === undefined ? undefined : createRng(opts.seed).fork('stations');
  const wcs = (deviceClass: SimDeviceClass, id: string): WcsSimOptions => {
    const o: WcsSimOptions = { site: layout.site.id, clock };
    if (opts.linkFactory !== undefined) o.linkFactory = opts.linkFactory;
    else if (opts.mqttUrl !== undefined) o.url = opts.mqttUrl;
    const c = opts.credentials?.({ deviceClass, id });
    if (c !== undefined) Object.assign(o, c);
    return o;
  };
  const stopAll = async (): Promise<void> => {
    const all = [...devices.amrs, ...devices.asrs, ...devices.conveyors, ...devices.arms];
    await Promise.allSettled(all.map((d) => d.stop()));
  };

  try {
    await Promise.all([
      ...layout.devices.amrs.map(async (spec) => {
        const amrOpts: SimulatedAmrOptions = { layout, spec, interfaceName: opts.interfaceName, clock, occupancy, ...opts.amrTiming };
        if (opts.linkFactory !== undefined) {
          const who = { interfaceName: opts.interfaceName, manufacturer: spec.manufacturer, serialNumber: spec.serialNumber, now: () => clock.now() };
          amrOpts.link = await opts.linkFactory(`${who.interfaceName}-${who.manufacturer}-${who.serialNumber}`, VdaVehicle.lastWill(who));
        } else if (opts.mqttUrl !== undefined) amrOpts.url = opts.mqttUrl;
        if (opts.initialBattery !== undefined) amrOpts.initialBattery = opts.initialBattery;
        const c = opts.credentials?.({ deviceClass: 'amr', id: spec.serialNumber });
        if (c !== undefined) Object.assign(amrOpts, c);
        devices.amrs.push(await SimulatedAmr.start(amrOpts));
      }),
      ...layout.devices.asrs.map(async (spec) => devices.asrs.push(await SimulatedAsrs.start(spec, layout, wcs('asrs', spec.id), { ports }))),
      ...layout.devices.conveyors.map(async (spec) => devices.conveyors.push(await SimulatedConveyor.start(spec, wcs('conveyor', spec.id), { ports }))),
      ...layout.devices.arms.map(async (spec) => {
        const behaviour = stations === undefined ? {} : { rng: stations.fork(`arm:${spec.id}`) };
        devices.arms.push(await SimulatedArm.start(spec, wcs('arm', spec.id), behaviour));
      }),
    ]);
  } catch (err) {
    await stopAll();
    throw err;
  }
  opts.logger?.info(
    { site: layout.site.id, amrs: devices.amrs.length, asrs: devices.asrs.length, conveyors: devices.conveyors.length, arms: devices.arms.length },
    'simulated site started',
  );
  return {
    devices,
    occupancy,
    ports,
    get nodeConflicts() {
      return occupancy.conflicts;
    },
    stop: async () => {
      await stopAll();
      opts.logger?.info({ site: layout.site.id }, 'simulated site stopped');
    },
  };
}
