/** Connection settings shared by the simulated wcs/v1 devices. */
import { WcsDevice, type DeviceLink, type LastWill, type WcsDeviceOptions } from '../devices/index.js';
import type { SimClock } from './clock.js';

/**
 * Makes a device's connection: given the client id and last will an MQTT connection would
 * carry, returns a link (an MQTT one live, an in-memory one in fast runs).
 */
export type LinkFactory = (clientId: string, will: LastWill) => Promise<DeviceLink>;

export interface WcsSimOptions {
  site: string;
  url?: string;
  link?: DeviceLink;
  /** Wins over `url`: each device gets its own link from it, with its own last will. */
  linkFactory?: LinkFactory;
  clock: SimClock;
  username?: string;
  password?: string;
  /** Telemetry period, 1000 ms by default. */
  telemetryMs?: number;
}

export async function connectWcsDevice(
  sim: WcsSimOptions,
  device: Pick<WcsDeviceOptions, 'deviceClass' | 'deviceId' | 'model' | 'supportedActions' | 'capacities'>,
): Promise<WcsDevice> {
  const opts: WcsDeviceOptions = { ...device, site: sim.site, manufacturer: 'pickwire-sim', now: () => sim.clock.now() };
  if (sim.url !== undefined) opts.url = sim.url;
  if (sim.link !== undefined) opts.link = sim.link;
  else if (sim.linkFactory !== undefined) opts.link = await sim.linkFactory(`${sim.site}-${device.deviceClass}-${device.deviceId}`, WcsDevice.lastWill(opts));
  if (sim.username !== undefined) opts.username = sim.username;
  if (sim.password !== undefined) opts.password = sim.password;
  return WcsDevice.connect(opts);
}
