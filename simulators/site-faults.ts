/**
 * Switches seeded fault injection on for every device of a simulated site. Each device draws
 * from its own stream (`faults:<class>:<id>` forked from the run seed), so the same seed gives
 * the same faults and adding a robot does not move the conveyor's jams.
 */
import type { SimClock } from './clock.js';
import { scheduleFaults, type FaultConfig, type FaultDeviceClass, type Faultable } from './faults.js';
import { createRng } from './random.js';
import type { SimulatedDevices } from './site-sim.js';

export interface SiteFaults {
  /** No further faults are started (faults in effect still end on their own). */
  stop(): void;
}

/** Starts the configured faults; an empty config (the default of a run) starts nothing. */
export function startSiteFaults(devices: SimulatedDevices, clock: SimClock, seed: number, config: FaultConfig): SiteFaults {
  const root = createRng(seed).fork('faults');
  const stops: (() => void)[] = [];
  const add = (deviceClass: FaultDeviceClass, id: string, device: Faultable): void => {
    const rates = config[deviceClass];
    if (rates === undefined || Object.keys(rates).length === 0) return;
    stops.push(scheduleFaults(clock, root.fork(`${deviceClass}:${id}`), rates, device));
  };
  for (const d of devices.amrs) add('amr', d.serialNumber, d);
  for (const d of devices.asrs) add('asrs', d.device.deviceId, d);
  for (const d of devices.conveyors) add('conveyor', d.device.deviceId, d);
  for (const d of devices.arms) add('arm', d.device.deviceId, d);
  return {
    stop: () => {
      for (const s of stops) s();
    },
  };
}
