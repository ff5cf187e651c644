/**
 * The vehicle profile of each vehicle on the floor (src/domain/vehicle-profiles.ts), looked up
 * by manufacturer and model. The model comes from the site layout's AMR list (the registry
 * knows vehicles by serial number only), so a vendor's fleet is described once, in the layout.
 */
import { canRunTrips, profileFor, type VehicleProfile } from '../domain/vehicle-profiles.js';
import type { SiteLayout } from '../domain/site-layout.js';
import type { DeviceView } from './device-registry.js';

const MAX_MANUFACTURERS = 256;

export class FleetProfiles {
  private readonly profiles: readonly VehicleProfile[];
  private readonly modelOf: ReadonlyMap<string, string | undefined>;
  /**
   * Profiles resolved by manufacturer and model (both fixed for a vehicle until its factsheet
   * changes). The dispatcher asks for every free vehicle's profile several times per trip, and
   * resolving one allocates; the profiles themselves never change after start.
   */
  private readonly resolved = new Map<string | undefined, Map<string | undefined, VehicleProfile>>();

  constructor(
    layout: Pick<SiteLayout, 'vehicleProfiles' | 'devices'>,
    /** The registry's watchdog: used for vehicles whose profile names none. */
    private readonly defaultWatchdogMs: number,
  ) {
    this.profiles = layout.vehicleProfiles ?? [];
    this.modelOf = new Map(layout.devices.amrs.map((a) => [a.serialNumber, a.model]));
  }

  of(v: Pick<DeviceView, 'id' | 'manufacturer' | 'serialNumber'>): VehicleProfile {
    const model = this.modelOf.get(v.serialNumber ?? v.id);
    let byModel = this.resolved.get(v.manufacturer);
    if (byModel === undefined) {
      // Manufacturers come from factsheets, so a device could name many: the cache stays small.
      if (this.resolved.size >= MAX_MANUFACTURERS) this.resolved.clear();
      byModel = new Map();
      this.resolved.set(v.manufacturer, byModel);
    }
    let profile = byModel.get(model);
    if (profile === undefined) {
      profile = profileFor(this.profiles, v.manufacturer, model);
      byModel.set(model, profile);
    }
    return profile;
  }

  /** Can it do a trip as its profile says (both actions among what it supports)? */
  canRunTrips(v: DeviceView): boolean {
    return canRunTrips(this.of(v), v.supportedActions);
  }

  /** How long the vehicle may stay silent before it counts as unreachable. */
  watchdogMs(v: DeviceView): number {
    if (v.class !== 'amr') return this.defaultWatchdogMs;
    const s = this.of(v).watchdogSeconds;
    return s === undefined ? this.defaultWatchdogMs : s * 1000;
  }

  /**
   * Reachable under the vehicle's own watchdog: connected (or never said otherwise), heard from
   * within it, and its current state seen (the core sends no order before it has seen state).
   */
  isReachable(v: DeviceView, now: number): boolean {
    if (v.outOfService || v.connection === 'OFFLINE' || v.connection === 'CONNECTIONBROKEN') return false;
    return v.stateSeenAt !== undefined && v.lastSeenAt !== undefined && now - v.lastSeenAt <= this.watchdogMs(v);
  }
}
