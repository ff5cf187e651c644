/**
 * The fulfilment network as sourcing sees it: site profiles from the layout's `network` section
 * (or, without one, this site alone with plain defaults), and where a ship-to lies.
 */
import type { ShipTo } from './records.js';
import type { CarrierMode, SiteProfile } from './sourcing.js';
import type { PostalRegion, SiteLayout } from './site-layout.js';

/**
 * This site alone, when the layout describes no network: one road carrier, so every order ships
 * from here and promise dates still follow cut-off, capacity and transit arithmetic.
 */
export const DEFAULT_HOME_PROFILE = {
  handlingCostPerUnit: 1,
  capacityPerHour: 1000,
  replenishmentDays: 7,
  co2GramsPerKm: { road: 110 } as Partial<Record<CarrierMode, number>>,
  carrier: { id: 'road', mode: 'road', cutoff: '16:00', costPerShipment: 4, costPerKm: 0.002, kmPerDay: 600, minTransitDays: 1 },
} as const;

export function siteProfiles(layout: SiteLayout): SiteProfile[] {
  const home = layout.site;
  if (!layout.network) {
    const d = DEFAULT_HOME_PROFILE;
    return [
      {
        id: home.id,
        name: home.name,
        lat: home.lat,
        lon: home.lon,
        utcOffsetMinutes: 0,
        handlingCostPerUnit: d.handlingCostPerUnit,
        capacityPerHour: d.capacityPerHour,
        replenishmentDays: d.replenishmentDays,
        co2GramsPerKm: d.co2GramsPerKm,
        carriers: [{ ...d.carrier }],
      },
    ];
  }
  return layout.network.sites.map((s) => ({
    id: s.id,
    name: s.name,
    // The checker (site-check.ts) insists other sites carry coordinates; the home site may borrow the layout's.
    lat: s.lat ?? home.lat,
    lon: s.lon ?? home.lon,
    utcOffsetMinutes: s.utcOffsetMinutes ?? 0,
    handlingCostPerUnit: s.handlingCostPerUnit,
    capacityPerHour: s.capacityPerHour,
    replenishmentDays: s.replenishmentDays,
    co2GramsPerKm: s.co2GramsPerKm,
    carriers: s.carriers.map((c) => ({ ...c })),
    ...(s.countries ? { countries: [...s.countries] } : {}),
  }));
}

/**
 * Where the parcel goes: the ship-to's own coordinates, else the longest matching postal prefix
 * of the network's regions, else unknown (then distance cannot tell sites apart).
 */
export function locateShipTo(shipTo: Pick<ShipTo, 'lat' | 'lon' | 'country' | 'postalCode'>, regions: readonly PostalRegion[] = []): { lat: number; lon: number } | undefined {
  if (shipTo.lat !== undefined && shipTo.lon !== undefined) return { lat: shipTo.lat, lon: shipTo.lon };
  const postal = shipTo.postalCode.replace(/\s+/g, '').toUpperCase();
  let best: PostalRegion | undefined;
  for (const r of regions) {
    // Without a country (an availability query) the postal prefix alone decides.
    if ((shipTo.country && r.country !== shipTo.country.toUpperCase()) || !postal || !postal.startsWith(r.prefix.toUpperCase())) continue;
    if (!best || r.prefix.length > best.prefix.length) best = r;
  }
  return best && { lat: best.lat, lon: best.lon };
}
