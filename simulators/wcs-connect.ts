/** Connection settings shared by the simulated wcs/v1 devices. */
import { WcsDevice, type DeviceLink, type WcsDeviceOptions } from '../devices/index.js';
import type { SimClock } from './clock.js';

export interface WcsSimOptions {
  site: string;
  url?: string;
  link?: DeviceLink;
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
  if (sim.username !== undefined) opts.username = sim.username;
  if (sim.password !== undefined) opts.password = sim.password;
  return WcsDevice.connect(opts);
}
