/**
 * A vehicle's battery report as a test plays it on the wire, and what the core made of it: the
 * ACL tests publish a state as one vehicle (genuine) or as another (forged) and look at which
 * battery levels reached the core.
 */
import { encodeVda } from '../../protocols/index.js';
import { idleVehicleState } from '../../src/app/testing/vda-state.js';
import type { Harness } from './harness.js';

/** An encoded VDA 5050 state of an idle vehicle with no order, reporting `battery` percent. */
export function idleVdaState(manufacturer: string, serialNumber: string, battery: number): string {
  return encodeVda('state', idleVehicleState({ manufacturer, serialNumber, startNode: '' }, { batteryState: { batteryCharge: battery, charging: false } }));
}

/** Every battery level the core publishes for `deviceId` from now on, in order (the array fills as they come). */
export function batteriesSeenByCore(h: Harness, deviceId: string): number[] {
  const seen: number[] = [];
  h.core.notifier.subscribe((e) => {
    const d = e.data as { id?: string; battery?: number } | undefined;
    if (e.type === 'device.updated' && d?.id === deviceId && d.battery !== undefined) seen.push(d.battery);
  });
  return seen;
}
