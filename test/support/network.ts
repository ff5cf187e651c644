/**
 * A three-site fulfilment network around the demo floor (Dortmund): Hamburg and Munich are
 * other sites this core sources to. Hamburg is cheaper to handle in, Munich ships by road and
 * air. Figures are plausible, not any carrier's price list.
 */
import type { NetworkSpec } from '../../src/domain/site-layout.js';

export interface RemoteStock {
  hamburg?: { sku: string; onHand: number }[];
  munich?: { sku: string; onHand: number }[];
}

export const CUSTOMERS = {
  /** Hamburg-Altona: nearest to the Hamburg site. */
  hamburg: { lat: 53.55, lon: 9.93, postalCode: '22765', country: 'DE' },
  /** Munich-Schwabing: nearest to the Munich site. */
  munich: { lat: 48.16, lon: 11.58, postalCode: '80802', country: 'DE' },
  /** Essen: nearest to the demo site in Dortmund. */
  essen: { lat: 51.45, lon: 7.01, postalCode: '45127', country: 'DE' },
} as const;

/** Every site ships within these countries (an order to anywhere else is unroutable). */
const EUROPE = ['DE', 'AT', 'CH', 'NL', 'BE', 'LU', 'FR', 'DK', 'PL', 'CZ'];

export function threeSiteNetwork(stock: RemoteStock = {}): NetworkSpec {
  const road = { id: 'road', mode: 'road' as const, cutoff: '16:00', costPerShipment: 4.5, costPerKm: 0.004, kmPerDay: 600, minTransitDays: 1 };
  return {
    sites: [
      { id: 'demo', name: 'Dortmund (this floor)', handlingCostPerUnit: 1.2, capacityPerHour: 900, replenishmentDays: 5, co2GramsPerKm: { road: 110 }, carriers: [road], countries: EUROPE },
      {
        id: 'hamburg',
        name: 'Hamburg DC',
        lat: 53.55,
        lon: 9.99,
        handlingCostPerUnit: 0.6,
        capacityPerHour: 600,
        replenishmentDays: 7,
        co2GramsPerKm: { road: 110 },
        carriers: [road],
        countries: EUROPE,
        stock: stock.hamburg ?? [],
      },
      {
        id: 'munich',
        name: 'Munich DC',
        lat: 48.14,
        lon: 11.58,
        handlingCostPerUnit: 2.5,
        capacityPerHour: 400,
        replenishmentDays: 3,
        co2GramsPerKm: { road: 110, air: 650 },
        carriers: [road, { id: 'air', mode: 'air', cutoff: '18:00', costPerShipment: 25, costPerKm: 0.03, kmPerDay: 5000, minTransitDays: 1 }],
        countries: EUROPE,
        stock: stock.munich ?? [],
      },
    ],
    regions: [
      { country: 'DE', prefix: '2', lat: 53.55, lon: 9.99 },
      { country: 'DE', prefix: '8', lat: 48.14, lon: 11.58 },
      { country: 'DE', prefix: '4', lat: 51.45, lon: 7.2 },
    ],
  };
}
