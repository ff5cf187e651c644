/**
 * Starts every device of a site layout as its own MQTT client, the way real devices join a
 * broker: separate connections, own last wills, own credentials.
 */
import type { SiteLayout } from '../src/index.js';
import { SimulatedAmr, type SimulatedAmrOptions } from './amr.js';
import { SimulatedArm } from './arm.js';
import { SimulatedAsrs } from './asrs.js';
import { realClock, type SimClock } from './clock.js';
import { SimulatedConveyor } from './conveyor.js';
import { NodeOccupancy } from './node-occupancy.js';
import type { WcsSimOptions } from './wcs-connect.js';

export interface SimLogger {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
}

export type SimDeviceClass = 'amr' | 'asrs' | 'conveyor' | 'arm';

/** Per-device MQTT credentials (DESIGN.md §7); undefined connects without. */
export type SimCredentials = (device: { deviceClass: SimDeviceClass; id: string }) => { username: string; password: string } | undefined;

export interface SimulatedSiteOptions {
  layout: SiteLayout;
  mqttUrl: string;
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
  /** AMR timing (motion tick, state and visualization periods): coarser for fast, large runs. */
  amrTiming?: Pick<SimulatedAmrOptions, 'tickMs' | 'stateIntervalMs' | 'visualizationIntervalMs'>;
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
  /** Gracefully disconnects every device (each announces OFFLINE). */
  stop(): Promise<void>;
}

export async function startSimulatedSite(opts: SimulatedSiteOptions): Promise<SimulatedSite> {
  const clock = opts.clock ?? realClock(opts.now);
  const { layout } = opts;
  const devices: SimulatedDevices = { amrs: [], asrs: [], conveyors: [], arms: [] };
  const occupancy = new NodeOccupancy();
  const wcs = (deviceClass: SimDeviceClass, id: string): WcsSimOptions => {
    const o: WcsSimOptions = { site: layout.site.id, url: opts.mqttUrl, clock };
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
        const amrOpts: SimulatedAmrOptions = { layout, spec, interfaceName: opts.interfaceName, url: opts.mqttUrl, clock, occupancy, ...opts.amrTiming };
        if (opts.initialBattery !== undefined) amrOpts.initialBattery = opts.initialBattery;
        const c = opts.credentials?.({ deviceClass: 'amr', id: spec.serialNumber });
        if (c !== undefined) Object.assign(amrOpts, c);
        devices.amrs.push(await SimulatedAmr.start(amrOpts));
      }),
      ...layout.devices.asrs.map(async (spec) => devices.asrs.push(await SimulatedAsrs.start(spec, layout, wcs('asrs', spec.id)))),
      ...layout.devices.conveyors.map(async (spec) => devices.conveyors.push(await SimulatedConveyor.start(spec, wcs('conveyor', spec.id)))),
      ...layout.devices.arms.map(async (spec) => devices.arms.push(await SimulatedArm.start(spec, wcs('arm', spec.id)))),
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
    get nodeConflicts() {
      return occupancy.conflicts;
    },
    stop: async () => {
      await stopAll();
      opts.logger?.info({ site: layout.site.id }, 'simulated site stopped');
    },
  };
}
